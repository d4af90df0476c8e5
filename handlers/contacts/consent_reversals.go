package contacts

import (
	"net/http"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/contactpages"

	"github.com/labstack/echo/v4"
	consent "github.com/sendara/console/models/consent"
	errs "github.com/sendara/console/models/errs"
)

// consentReversalRoutes are the admins' approval of opt-ins that reverse
// a person's own opt-out (models/consent_reversal.go).
func (s *Handlers) consentReversalRoutes() []web.Route {
	return []web.Route{
		{Method: http.MethodGet, Path: "/consent-reversals", Handler: s.consentReversals, Access: web.Permitted, Perm: web.Can("consent_reversals", "read")},
		{Method: http.MethodPost, Path: "/consent-reversals/:id", Handler: s.consentReversalDecide, Access: web.Permitted, Perm: web.Can("consent_reversals", "decide")},
	}
}

// consentReversals lists the pending reversals of the user's tenant (all
// tenants for staff); the read is audited by the model.
func (s *Handlers) consentReversals(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	p := contactpages.ConsentReversalsPage{CanDecide: s.Allowed(c, "consent_reversals", "decide"), Loc: s.Cfg.Location}
	if a.Staff() {
		names, _, err := s.CustomerChoices(c)
		if err != nil {
			return err
		}
		p.Customers = names
	}
	var err error
	if p.Pending, err = s.DB.ConsentReversals(ctx, a, a.CustomerID, consent.ReversalPending); err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, contactpages.ConsentReversals(p))
}

// consentReversalDecide approves or denies one reversal.
func (s *Handlers) consentReversalDecide(c echo.Context) error {
	approve := false
	switch c.FormValue("decision") {
	case "approve":
		approve = true
	case "deny":
	default:
		return errs.Invalid("decision", "must be approve or deny")
	}
	r, err := s.DB.DecideConsentReversal(c.Request().Context(), web.Actor(c), c.Param("id"), approve, c.FormValue("note"))
	if err != nil {
		return err
	}
	if r.Status == consent.ReversalApproved {
		s.Flash(c, "Approved: the opt-in is recorded.")
	} else {
		s.Flash(c, "Denied: the person stays opted out.")
	}
	return web.Redirect(c, "/consent-reversals")
}
