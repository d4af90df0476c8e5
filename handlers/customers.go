package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	customers "github.com/sendara/console/models/customers"
	errs "github.com/sendara/console/models/errs"
	"github.com/sendara/console/views"
)

func (s *Server) customers(c echo.Context) error {
	cs, err := s.db.Customers(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.Customers(views.CustomerList{Customers: cs, CanWrite: s.allowed(c, "customers", "write"), Loc: s.cfg.Location}))
}

func (s *Server) customerNew(c echo.Context) error {
	return s.render(c, http.StatusOK, views.CustomerNew(views.CustomerForm{CRM: "other"}))
}

// customerForm reads the customer form; a bad date is reported on its field.
func (s *Server) customerForm(c echo.Context) (views.CustomerForm, customers.CustomerInput, error) {
	f := views.CustomerForm{
		ID: c.Param("id"), Slug: c.FormValue("slug"), Name: c.FormValue("name"),
		ContactEmail: c.FormValue("contact_email"), CRM: c.FormValue("crm"), DPAAccepted: strings.TrimSpace(c.FormValue("dpa_accepted_on")),
	}
	in := customers.CustomerInput{Slug: f.Slug, Name: f.Name, ContactEmail: f.ContactEmail, CRMType: f.CRM}
	if f.DPAAccepted != "" {
		d, err := time.ParseInLocation("2006-01-02", f.DPAAccepted, s.cfg.Location)
		if err != nil {
			return f, in, errs.Invalid("dpa_accepted_on", "must be a date like 2026-03-31")
		}
		utc := d.UTC()
		in.DPAAcceptedAt = &utc
	}
	return f, in, nil
}

func (s *Server) customerCreate(c echo.Context) error {
	f, in, err := s.customerForm(c)
	if err == nil {
		var cust *customers.Customer
		if cust, err = s.db.CreateCustomer(c.Request().Context(), actor(c), in); err == nil {
			s.flash(c, "Customer "+cust.Name+" added.")
			return redirect(c, "/customers/"+cust.ID)
		}
	}
	if f.Errors, err = formErrors(err); err != nil {
		return err
	}
	return s.render(c, http.StatusUnprocessableEntity, views.CustomerNew(f))
}

func (s *Server) customer(c echo.Context) error {
	ctx := c.Request().Context()
	cust, err := s.db.Customer(ctx, actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderCustomer(c, http.StatusOK, cust, customerFormOf(cust, s.cfg.Location))
}

func (s *Server) renderCustomer(c echo.Context, status int, cust *customers.Customer, f views.CustomerForm) error {
	users, err := s.db.CustomerUsers(c.Request().Context(), actor(c), cust.ID)
	if err != nil {
		return err
	}
	return s.render(c, status, views.CustomerPage(views.CustomerDetail{
		Customer: *cust, Form: f, Users: users, CanWrite: s.allowed(c, "customers", "write"), Loc: s.cfg.Location,
	}))
}

func customerFormOf(c *customers.Customer, loc *time.Location) views.CustomerForm {
	f := views.CustomerForm{ID: c.ID, Slug: c.Slug, Name: c.Name, ContactEmail: c.ContactEmail, CRM: c.CRMType}
	if c.DPAAcceptedAt != nil {
		f.DPAAccepted = c.DPAAcceptedAt.In(loc).Format("2006-01-02")
	}
	return f
}

func (s *Server) customerUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	cust, err := s.db.Customer(ctx, actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	f, in, err := s.customerForm(c)
	if err == nil {
		if _, err = s.db.UpdateCustomer(ctx, actor(c), cust.ID, in); err == nil {
			s.flash(c, "Changes saved.")
			return redirect(c, "/customers/"+cust.ID)
		}
	}
	if f.Errors, err = formErrors(err); err != nil {
		return err
	}
	return s.renderCustomer(c, http.StatusUnprocessableEntity, cust, f)
}

func (s *Server) customerCancel(c echo.Context) error {
	id := c.Param("id")
	if err := s.db.CancelCustomer(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	s.flash(c, "Customer cancelled. Its users and keys no longer work.")
	return redirect(c, "/customers/"+id)
}
