package handlers

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/sendara/console/models"
	"github.com/sendara/console/views"
)

const auditPageSize = 100

func (s *Server) audit(c echo.Context) error {
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	f := models.AuditFilter{Action: c.QueryParam("action"), Actor: c.QueryParam("actor"), Object: c.QueryParam("object"),
		Before: before, Limit: auditPageSize}
	ctx, a := c.Request().Context(), actor(c)
	events, err := s.db.ListAudit(ctx, a, f)
	if err != nil {
		return err
	}
	// Reading the log is itself on the log: who looked, with which filter.
	if err := s.db.Record(ctx, a, models.Audit{Action: "audit.view", ObjectType: "audit_log", CustomerID: a.CustomerID,
		Details: map[string]any{"action": f.Action, "actor": f.Actor, "object": f.Object, "before": f.Before, "results": len(events)}}); err != nil {
		return err
	}
	p := views.AuditList{Events: events, Action: f.Action, Actor: f.Actor, Object: f.Object,
		CanVerify: s.allowed(c, "audit", "verify"), Loc: s.cfg.Location}
	if len(events) == auditPageSize {
		q := url.Values{"action": {f.Action}, "actor": {f.Actor}, "object": {f.Object},
			"before": {strconv.FormatInt(events[len(events)-1].Seq, 10)}}
		p.OlderHref = "/audit?" + q.Encode()
	}
	return s.render(c, http.StatusOK, views.Audit(p))
}

// auditVerify walks the whole chain and records that it was checked.
func (s *Server) auditVerify(c echo.Context) error {
	ctx := c.Request().Context()
	rep, err := s.db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if err := s.db.Record(ctx, actor(c), models.Audit{Action: "audit.verify", ObjectType: "audit_log",
		Details: map[string]any{"entries": rep.Entries, "intact": rep.Intact(), "bad_seq": rep.BadSeq}}); err != nil {
		return err
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		return s.render(c, http.StatusOK, views.VerifyResult(rep))
	}
	return s.render(c, http.StatusOK, views.VerifyPage(rep))
}
