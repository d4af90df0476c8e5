package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/adminpages"

	"github.com/labstack/echo/v4"
	accounts "github.com/sendara/console/models/accounts"
	"github.com/sendara/console/views"
)

func (s *Handlers) apiKeys(c echo.Context) error {
	return s.renderKeys(c, http.StatusOK, adminpages.KeyForm{Scope: accounts.ScopeWrite})
}

// usageDays is how many days of use the keys page shows.
const usageDays = 7

func (s *Handlers) renderKeys(c echo.Context, status int, f adminpages.KeyForm) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	keys, err := s.DB.APIKeys(ctx, a)
	if err != nil {
		return err
	}
	now := time.Now().In(s.Cfg.Location)
	since := time.Date(now.Year(), now.Month(), now.Day()-usageDays+1, 0, 0, 0, 0, s.Cfg.Location)
	usage, err := s.DB.APIKeyUsage(ctx, a, since, s.Cfg.Location)
	if err != nil {
		return err
	}
	p := adminpages.KeyList{Keys: keys, Usage: usage, CanWrite: s.Allowed(c, "apikeys", "write"), Form: f, Loc: s.Cfg.Location, Now: now}
	if a.Staff() {
		if p.Customers, p.Options, err = s.CustomerChoices(c); err != nil {
			return err
		}
	}
	return s.Render(c, status, adminpages.APIKeys(p))
}

// apiKeyCreate shows the new secret once, in the response to the POST: it
// is never stored in clear, so there is no page to redirect to.
func (s *Handlers) apiKeyCreate(c echo.Context) error {
	a := web.Actor(c)
	f := adminpages.KeyForm{Name: c.FormValue("name"), CustomerID: c.FormValue("customer_id"), Scope: c.FormValue("scope"),
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
	k, secret, err := s.DB.CreateAPIKeyWith(c.Request().Context(), a, in)
	if err == nil {
		return s.Render(c, http.StatusOK, adminpages.NewKey(*k, secret))
	}
	if f.Errors, err = web.FormErrors(err); err != nil {
		return err
	}
	return s.renderKeys(c, http.StatusUnprocessableEntity, f)
}

// endOfDay reads an optional YYYY-MM-DD: a key expiring on that date works
// through the end of that day in the business time zone.
func (s *Handlers) endOfDay(date string) (*time.Time, error) {
	if date == "" {
		return nil, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, date, s.Cfg.Location)
	if err != nil {
		return nil, errors.New("must be a date such as 2027-01-31")
	}
	end := d.AddDate(0, 0, 1).UTC()
	return &end, nil
}

// apiKeyRotate issues the replacement key and shows its secret; the old
// Key keeps working for the overlap.
func (s *Handlers) apiKeyRotate(c echo.Context) error {
	k, secret, err := s.DB.RotateAPIKey(c.Request().Context(), web.Actor(c), c.Param("id"), accounts.APIKeyOverlap)
	if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, adminpages.NewKey(*k, secret))
}

func (s *Handlers) apiKeyRevoke(c echo.Context) error {
	if err := s.DB.RevokeAPIKey(c.Request().Context(), web.Actor(c), c.Param("id")); err != nil {
		return err
	}
	s.Flash(c, "Key revoked.")
	return web.Redirect(c, "/apikeys")
}
