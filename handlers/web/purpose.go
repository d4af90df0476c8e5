package web

import (
	consent "github.com/sendara/console/models/consent"
	requests "github.com/sendara/console/models/requests"

	"net/http"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/views"
)

// Purpose of access: a staff member opening a customer's contact page
// first states why (a request reference or a reason). The purpose is
// remembered for the session and that contact for models.PurposeLifetime
// and is in the audit entry of every view (contact.view). It is stated by
// a POST with the CSRF token, so a link cannot put words in anyone's
// mouth: a link may only prefill the form (?purpose=PR-…).

// purposeRequired says whether the signed-in actor must state a purpose:
// staff users do; customer users (their own tenant's contacts) do not.
func purposeRequired(a store.Actor) bool { return a.Staff() && a.Type == store.ActorUser }

// AccessPurpose returns the purpose in force for the contact page, and
// whether the page may be shown. When the actor must state one and has
// not, it renders the purpose form instead (show false).
func (s *Server) AccessPurpose(c echo.Context, ct *consent.Contact) (*requests.AccessPurpose, bool, error) {
	a := Actor(c)
	if !purposeRequired(a) {
		return nil, true, nil
	}
	sess := State(c).Session
	if sess == nil {
		return nil, false, echo.ErrUnauthorized
	}
	p, err := s.DB.CurrentPurpose(c.Request().Context(), sess.IDHash, ct.ID)
	if err != nil || p != nil {
		return p, p != nil, err
	}
	return nil, false, s.renderPurposeForm(c, http.StatusOK, ct, views.PurposeForm{Purpose: c.QueryParam("purpose")})
}

func (s *Server) renderPurposeForm(c echo.Context, status int, ct *consent.Contact, f views.PurposeForm) error {
	f.ContactID = ct.ID
	f.Minutes = int(requests.PurposeLifetime.Minutes())
	if cust, err := s.DB.Customer(c.Request().Context(), Actor(c), ct.CustomerID); err == nil {
		f.Customer = cust.Name
	}
	return s.Render(c, status, views.ContactPurpose(f))
}

// ContactPurpose records the purpose stated for a contact and opens it.
func (s *Server) ContactPurpose(c echo.Context) error {
	ctx, a := c.Request().Context(), Actor(c)
	ct, err := s.DB.Contact(ctx, a, c.Param("id"))
	if err != nil {
		return err
	}
	if !purposeRequired(a) {
		return Redirect(c, "/contacts/"+ct.ID)
	}
	sess := State(c).Session
	if sess == nil {
		return echo.ErrUnauthorized
	}
	f := views.PurposeForm{Purpose: c.FormValue("purpose")}
	if _, err := s.DB.StatePurpose(ctx, a, sess.IDHash, ct.ID, f.Purpose); err != nil {
		if f.Errors, err = FormErrors(err); err != nil {
			return err
		}
		return s.renderPurposeForm(c, http.StatusUnprocessableEntity, ct, f)
	}
	return Redirect(c, "/contacts/"+ct.ID)
}
