package lifecycle

import (
	"github.com/sendara/console/handlers/web"
	calendar "github.com/sendara/console/models/calendar"
	errs "github.com/sendara/console/models/errs"
	"github.com/sendara/console/views/lifecyclepages"

	registers "github.com/sendara/console/models/registers"

	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
)

// disclosures is the register of demands from authorities and courts with
// the yearly counts for the transparency report. What was disclosed may
// be about people, so each view is audited.
func (s *Handlers) disclosures(c echo.Context) error {
	return s.renderDisclosures(c, http.StatusOK, lifecyclepages.DisclosureForm{})
}

func (s *Handlers) renderDisclosures(c echo.Context, status int, f lifecyclepages.DisclosureForm) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	list, err := s.DB.Disclosures(ctx, a)
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "legal_disclosure.list", ObjectType: "legal_disclosure",
		Details: map[string]any{"results": len(list)}}); err != nil {
		return err
	}
	p := lifecyclepages.DisclosuresPage{List: list, Form: f, CanWrite: s.Allowed(c, "legal_disclosures", "write")}
	p.Years, err = s.DB.TransparencyReport(ctx, a)
	if err != nil {
		return err
	}
	if p.CanWrite {
		if p.Customers, err = s.DB.Customers(ctx, a); err != nil {
			return err
		}
	}
	return s.Render(c, status, lifecyclepages.Disclosures(p))
}

func optionalDate(field, v string) (calendar.Date, error) {
	if strings.TrimSpace(v) == "" {
		return calendar.Date{}, nil
	}
	return formDate(field, v)
}

func (s *Handlers) disclosureCreate(c echo.Context) error {
	f := lifecyclepages.DisclosureForm{ReceivedOn: c.FormValue("received_on"), Authority: c.FormValue("authority"), Kind: c.FormValue("kind"),
		CustomerID: c.FormValue("customer_id"), Disclosed: c.FormValue("disclosed"), DisclosedOn: c.FormValue("disclosed_on"),
		CustomerTold: c.FormValue("customer_told") == "yes", NotToldReason: c.FormValue("not_told_reason")}
	err := func() error {
		received, err := formDate("received_on", f.ReceivedOn)
		if err != nil {
			return err
		}
		disclosed, err := optionalDate("disclosed_on", f.DisclosedOn)
		if err != nil {
			return err
		}
		_, err = s.DB.RecordDisclosure(c.Request().Context(), web.Actor(c), registers.DisclosureInput{ReceivedOn: received, Authority: f.Authority,
			Kind: f.Kind, CustomerID: f.CustomerID, Disclosed: f.Disclosed, DisclosedOn: disclosed, CustomerTold: f.CustomerTold,
			NotToldReason: f.NotToldReason}, calendar.TodayIn(s.Cfg.Business.Loc))
		return err
	}()
	if err != nil {
		if f.Errors, err = web.FormErrors(err); err != nil {
			return err
		}
		return s.renderDisclosures(c, http.StatusUnprocessableEntity, f)
	}
	s.Flash(c, "Demand recorded.")
	return web.Redirect(c, "/legal-disclosures")
}

// transparencyCSV is the yearly counts as CSV: figures only.
func (s *Handlers) transparencyCSV(c echo.Context) error {
	years, err := s.DB.TransparencyReport(c.Request().Context(), web.Actor(c))
	if err != nil {
		return err
	}
	out := web.StartCSV(c, "transparency-report.csv", registers.TransparencyColumns)
	var werr error
	for _, y := range years {
		if werr = out.Write(y.Record()); werr != nil {
			break
		}
	}
	if err := out.Close(werr); err != nil {
		s.Log.Error("transparency report interrupted", "request_id", web.RequestID(c), "err", err)
	}
	return nil
}

// requestNoSaleAnswer sends the standard "Sendara does not sell personal
// information" answer to an opt-out of sale or sharing.
func (s *Handlers) requestNoSaleAnswer(c echo.Context) error {
	if err := s.DB.AnswerNoSale(c.Request().Context(), web.Actor(c), c.Param("id")); err != nil {
		if _, ok := errs.AsConflict(err); ok {
			s.Flash(c, err.Error())
			return web.Redirect(c, "/requests/"+c.Param("id"))
		}
		return err
	}
	s.Flash(c, "The no-sale statement was queued to the requester. Close the request when done: it is logged and counted like any other.")
	return web.Redirect(c, "/requests/"+c.Param("id"))
}
