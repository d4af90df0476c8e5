package handlers

import (
	errs "github.com/sendara/console/models/errs"
	registers "github.com/sendara/console/models/registers"

	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/views"
)

// parseLocalTime reads a datetime-local field in the business time zone.
func (s *Server) parseLocalTime(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, errs.Invalid(field, "is required")
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, s.cfg.Business.Loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errs.Invalid(field, "must be a date and time such as 2026-05-10T14:30")
}

func formCount(field, v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errs.Invalid(field, "must be a whole number of people, 0 or more")
	}
	return n, nil
}

// incidents is the breach register: every incident for staff, the ones
// affecting its customer for a customer's user. Each view is audited (the
// descriptions may name people).
func (s *Server) incidents(c echo.Context) error {
	return s.renderIncidents(c, http.StatusOK, views.IncidentForm{}, views.IncidentForm{})
}

func (s *Server) renderIncidents(c echo.Context, status int, create, report views.IncidentForm) error {
	ctx, a := c.Request().Context(), actor(c)
	list, err := s.db.Incidents(ctx, a)
	if err != nil {
		return err
	}
	if err := s.db.Record(ctx, a, store.Audit{Action: "incident.list", ObjectType: "incident", CustomerID: a.CustomerID,
		Details: map[string]any{"results": len(list)}}); err != nil {
		return err
	}
	p := views.IncidentsPage{Incidents: list, Staff: a.Staff(), CanWrite: s.allowed(c, "incidents", "write"),
		CanReport: s.allowed(c, "incidents", "report"), CanSettings: s.allowed(c, "incidents", "settings"),
		Create: create, Report: report, Now: store.Now(), Loc: s.cfg.Business.Loc}
	if p.NoticeHours, err = s.db.IncidentNoticeHours(ctx); err != nil {
		return err
	}
	if p.CanWrite {
		if p.Customers, err = s.db.Customers(ctx, a); err != nil {
			return err
		}
	}
	return s.render(c, status, views.Incidents(p))
}

func incidentFormOf(c echo.Context) views.IncidentForm {
	f := c.Request().Form
	return views.IncidentForm{Title: c.FormValue("title"), Description: c.FormValue("description"), Categories: f["categories"],
		DiscoveredAt: c.FormValue("discovered_at"), CustomerID: c.FormValue("customer_id"), Count: c.FormValue("count")}
}

// incidentCreate registers an incident Sendara found, with its first
// affected customer if one is chosen.
func (s *Server) incidentCreate(c echo.Context) error {
	f := incidentFormOf(c)
	inc, err := s.createIncident(c, f)
	if err == nil {
		s.flash(c, "Incident "+inc.Reference+" registered.")
		return redirect(c, "/incidents/"+inc.ID)
	}
	if f.Errors, err = formErrors(err); err != nil {
		return err
	}
	return s.renderIncidents(c, http.StatusUnprocessableEntity, f, views.IncidentForm{})
}

func (s *Server) createIncident(c echo.Context, f views.IncidentForm) (*registers.Incident, error) {
	at, err := s.parseLocalTime("discovered_at", f.DiscoveredAt)
	if err != nil {
		return nil, err
	}
	in := registers.IncidentInput{Title: f.Title, Description: f.Description, Categories: f.Categories, DiscoveredAt: at}
	if f.CustomerID != "" {
		n, err := formCount("count", f.Count)
		if err != nil {
			return nil, err
		}
		in.Affected = []registers.AffectedInput{{CustomerID: f.CustomerID, Count: n}}
	}
	inc, err := s.db.CreateIncident(c.Request().Context(), actor(c), in)
	if v, ok := errs.AsValidation(err); ok && strings.HasPrefix(v.Field, "affected[") {
		return nil, errs.Invalid("customer_id", "%s", v.Message)
	}
	return inc, err
}

// incidentReport is a customer reporting a breach of its own to Sendara.
func (s *Server) incidentReport(c echo.Context) error {
	f := incidentFormOf(c)
	inc, err := s.reportIncident(c, f)
	if err == nil {
		s.flash(c, "Thank you: Sendara's privacy team was told of "+inc.Reference+" and will update its timeline.")
		return redirect(c, "/incidents/"+inc.ID)
	}
	if f.Errors, err = formErrors(err); err != nil {
		return err
	}
	return s.renderIncidents(c, http.StatusUnprocessableEntity, views.IncidentForm{}, f)
}

