package lifecycle

import (
	"github.com/sendara/console/handlers/web"
	errs "github.com/sendara/console/models/errs"
	registers "github.com/sendara/console/models/registers"
	"github.com/sendara/console/views/lifecyclepages"

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
func (s *Handlers) parseLocalTime(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, errs.Invalid(field, "is required")
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, s.Cfg.Business.Loc); err == nil {
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
func (s *Handlers) incidents(c echo.Context) error {
	return s.renderIncidents(c, http.StatusOK, lifecyclepages.IncidentForm{}, lifecyclepages.IncidentForm{})
}

func (s *Handlers) renderIncidents(c echo.Context, status int, create, report lifecyclepages.IncidentForm) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	list, err := s.DB.Incidents(ctx, a)
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "incident.list", ObjectType: "incident", CustomerID: a.CustomerID,
		Details: map[string]any{"results": len(list)}}); err != nil {
		return err
	}
	p := lifecyclepages.IncidentsPage{Incidents: list, Staff: a.Staff(), CanWrite: s.Allowed(c, "incidents", "write"),
		CanReport: s.Allowed(c, "incidents", "report"), CanSettings: s.Allowed(c, "incidents", "settings"),
		Create: create, Report: report, Now: store.Now(), Loc: s.Cfg.Business.Loc}
	if p.NoticeHours, err = s.DB.IncidentNoticeHours(ctx); err != nil {
		return err
	}
	if p.CanWrite {
		if p.Customers, err = s.DB.Customers(ctx, a); err != nil {
			return err
		}
	}
	return s.Render(c, status, lifecyclepages.Incidents(p))
}

func incidentFormOf(c echo.Context) lifecyclepages.IncidentForm {
	f := c.Request().Form
	return lifecyclepages.IncidentForm{Title: c.FormValue("title"), Description: c.FormValue("description"), Categories: f["categories"],
		DiscoveredAt: c.FormValue("discovered_at"), CustomerID: c.FormValue("customer_id"), Count: c.FormValue("count")}
}

// incidentCreate registers an incident Sendara found, with its first
// affected customer if one is chosen.
func (s *Handlers) incidentCreate(c echo.Context) error {
	f := incidentFormOf(c)
	inc, err := s.createIncident(c, f)
	if err == nil {
		s.Flash(c, "Incident "+inc.Reference+" registered.")
		return web.Redirect(c, "/incidents/"+inc.ID)
	}
	if f.Errors, err = web.FormErrors(err); err != nil {
		return err
	}
	return s.renderIncidents(c, http.StatusUnprocessableEntity, f, lifecyclepages.IncidentForm{})
}

func (s *Handlers) createIncident(c echo.Context, f lifecyclepages.IncidentForm) (*registers.Incident, error) {
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
	inc, err := s.DB.CreateIncident(c.Request().Context(), web.Actor(c), in)
	if v, ok := errs.AsValidation(err); ok && strings.HasPrefix(v.Field, "affected[") {
		return nil, errs.Invalid("customer_id", "%s", v.Message)
	}
	return inc, err
}

// incidentReport is a customer reporting a breach of its own to Sendara.
func (s *Handlers) incidentReport(c echo.Context) error {
	f := incidentFormOf(c)
	inc, err := s.reportIncident(c, f)
	if err == nil {
		s.Flash(c, "Thank you: Sendara's privacy team was told of "+inc.Reference+" and will update its timeline.")
		return web.Redirect(c, "/incidents/"+inc.ID)
	}
	if f.Errors, err = web.FormErrors(err); err != nil {
		return err
	}
	return s.renderIncidents(c, http.StatusUnprocessableEntity, lifecyclepages.IncidentForm{}, f)
}

func (s *Handlers) reportIncident(c echo.Context, f lifecyclepages.IncidentForm) (*registers.Incident, error) {
	at, err := s.parseLocalTime("discovered_at", f.DiscoveredAt)
	if err != nil {
		return nil, err
	}
	n, err := formCount("count", f.Count)
	if err != nil {
		return nil, err
	}
	return s.DB.ReportIncident(c.Request().Context(), web.Actor(c), registers.CustomerReportInput{Title: f.Title, Description: f.Description,
		Categories: f.Categories, DiscoveredAt: at, AffectedCount: n})
}

