package contacts

import (
	"github.com/sendara/console/handlers/web"
	calendar "github.com/sendara/console/models/calendar"
	customers "github.com/sendara/console/models/customers"
	"github.com/sendara/console/views/contactpages"

	"net/http"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
)

func (s *Handlers) replyQueue(c echo.Context) (contactpages.ReplyQueue, error) {
	a := web.Actor(c)
	p := contactpages.ReplyQueue{CanWrite: s.Allowed(c, "replies", "write"), Loc: s.Cfg.Location,
		Today: calendar.TodayIn(s.Cfg.Location)}
	if a.Staff() {
		names, _, err := s.CustomerChoices(c)
		if err != nil {
			return p, err
		}
		p.Customers = names
	} else if s.Allowed(c, "help_text", "write") {
		cust, err := s.DB.Customer(c.Request().Context(), a, a.CustomerID)
		if err != nil {
			return p, err
		}
		p.Help = &contactpages.HelpTextForm{Text: cust.HelpText, Default: customers.DefaultHelpText(cust.Name, cust.ContactEmail)}
	}
	return p, nil
}

// replies is the review queue, oldest first; viewing it is audited.
func (s *Handlers) replies(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	p, err := s.replyQueue(c)
	if err != nil {
		return err
	}
	if p.Replies, err = s.DB.ReviewQueue(ctx, a, "", 200); err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "reply.list", ObjectType: "contact", CustomerID: a.CustomerID,
		Details: map[string]any{"results": len(p.Replies)}}); err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, contactpages.Replies(p))
}

// replyHelpText sets the customer's answer to HELP replies.
func (s *Handlers) replyHelpText(c echo.Context) error {
	a := web.Actor(c)
	_, err := s.DB.SetHelpText(c.Request().Context(), a, a.CustomerID, c.FormValue("help_text"))
	if err == nil {
		s.Flash(c, "Answer to HELP saved.")
		return web.Redirect(c, "/replies")
	}
	errs, err := web.FormErrors(err)
	if err != nil {
		return err
	}
	p, err := s.replyQueue(c)
	if err != nil {
		return err
	}
	if p.Replies, err = s.DB.ReviewQueue(c.Request().Context(), a, "", 200); err != nil {
		return err
	}
	if p.Help != nil {
		p.Help.Text, p.Help.Errors = c.FormValue("help_text"), errs
	}
	return s.Render(c, http.StatusUnprocessableEntity, contactpages.Replies(p))
}

// replyDecide records a decision; with htmx the row is swapped in place.
func (s *Handlers) replyDecide(c echo.Context) error {
	r, err := s.DB.DecideReply(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("decision"), c.FormValue("note"))
	if err != nil {
		return err
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		p, err := s.replyQueue(c)
		if err != nil {
			return err
		}
		decided, err := s.DB.Reply(c.Request().Context(), web.Actor(c), r.ID)
		if err != nil {
			return err
		}
		return s.Render(c, http.StatusOK, contactpages.ReplyRow(p, *decided))
	}
	s.Flash(c, "Decision recorded.")
	return web.Redirect(c, "/replies")
}
