package handlers

import (
	calendar "github.com/sendara/console/models/calendar"
	errs "github.com/sendara/console/models/errs"

	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	registers "github.com/sendara/console/models/registers"
	"github.com/sendara/console/views"
)

func formDate(field, v string) (calendar.Date, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return calendar.Date{}, errs.Invalid(field, "is required")
	}
	d, err := calendar.ParseDate(v)
	if err != nil {
		return calendar.Date{}, errs.Invalid(field, "must be a date such as 2026-05-10")
	}
	return d, nil
}

// subprocessors shows the current sub-processors, the list's history, the
// privacy policy's versions and the objections (a customer's own; every
// customer's for staff). It names companies and customers, not people.
func (s *Server) subprocessors(c echo.Context) error {
	return s.renderSubprocessors(c, http.StatusOK, views.SubprocessorsPage{})
}

func (s *Server) renderSubprocessors(c echo.Context, status int, p views.SubprocessorsPage) error {
	ctx, a := c.Request().Context(), actor(c)
	var err error
	if p.List, err = s.db.Subprocessors(ctx); err != nil {
		return err
	}
	if p.Policies, err = s.db.PolicyVersions(ctx); err != nil {
		return err
	}
	if p.Objections, err = s.db.SubprocessorObjections(ctx, a); err != nil {
		return err
	}
	if p.ObjectionDays, err = s.db.ObjectionDays(ctx); err != nil {
		return err
	}
	p.Today = calendar.TodayIn(s.cfg.Business.Loc)
	p.Staff, p.CanWrite, p.CanObject, p.CanSettings = a.Staff(), s.allowed(c, "subprocessors", "write"),
		s.allowed(c, "subprocessors", "object"), s.allowed(c, "subprocessors", "settings")
	return s.render(c, status, views.Subprocessors(p))
}

func (s *Server) subprocessorsFailed(c echo.Context, err error, set func(*views.SubprocessorsPage, views.Errors)) error {
	errs, err := formErrors(err)
	if err != nil {
		return err
	}
	var p views.SubprocessorsPage
	set(&p, errs)
	return s.renderSubprocessors(c, http.StatusUnprocessableEntity, p)
}

func (s *Server) subprocessorAdd(c echo.Context) error {
	f := views.SubprocessorForm{Name: c.FormValue("name"), Purpose: c.FormValue("purpose"), Location: c.FormValue("location"),
		TransferSafeguard: c.FormValue("transfer_safeguard"), EffectiveOn: c.FormValue("effective_on")}
	on, err := formDate("effective_on", f.EffectiveOn)
	var mails int
	if err == nil {
		_, mails, err = s.db.AddSubprocessor(c.Request().Context(), actor(c), registers.SubprocessorInput{Name: f.Name, Purpose: f.Purpose,
			Location: f.Location, TransferSafeguard: f.TransferSafeguard, EffectiveOn: on}, calendar.TodayIn(s.cfg.Business.Loc), s.cfg.BaseURL)
	}
	if err != nil {
		return s.subprocessorsFailed(c, err, func(p *views.SubprocessorsPage, e views.Errors) { f.Errors = e; p.Add = f })
	}
	s.flash(c, fmt.Sprintf("Sub-processor added; %d mail(s) to customers' admins queued.", mails))
	return redirect(c, "/subprocessors")
}

func (s *Server) subprocessorRemove(c echo.Context) error {
	on, err := formDate("removed_on", c.FormValue("removed_on"))
	if err == nil {
		err = s.db.RemoveSubprocessor(c.Request().Context(), actor(c), c.Param("id"), on)
	}
	if err != nil {
		return s.subprocessorsFailed(c, err, func(p *views.SubprocessorsPage, e views.Errors) { p.Errors = e })
	}
	s.flash(c, "Sub-processor removed from the list; it stays in the history.")
	return redirect(c, "/subprocessors")
}

func (s *Server) subprocessorObject(c echo.Context) error {
	_, err := s.db.ObjectToSubprocessor(c.Request().Context(), actor(c), c.Param("id"), c.FormValue("reason"), calendar.TodayIn(s.cfg.Business.Loc))
	if err != nil {
		return s.subprocessorsFailed(c, err, func(p *views.SubprocessorsPage, e views.Errors) { p.Errors = e; p.ObjectingTo = c.Param("id") })
	}
	s.flash(c, "Your objection was recorded; Sendara's privacy team will contact you.")
	return redirect(c, "/subprocessors")
}

func (s *Server) policyVersionAdd(c echo.Context) error {
	f := views.PolicyForm{Version: c.FormValue("version"), Summary: c.FormValue("summary"), URL: c.FormValue("url"), EffectiveOn: c.FormValue("effective_on")}
	on, err := formDate("effective_on", f.EffectiveOn)
	var mails int
	if err == nil {
		_, mails, err = s.db.AddPolicyVersion(c.Request().Context(), actor(c), registers.PolicyVersionInput{Version: f.Version, Summary: f.Summary,
			URL: f.URL, EffectiveOn: on}, calendar.TodayIn(s.cfg.Business.Loc), s.cfg.BaseURL)
	}
	if err != nil {
		return s.subprocessorsFailed(c, err, func(p *views.SubprocessorsPage, e views.Errors) { f.Errors = e; p.Policy = f })
	}
	s.flash(c, fmt.Sprintf("Policy version recorded; %d mail(s) to customers' admins queued.", mails))
	return redirect(c, "/subprocessors")
}

func (s *Server) subprocessorSettings(c echo.Context) error {
	days, err := strconv.Atoi(strings.TrimSpace(c.FormValue("days")))
	if err != nil {
		err = errs.Invalid("days", "must be a whole number of days")
	} else {
		err = s.db.SetObjectionDays(c.Request().Context(), actor(c), days)
	}
	if err != nil {
		return s.subprocessorsFailed(c, err, func(p *views.SubprocessorsPage, e views.Errors) { p.Errors = e })
	}
	s.flash(c, fmt.Sprintf("Customers now have %d days to object to a new sub-processor.", days))
	return redirect(c, "/subprocessors")
}