// incident shows one incident: its customers with their notice deadline
// and the timeline. A customer's user sees it only if it is affected, and
// only its own line.
func (s *Handlers) incident(c echo.Context) error {
	return s.renderIncident(c, http.StatusOK, nil)
}

func (s *Handlers) renderIncident(c echo.Context, status int, errs views.Errors) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	inc, err := s.DB.Incident(ctx, a, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "incident.view", ObjectType: "incident", ObjectID: inc.ID, CustomerID: a.CustomerID}); err != nil {
		return err
	}
	p := lifecyclepages.IncidentPage{Incident: inc, CanWrite: s.Allowed(c, "incidents", "write"), Errors: errs, Now: store.Now(), Loc: s.Cfg.Business.Loc}
	if p.CanWrite {
		if p.Customers, err = s.DB.Customers(ctx, a); err != nil {
			return err
		}
	}
	return s.Render(c, status, lifecyclepages.IncidentDetail(p))
}

// incidentFailed re-renders the incident with a form's error, or passes
// on an error that is not about input.
func (s *Handlers) incidentFailed(c echo.Context, err error) error {
	errs, err := web.FormErrors(err)
	if err != nil {
		return err
	}
	return s.renderIncident(c, http.StatusUnprocessableEntity, errs)
}

func (s *Handlers) incidentAddCustomer(c echo.Context) error {
	n, err := formCount("count", c.FormValue("count"))
	if err == nil {
		err = s.DB.AffectCustomer(c.Request().Context(), web.Actor(c), c.Param("id"), registers.AffectedInput{CustomerID: c.FormValue("customer_id"), Count: n})
	}
	if err != nil {
		return s.incidentFailed(c, err)
	}
	s.Flash(c, "Affected customer saved.")
	return web.Redirect(c, "/incidents/"+c.Param("id"))
}

func (s *Handlers) incidentNotices(c echo.Context) error {
	n, err := s.DB.SendIncidentNotices(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("customer_id"), s.Cfg.BaseURL)
	if err != nil {
		return s.incidentFailed(c, err)
	}
	s.Flash(c, fmt.Sprintf("Notice queued in the outbox for %d customer(s).", n))
	return web.Redirect(c, "/incidents/"+c.Param("id"))
}

func (s *Handlers) incidentStatus(c echo.Context) error {
	if err := s.DB.SetIncidentStatus(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("status"), c.FormValue("note")); err != nil {
		return s.incidentFailed(c, err)
	}
	s.Flash(c, "Status changed.")
	return web.Redirect(c, "/incidents/"+c.Param("id"))
}

func (s *Handlers) incidentNote(c echo.Context) error {
	if err := s.DB.AddIncidentNote(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("text")); err != nil {
		return s.incidentFailed(c, err)
	}
	s.Flash(c, "Added to the timeline.")
	return web.Redirect(c, "/incidents/"+c.Param("id"))
}

// incidentSettings changes how many hours after discovery an affected
// customer must be told (the contract's default is 24).
func (s *Handlers) incidentSettings(c echo.Context) error {
	hours, err := strconv.Atoi(strings.TrimSpace(c.FormValue("hours")))
	if err != nil {
		err = errs.Invalid("hours", "must be a whole number of hours")
	} else {
		err = s.DB.SetIncidentNoticeHours(c.Request().Context(), web.Actor(c), hours)
	}
	if err != nil {
		errs, err := web.FormErrors(err)
		if err != nil {
			return err
		}
		return s.renderIncidents(c, http.StatusUnprocessableEntity, lifecyclepages.IncidentForm{Errors: errs}, lifecyclepages.IncidentForm{})
	}
	s.Flash(c, fmt.Sprintf("Affected customers of new incidents must now be told within %d hours of discovery.", hours))
	return web.Redirect(c, "/incidents")
}

// incidentFromRequest opens an incident from a mailbox report of a
// compromised account.
func (s *Handlers) incidentFromRequest(c echo.Context) error {
	inc, err := s.DB.IncidentFromRequest(c.Request().Context(), web.Actor(c), c.Param("id"))
	if err != nil {
		if _, ok := errs.AsConflict(err); ok {
			s.Flash(c, err.Error())
			return web.Redirect(c, "/requests/"+c.Param("id"))
		}
		return err
	}
	s.Flash(c, "Incident "+inc.Reference+" opened: add the affected customers and send their notices.")
	return web.Redirect(c, "/incidents/"+inc.ID)
}
