package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	registers "github.com/sendara/console/models/registers"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/views"
)

// retentionRoutes are the retention rules, holds on customers and
// requests, the dry run and the sweep on demand. The pages show rules,
// counts and references, no personal data, so viewing them is not
// audited; the dry run and every change are.
func (s *Server) retentionRoutes() []route {
	get, post := http.MethodGet, http.MethodPost
	return []route{
		{Method: get, Path: "/retention", Handler: s.retention, Access: permitted, Perm: can("retention", "read")},
		{Method: get, Path: "/retention/preview", Handler: s.retentionPreview, Access: permitted, Perm: can("retention", "read")},
		{Method: post, Path: "/retention/rules/:category", Handler: s.retentionRule, Access: permitted, Perm: can("retention", "write")},
		{Method: post, Path: "/retention/sweep", Handler: s.retentionSweep, Access: permitted, Perm: can("retention", "write")},
		{Method: post, Path: "/retention/holds", Handler: s.retentionHold, Access: permitted, Perm: can("retention_holds", "write")},
		{Method: post, Path: "/retention/holds/:id/release", Handler: s.retentionRelease, Access: permitted, Perm: can("retention_holds", "write")},
	}
}

func (s *Server) retention(c echo.Context) error {
	return s.renderRetention(c, http.StatusOK, views.RetentionPage{})
}

// retentionPreview is the dry run: what a sweep now would remove, per
// customer and category.
func (s *Server) retentionPreview(c echo.Context) error {
	counts, err := s.db.RetentionPreview(c.Request().Context(), actor(c), store.Now())
	if err != nil {
		return err
	}
	return s.renderRetention(c, http.StatusOK, views.RetentionPage{Preview: counts, Previewed: true})
}

func (s *Server) renderRetention(c echo.Context, status int, p views.RetentionPage) error {
	ctx, a := c.Request().Context(), actor(c)
	var err error
	if p.Rules, err = s.db.RetentionRules(ctx, a); err != nil {
		return err
	}
	if p.Holds, err = s.db.RetentionHolds(ctx, a); err != nil {
		return err
	}
	if p.LegalHolds, err = s.db.ActiveLegalHolds(ctx, a); err != nil {
		return err
	}
	if p.LastRun, err = s.db.LastRetentionRun(ctx, a); err != nil {
		return err
	}
	p.CanWrite, p.CanHold, p.Loc = s.allowed(c, "retention", "write"), s.allowed(c, "retention_holds", "write"), s.cfg.Location
	if p.CanHold {
		if _, p.Customers, err = s.customerChoices(c); err != nil {
			return err
		}
	}
	return s.render(c, status, views.Retention(p))
}

func (s *Server) retentionRule(c echo.Context) error {
	category, days := c.Param("category"), c.FormValue("days")
	r, err := s.db.SetRetentionDays(c.Request().Context(), actor(c), category, days)
	if err == nil {
		s.flash(c, fmt.Sprintf("%s: kept for %d days.", views.RetentionCategoryLabel(r.Category), r.Days))
		return redirect(c, "/retention")
	}
	errs, err := formErrors(err)
	if err != nil {
		return err
	}
	return s.renderRetention(c, http.StatusUnprocessableEntity, views.RetentionPage{RuleCategory: category, RuleDays: days, RuleErrors: errs})
}

// retentionSweep runs a sweep now, on this instance, unless another one
// is sweeping.
func (s *Server) retentionSweep(c echo.Context) error {
	runner := "on demand (request " + c.Response().Header().Get(echo.HeaderXRequestID) + ")"
	run, err := s.db.SweepRetention(c.Request().Context(), actor(c), runner, store.Now())
	switch {
	case errors.Is(err, registers.ErrSweepBusy):
		s.flash(c, "Another instance is sweeping right now; its result will show here when it ends.")
	case err != nil:
		return err
	default:
		s.flash(c, fmt.Sprintf("Sweep done: %d row(s) removed.", run.Removed))
	}
	return redirect(c, "/retention")
}

func (s *Server) retentionHold(c echo.Context) error {
	f := views.HoldForm{CustomerID: c.FormValue("customer_id"), Reference: c.FormValue("reference"), Reason: c.FormValue("reason")}
	_, err := s.db.PlaceRetentionHold(c.Request().Context(), actor(c),
		registers.RetentionHoldInput{CustomerID: f.CustomerID, Reference: f.Reference, Reason: f.Reason})
	if err == nil {
		s.flash(c, "Hold placed: the sweeper keeps this data until the hold is released.")
		return redirect(c, "/retention")
	}
	if f.Errors, err = formErrors(err); err != nil {
		return err
	}
	return s.renderRetention(c, http.StatusUnprocessableEntity, views.RetentionPage{Hold: f})
}

func (s *Server) retentionRelease(c echo.Context) error {
	if err := s.db.ReleaseRetentionHold(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	s.flash(c, "Hold released: the next sweep removes what its rules say is due.")
	return redirect(c, "/retention")
}
