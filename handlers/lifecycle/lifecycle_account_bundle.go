package lifecycle

import (
	"encoding/json"
	"mime"
	"net/http"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/lifecyclepages"

	"github.com/labstack/echo/v4"
	errs "github.com/sendara/console/models/errs"
)

// accountBundles is the form staff use to answer a business customer's
// own access request (Sendara as controller): choose the customer.
func (s *Handlers) accountBundles(c echo.Context) error {
	customers, err := s.DB.Customers(c.Request().Context(), web.Actor(c))
	if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, lifecyclepages.AccountBundles(customers))
}

// accountBundleDownload generates the account's bundle as a JSON file;
// the audit entry is written with the bundle's counts before it is sent.
func (s *Handlers) accountBundleDownload(c echo.Context) error {
	id := c.FormValue("customer_id")
	if id == "" {
		return errs.Invalid("customer_id", "choose a customer")
	}
	b, err := s.DB.AccountBundleFor(c.Request().Context(), web.Actor(c), id)
	if err != nil {
		return err
	}
	body, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": "account-" + b.Account.Slug + ".json"}))
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSONCharsetUTF8, body)
}
