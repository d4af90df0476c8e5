package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/adminpages"

	"github.com/labstack/echo/v4"
	customers "github.com/sendara/console/models/customers"
	errs "github.com/sendara/console/models/errs"
)

func (s *Handlers) customers(c echo.Context) error {
	cs, err := s.DB.Customers(c.Request().Context(), web.Actor(c))
	if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, adminpages.Customers(adminpages.CustomerList{Customers: cs, CanWrite: s.Allowed(c, "customers", "write"), Loc: s.Cfg.Location}))
}

func (s *Handlers) customerNew(c echo.Context) error {
	return s.Render(c, http.StatusOK, adminpages.CustomerNew(adminpages.CustomerForm{CRM: "other"}))
}

// customerForm reads the customer form; a bad date is reported on its field.
func (s *Handlers) customerForm(c echo.Context) (adminpages.CustomerForm, customers.CustomerInput, error) {
	f := adminpages.CustomerForm{
		ID: c.Param("id"), Slug: c.FormValue("slug"), Name: c.FormValue("name"),
		ContactEmail: c.FormValue("contact_email"), CRM: c.FormValue("crm"), DPAAccepted: strings.TrimSpace(c.FormValue("dpa_accepted_on")),
	}
	in := customers.CustomerInput{Slug: f.Slug, Name: f.Name, ContactEmail: f.ContactEmail, CRMType: f.CRM}
	if f.DPAAccepted != "" {
		d, err := time.ParseInLocation("2006-01-02", f.DPAAccepted, s.Cfg.Location)
		if err != nil {
			return f, in, errs.Invalid("dpa_accepted_on", "must be a date like 2026-03-31")
		}
		utc := d.UTC()
		in.DPAAcceptedAt = &utc
	}
	return f, in, nil
}

func (s *Handlers) customerCreate(c echo.Context) error {
	f, in, err := s.customerForm(c)
	if err == nil {
		var cust *customers.Customer
		if cust, err = s.DB.CreateCustomer(c.Request().Context(), web.Actor(c), in); err == nil {
			s.Flash(c, "Customer "+cust.Name+" added.")
			return web.Redirect(c, "/customers/"+cust.ID)
		}
	}
	if f.Errors, err = web.FormErrors(err); err != nil {
		return err
	}
	return s.Render(c, http.StatusUnprocessableEntity, adminpages.CustomerNew(f))
}

func (s *Handlers) customer(c echo.Context) error {
	ctx := c.Request().Context()
	cust, err := s.DB.Customer(ctx, web.Actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderCustomer(c, http.StatusOK, cust, customerFormOf(cust, s.Cfg.Location))
}

func (s *Handlers) renderCustomer(c echo.Context, status int, cust *customers.Customer, f adminpages.CustomerForm) error {
	users, err := s.DB.CustomerUsers(c.Request().Context(), web.Actor(c), cust.ID)
	if err != nil {
		return err
	}
	return s.Render(c, status, adminpages.CustomerPage(adminpages.CustomerDetail{
		Customer: *cust, Form: f, Users: users, CanWrite: s.Allowed(c, "customers", "write"), Loc: s.Cfg.Location,
	}))
}

func customerFormOf(c *customers.Customer, loc *time.Location) adminpages.CustomerForm {
	f := adminpages.CustomerForm{ID: c.ID, Slug: c.Slug, Name: c.Name, ContactEmail: c.ContactEmail, CRM: c.CRMType}
	if c.DPAAcceptedAt != nil {
		f.DPAAccepted = c.DPAAcceptedAt.In(loc).Format("2006-01-02")
	}
	return f
}

func (s *Handlers) customerUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	cust, err := s.DB.Customer(ctx, web.Actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	f, in, err := s.customerForm(c)
	if err == nil {
		if _, err = s.DB.UpdateCustomer(ctx, web.Actor(c), cust.ID, in); err == nil {
			s.Flash(c, "Changes saved.")
			return web.Redirect(c, "/customers/"+cust.ID)
		}
	}
	if f.Errors, err = web.FormErrors(err); err != nil {
		return err
	}
	return s.renderCustomer(c, http.StatusUnprocessableEntity, cust, f)
}

func (s *Handlers) customerCancel(c echo.Context) error {
	id := c.Param("id")
	if err := s.DB.CancelCustomer(c.Request().Context(), web.Actor(c), id); err != nil {
		return err
	}
	s.Flash(c, "Customer cancelled. Its users and keys no longer work.")
	return web.Redirect(c, "/customers/"+id)
}
