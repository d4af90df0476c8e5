package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
	consent "github.com/sendara/console/models/consent"
	errs "github.com/sendara/console/models/errs"
	"github.com/sendara/console/views"
)

// consentReversalRoutes are the admins' approval of opt-ins that reverse
// a person's own opt-out (models/consent_reversal.go).
func (s *Server) consentReversalRoutes() []route {
	return []route{
		{Method: http.MethodGet, Path: "/consent-reversals", Handler: s.consentReversals, Access: permitted, Perm: can("consent_reversals", "read")},
		{Method: http.MethodPost, Path: "/consent-reversals/:id", Handler: s.consentReversalDecide, Access: permitted, Perm: can("consent_reversals", "decide")},
	}
}

// consentReversals lists the pending reversals of the user's tenant (all
// tenants for staff); the read is audited by the model.
func (s *Server) consentReversals(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	p := views.ConsentReversalsPage{CanDecide: s.allowed(c, "consent_reversals", "decide"), Loc: s.cfg.Location}
	if a.Staff() {
		names, _, err := s.customerChoices(c)
		if err != nil {
			return err
		}
		p.Customers = names
	}
	var err error
	if p.Pending, err = s.db.ConsentReversals(ctx, a, a.CustomerID, consent.ReversalPending); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.ConsentReversals(p))
}

// consentReversalDecide approves or denies one reversal.
func (s *Server) consentReversalDecide(c echo.Context) error {
	approve := false
	switch c.FormValue("decision") {
	case "approve":
		approve = true
	case "deny":
	default:
		return errs.Invalid("decision", "must be approve or deny")
	}
	r, err := s.db.DecideConsentReversal(c.Request().Context(), actor(c), c.Param("id"), approve, c.FormValue("note"))
	if err != nil {
		return err
	}
	if r.Status == consent.ReversalApproved {
		s.flash(c, "Approved: the opt-in is recorded.")
	} else {
		s.flash(c, "Denied: the person stays opted out.")
	}
	return redirect(c, "/consent-reversals")
}
