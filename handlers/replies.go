package handlers

import (
	calendar "github.com/sendara/console/models/calendar"
	customers "github.com/sendara/console/models/customers"

	"net/http"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/views"
)

func (s *Server) replyQueue(c echo.Context) (views.ReplyQueue, error) {
	a := actor(c)
	p := views.ReplyQueue{CanWrite: s.allowed(c, "replies", "write"), Loc: s.cfg.Location,
		Today: calendar.TodayIn(s.cfg.Location)}
	if a.Staff() {
		names, _, err := s.customerChoices(c)
		if err != nil {
			return p, err
		}
		p.Customers = names
	} else if s.allowed(c, "help_text", "write") {
		cust, err := s.db.Customer(c.Request().Context(), a, a.CustomerID)
		if err != nil {
			return p, err
		}
		p.Help = &views.HelpTextForm{Text: cust.HelpText, Default: customers.DefaultHelpText(cust.Name, cust.ContactEmail)}
	}
	return p, nil
}

// replies is the review queue, oldest first; viewing it is audited.
func (s *Server) replies(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	p, err := s.replyQueue(c)
	if err != nil {
		return err
	}
	if p.Replies, err = s.db.ReviewQueue(ctx, a, "", 200); err != nil {
		return err
	}
	if err := s.db.Record(ctx, a, store.Audit{Action: "reply.list", ObjectType: "contact", CustomerID: a.CustomerID,
		Details: map[string]any{"results": len(p.Replies)}}); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.Replies(p))
}

// replyHelpText sets the customer's answer to HELP replies.
func (s *Server) replyHelpText(c echo.Context) error {
	a := actor(c)
	_, err := s.db.SetHelpText(c.Request().Context(), a, a.CustomerID, c.FormValue("help_text"))
	if err == nil {
		s.flash(c, "Answer to HELP saved.")
		return redirect(c, "/replies")
	}
	errs, err := formErrors(err)
	if err != nil {
		return err
	}
	p, err := s.replyQueue(c)
	if err != nil {
		return err
	}
	if p.Replies, err = s.db.ReviewQueue(c.Request().Context(), a, "", 200); err != nil {
		return err
	}
	if p.Help != nil {
		p.Help.Text, p.Help.Errors = c.FormValue("help_text"), errs
	}
	return s.render(c, http.StatusUnprocessableEntity, views.Replies(p))
}

// replyDecide records a decision; with htmx the row is swapped in place.
func (s *Server) replyDecide(c echo.Context) error {
	r, err := s.db.DecideReply(c.Request().Context(), actor(c), c.Param("id"), c.FormValue("decision"), c.FormValue("note"))
	if err != nil {
		return err
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		p, err := s.replyQueue(c)
		if err != nil {
			return err
		}
		decided, err := s.db.Reply(c.Request().Context(), actor(c), r.ID)
		if err != nil {
			return err
		}
		return s.render(c, http.StatusOK, views.ReplyRow(p, *decided))
	}
	s.flash(c, "Decision recorded.")
	return redirect(c, "/replies")
}
