package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	accounts "github.com/sendara/console/models/accounts"
	"github.com/sendara/console/views"
)

func (s *Server) apiKeys(c echo.Context) error {
	return s.renderKeys(c, http.StatusOK, views.KeyForm{Scope: accounts.ScopeWrite})
}

// usageDays is how many days of use the keys page shows.
const usageDays = 7

func (s *Server) renderKeys(c echo.Context, status int, f views.KeyForm) error {
	ctx, a := c.Request().Context(), actor(c)
	keys, err := s.db.APIKeys(ctx, a)
	if err != nil {
		return err
	}
	now := time.Now().In(s.cfg.Location)
	since := time.Date(now.Year(), now.Month(), now.Day()-usageDays+1, 0, 0, 0, 0, s.cfg.Location)
	usage, err := s.db.APIKeyUsage(ctx, a, since, s.cfg.Location)
	if err != nil {
		return err
	}
	p := views.KeyList{Keys: keys, Usage: usage, CanWrite: s.allowed(c, "apikeys", "write"), Form: f, Loc: s.cfg.Location, Now: now}
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
	f := views.KeyForm{Name: c.FormValue("name"), CustomerID: c.FormValue("customer_id"), Scope: c.FormValue("scope"),
		ExpiresOn: c.FormValue("expires_on")}
	in := accounts.APIKeyInput{CustomerID: a.CustomerID, Name: f.Name, Scope: f.Scope}
	if in.Scope == "" {
		in.Scope = accounts.ScopeAdmin // a post without the field gets what keys could do before scopes
	}
	if a.Staff() {
		in.CustomerID = f.CustomerID
		if in.CustomerID == "staff" {
			in.CustomerID = ""
		}
	}
	var err error
	if in.ExpiresAt, err = s.endOfDay(f.ExpiresOn); err != nil {
		f.Errors = views.Errors{"expires_on": err.Error()}
		return s.renderKeys(c, http.StatusUnprocessableEntity, f)
	}
	k, secret, err := s.db.CreateAPIKeyWith(c.Request().Context(), a, in)
	if err == nil {
		return s.render(c, http.StatusOK, views.NewKey(*k, secret))
	}
	if f.Errors, err = formErrors(err); err != nil {
		return err
	}
	return s.renderKeys(c, http.StatusUnprocessableEntity, f)
}

// endOfDay reads an optional YYYY-MM-DD: a key expiring on that date works
// through the end of that day in the business time zone.
func (s *Server) endOfDay(date string) (*time.Time, error) {
	if date == "" {
		return nil, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, date, s.cfg.Location)
	if err != nil {
		return nil, errors.New("must be a date such as 2027-01-31")
	}
	end := d.AddDate(0, 0, 1).UTC()
	return &end, nil
}

// apiKeyRotate issues the replacement key and shows its secret; the old
// key keeps working for the overlap.
func (s *Server) apiKeyRotate(c echo.Context) error {
	k, secret, err := s.db.RotateAPIKey(c.Request().Context(), actor(c), c.Param("id"), accounts.APIKeyOverlap)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.NewKey(*k, secret))
}

func (s *Server) apiKeyRevoke(c echo.Context) error {
	if err := s.db.RevokeAPIKey(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	s.flash(c, "Key revoked.")
	return redirect(c, "/apikeys")
}
