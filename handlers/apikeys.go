package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sendara/console/views"
)

func (s *Server) apiKeys(c echo.Context) error {
	return s.renderKeys(c, http.StatusOK, views.KeyForm{})
}

func (s *Server) renderKeys(c echo.Context, status int, f views.KeyForm) error {
	ctx, a := c.Request().Context(), actor(c)
	keys, err := s.db.APIKeys(ctx, a)
	if err != nil {
		return err
	}
	p := views.KeyList{Keys: keys, CanWrite: s.allowed(c, "apikeys", "write"), Form: f, Loc: s.cfg.Location}
	if a.Staff() {
		if p.Customers, p.Options, err = s.customerChoices(c); err != nil {
			return err
		}
	}
	return s.render(c, status, views.APIKeys(p))
}

// apiKeyCreate shows the new secret once, in the response to the POST: it
// is never stored in clear, so there is no page to redirect to.
func (s *Server) apiKeyCreate(c echo.Context) error {
	a := actor(c)
	f := views.KeyForm{Name: c.FormValue("name"), CustomerID: c.FormValue("customer_id")}
	customerID := a.CustomerID
	if a.Staff() {
		customerID = f.CustomerID
		if customerID == "staff" {
			customerID = ""
		}
	}
	k, secret, err := s.db.CreateAPIKey(c.Request().Context(), a, customerID, f.Name)
	if err == nil {
		return s.render(c, http.StatusOK, views.NewKey(*k, secret))
	}
	if f.Errors, err = formErrors(err); err != nil {
		return err
	}
	return s.renderKeys(c, http.StatusUnprocessableEntity, f)
}

func (s *Server) apiKeyRevoke(c echo.Context) error {
	if err := s.db.RevokeAPIKey(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	s.flash(c, "Key revoked.")
	return redirect(c, "/apikeys")
}
