package lifecycle

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/lifecyclepages"

	"github.com/labstack/echo/v4"
	registers "github.com/sendara/console/models/registers"
	store "github.com/sendara/console/models/store"
)

// retentionRoutes are the retention rules, holds on customers and
// requests, the dry run and the sweep on demand. The pages show rules,
// counts and references, no personal data, so viewing them is not
// audited; the dry run and every change are.
func (s *Handlers) retentionRoutes() []web.Route {
	get, post := http.MethodGet, http.MethodPost
	return []web.Route{
		{Method: get, Path: "/retention", Handler: s.retention, Access: web.Permitted, Perm: web.Can("retention", "read")},
		{Method: get, Path: "/retention/preview", Handler: s.retentionPreview, Access: web.Permitted, Perm: web.Can("retention", "read")},
		{Method: post, Path: "/retention/rules/:category", Handler: s.retentionRule, Access: web.Permitted, Perm: web.Can("retention", "write")},
		{Method: post, Path: "/retention/sweep", Handler: s.retentionSweep, Access: web.Permitted, Perm: web.Can("retention", "write")},
		{Method: post, Path: "/retention/holds", Handler: s.retentionHold, Access: web.Permitted, Perm: web.Can("retention_holds", "write")},
		{Method: post, Path: "/retention/holds/:id/release", Handler: s.retentionRelease, Access: web.Permitted, Perm: web.Can("retention_holds", "write")},
	}
}

func (s *Handlers) retention(c echo.Context) error {
	return s.renderRetention(c, http.StatusOK, lifecyclepages.RetentionPage{})
}

// retentionPreview is the dry run: what a sweep now would remove, per
// customer and category.
func (s *Handlers) retentionPreview(c echo.Context) error {
	counts, err := s.DB.RetentionPreview(c.Request().Context(), web.Actor(c), store.Now())
	if err != nil {
		return err
	}
	return s.renderRetention(c, http.StatusOK, lifecyclepages.RetentionPage{Preview: counts, Previewed: true})
}

func (s *Handlers) renderRetention(c echo.Context, status int, p lifecyclepages.RetentionPage) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	var err error
	if p.Rules, err = s.DB.RetentionRules(ctx, a); err != nil {
		return err
	}
	if p.Holds, err = s.DB.RetentionHolds(ctx, a); err != nil {
		return err
	}
	if p.LegalHolds, err = s.DB.ActiveLegalHolds(ctx, a); err != nil {
		return err
	}
	if p.LastRun, err = s.DB.LastRetentionRun(ctx, a); err != nil {
		return err
	}
	p.CanWrite, p.CanHold, p.Loc = s.Allowed(c, "retention", "write"), s.Allowed(c, "retention_holds", "write"), s.Cfg.Location
	if p.CanHold {
		if _, p.Customers, err = s.CustomerChoices(c); err != nil {
			return err
		}
	}
	return s.Render(c, status, lifecyclepages.Retention(p))
}

func (s *Handlers) retentionRule(c echo.Context) error {
	category, days := c.Param("category"), c.FormValue("days")
	r, err := s.DB.SetRetentionDays(c.Request().Context(), web.Actor(c), category, days)
	if err == nil {
		s.Flash(c, fmt.Sprintf("%s: kept for %d days.", lifecyclepages.RetentionCategoryLabel(r.Category), r.Days))
		return web.Redirect(c, "/retention")
	}
	errs, err := web.FormErrors(err)
	if err != nil {
		return err
	}
	return s.renderRetention(c, http.StatusUnprocessableEntity, lifecyclepages.RetentionPage{RuleCategory: category, RuleDays: days, RuleErrors: errs})
}

// retentionSweep runs a sweep now, on this instance, unless another one
// is sweeping.
func (s *Handlers) retentionSweep(c echo.Context) error {
	runner := "on demand (request " + c.Response().Header().Get(echo.HeaderXRequestID) + ")"
	run, err := s.DB.SweepRetention(c.Request().Context(), web.Actor(c), runner, store.Now())
	switch {
	case errors.Is(err, registers.ErrSweepBusy):
		s.Flash(c, "Another instance is sweeping right now; its result will show here when it ends.")
	case err != nil:
		return err
	default:
		s.Flash(c, fmt.Sprintf("Sweep done: %d row(s) removed.", run.Removed))
	}
	return web.Redirect(c, "/retention")
}

func (s *Handlers) retentionHold(c echo.Context) error {
	f := lifecyclepages.HoldForm{CustomerID: c.FormValue("customer_id"), Reference: c.FormValue("reference"), Reason: c.FormValue("reason")}
	_, err := s.DB.PlaceRetentionHold(c.Request().Context(), web.Actor(c),
		registers.RetentionHoldInput{CustomerID: f.CustomerID, Reference: f.Reference, Reason: f.Reason})
	if err == nil {
		s.Flash(c, "Hold placed: the sweeper keeps this data until the hold is released.")
		return web.Redirect(c, "/retention")
	}
	if f.Errors, err = web.FormErrors(err); err != nil {
		return err
	}
	return s.renderRetention(c, http.StatusUnprocessableEntity, lifecyclepages.RetentionPage{Hold: f})
}

func (s *Handlers) retentionRelease(c echo.Context) error {
	if err := s.DB.ReleaseRetentionHold(c.Request().Context(), web.Actor(c), c.Param("id")); err != nil {
		return err
	}
	s.Flash(c, "Hold released: the next sweep removes what its rules say is due.")
	return web.Redirect(c, "/retention")
}
