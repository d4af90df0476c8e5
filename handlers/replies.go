package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sendara/console/models"
	"github.com/sendara/console/views"
)

func (s *Server) replyQueue(c echo.Context) (views.ReplyQueue, error) {
	a := actor(c)
	p := views.ReplyQueue{CanWrite: s.allowed(c, "replies", "write"), Loc: s.cfg.Location,
		Today: time.Now().In(s.cfg.Location).Format(time.DateOnly)}
	if a.Staff() {
		names, _, err := s.customerChoices(c)
		if err != nil {
			return p, err
		}
		p.Customers = names
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
	if err := s.db.Record(ctx, a, models.Audit{Action: "reply.list", ObjectType: "contact", CustomerID: a.CustomerID,
		Details: map[string]any{"results": len(p.Replies)}}); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.Replies(p))
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