func (s *Server) reportIncident(c echo.Context, f views.IncidentForm) (*registers.Incident, error) {
	at, err := s.parseLocalTime("discovered_at", f.DiscoveredAt)
	if err != nil {
		return nil, err
	}
	n, err := formCount("count", f.Count)
	if err != nil {
		return nil, err
	}
	return s.db.ReportIncident(c.Request().Context(), actor(c), registers.CustomerReportInput{Title: f.Title, Description: f.Description,
		Categories: f.Categories, DiscoveredAt: at, AffectedCount: n})
}

// incident shows one incident: its customers with their notice deadline
// and the timeline. A customer's user sees it only if it is affected, and
// only its own line.
func (s *Server) incident(c echo.Context) error {
	return s.renderIncident(c, http.StatusOK, nil)
}

func (s *Server) renderIncident(c echo.Context, status int, errs views.Errors) error {
	ctx, a := c.Request().Context(), actor(c)
	inc, err := s.db.Incident(ctx, a, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.db.Record(ctx, a, store.Audit{Action: "incident.view", ObjectType: "incident", ObjectID: inc.ID, CustomerID: a.CustomerID}); err != nil {
		return err
	}
	p := views.IncidentPage{Incident: inc, CanWrite: s.allowed(c, "incidents", "write"), Errors: errs, Now: store.Now(), Loc: s.cfg.Business.Loc}
	if p.CanWrite {
		if p.Customers, err = s.db.Customers(ctx, a); err != nil {
			return err
		}
	}
	return s.render(c, status, views.IncidentDetail(p))
}

// incidentFailed re-renders the incident with a form's error, or passes
// on an error that is not about input.
func (s *Server) incidentFailed(c echo.Context, err error) error {
	errs, err := formErrors(err)
	if err != nil {
		return err
	}
	return s.renderIncident(c, http.StatusUnprocessableEntity, errs)
}

func (s *Server) incidentAddCustomer(c echo.Context) error {
	n, err := formCount("count", c.FormValue("count"))
	if err == nil {
		err = s.db.AffectCustomer(c.Request().Context(), actor(c), c.Param("id"), registers.AffectedInput{CustomerID: c.FormValue("customer_id"), Count: n})
	}
	if err != nil {
		return s.incidentFailed(c, err)
	}
	s.flash(c, "Affected customer saved.")
	return redirect(c, "/incidents/"+c.Param("id"))
}

func (s *Server) incidentNotices(c echo.Context) error {
	n, err := s.db.SendIncidentNotices(c.Request().Context(), actor(c), c.Param("id"), c.FormValue("customer_id"), s.cfg.BaseURL)
	if err != nil {
		return s.incidentFailed(c, err)
	}
	s.flash(c, fmt.Sprintf("Notice queued in the outbox for %d customer(s).", n))
	return redirect(c, "/incidents/"+c.Param("id"))
}

func (s *Server) incidentStatus(c echo.Context) error {
	if err := s.db.SetIncidentStatus(c.Request().Context(), actor(c), c.Param("id"), c.FormValue("status"), c.FormValue("note")); err != nil {
		return s.incidentFailed(c, err)
	}
	s.flash(c, "Status changed.")
	return redirect(c, "/incidents/"+c.Param("id"))
}

func (s *Server) incidentNote(c echo.Context) error {
	if err := s.db.AddIncidentNote(c.Request().Context(), actor(c), c.Param("id"), c.FormValue("text")); err != nil {
		return s.incidentFailed(c, err)
	}
	s.flash(c, "Added to the timeline.")
	return redirect(c, "/incidents/"+c.Param("id"))
}

// incidentSettings changes how many hours after discovery an affected
// customer must be told (the contract's default is 24).
func (s *Server) incidentSettings(c echo.Context) error {
	hours, err := strconv.Atoi(strings.TrimSpace(c.FormValue("hours")))
	if err != nil {
		err = errs.Invalid("hours", "must be a whole number of hours")
	} else {
		err = s.db.SetIncidentNoticeHours(c.Request().Context(), actor(c), hours)
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.renderIncidents(c, http.StatusUnprocessableEntity, views.IncidentForm{Errors: errs}, views.IncidentForm{})
	}
	s.flash(c, fmt.Sprintf("Affected customers of new incidents must now be told within %d hours of discovery.", hours))
	return redirect(c, "/incidents")
}

// incidentFromRequest opens an incident from a mailbox report of a
// compromised account.
func (s *Server) incidentFromRequest(c echo.Context) error {
	inc, err := s.db.IncidentFromRequest(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		if _, ok := errs.AsConflict(err); ok {
			s.flash(c, err.Error())
			return redirect(c, "/requests/"+c.Param("id"))
		}
		return err
	}
	s.flash(c, "Incident "+inc.Reference+" opened: add the affected customers and send their notices.")
	return redirect(c, "/incidents/"+inc.ID)
}
