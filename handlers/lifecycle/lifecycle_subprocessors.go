package lifecycle

import (
	"github.com/sendara/console/handlers/web"
	calendar "github.com/sendara/console/models/calendar"
	errs "github.com/sendara/console/models/errs"
	"github.com/sendara/console/views/lifecyclepages"

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
func (s *Handlers) subprocessors(c echo.Context) error {
	return s.renderSubprocessors(c, http.StatusOK, lifecyclepages.SubprocessorsPage{})
}

func (s *Handlers) renderSubprocessors(c echo.Context, status int, p lifecyclepages.SubprocessorsPage) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	var err error
	if p.List, err = s.DB.Subprocessors(ctx); err != nil {
		return err
	}
	if p.Policies, err = s.DB.PolicyVersions(ctx); err != nil {
		return err
	}
	if p.Objections, err = s.DB.SubprocessorObjections(ctx, a); err != nil {
		return err
	}
	if p.ObjectionDays, err = s.DB.ObjectionDays(ctx); err != nil {
		return err
	}
	p.Today = calendar.TodayIn(s.Cfg.Business.Loc)
	p.Staff, p.CanWrite, p.CanObject, p.CanSettings = a.Staff(), s.Allowed(c, "subprocessors", "write"),
		s.Allowed(c, "subprocessors", "object"), s.Allowed(c, "subprocessors", "settings")
	return s.Render(c, status, lifecyclepages.Subprocessors(p))
}

func (s *Handlers) subprocessorsFailed(c echo.Context, err error, set func(*lifecyclepages.SubprocessorsPage, views.Errors)) error {
	errs, err := web.FormErrors(err)
	if err != nil {
		return err
	}
	var p lifecyclepages.SubprocessorsPage
	set(&p, errs)
	return s.renderSubprocessors(c, http.StatusUnprocessableEntity, p)
}

func (s *Handlers) subprocessorAdd(c echo.Context) error {
	f := lifecyclepages.SubprocessorForm{Name: c.FormValue("name"), Purpose: c.FormValue("purpose"), Location: c.FormValue("location"),
		TransferSafeguard: c.FormValue("transfer_safeguard"), EffectiveOn: c.FormValue("effective_on")}
	on, err := formDate("effective_on", f.EffectiveOn)
	var mails int
	if err == nil {
		_, mails, err = s.DB.AddSubprocessor(c.Request().Context(), web.Actor(c), registers.SubprocessorInput{Name: f.Name, Purpose: f.Purpose,
			Location: f.Location, TransferSafeguard: f.TransferSafeguard, EffectiveOn: on}, calendar.TodayIn(s.Cfg.Business.Loc), s.Cfg.BaseURL)
	}
	if err != nil {
		return s.subprocessorsFailed(c, err, func(p *lifecyclepages.SubprocessorsPage, e views.Errors) { f.Errors = e; p.Add = f })
	}
	s.Flash(c, fmt.Sprintf("Sub-processor added; %d mail(s) to customers' admins queued.", mails))
	return web.Redirect(c, "/subprocessors")
}

func (s *Handlers) subprocessorRemove(c echo.Context) error {
	on, err := formDate("removed_on", c.FormValue("removed_on"))
	if err == nil {
		err = s.DB.RemoveSubprocessor(c.Request().Context(), web.Actor(c), c.Param("id"), on)
	}
	if err != nil {
		return s.subprocessorsFailed(c, err, func(p *lifecyclepages.SubprocessorsPage, e views.Errors) { p.Errors = e })
	}
	s.Flash(c, "Sub-processor removed from the list; it stays in the history.")
	return web.Redirect(c, "/subprocessors")
}

func (s *Handlers) subprocessorObject(c echo.Context) error {
	_, err := s.DB.ObjectToSubprocessor(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("reason"), calendar.TodayIn(s.Cfg.Business.Loc))
	if err != nil {
		return s.subprocessorsFailed(c, err, func(p *lifecyclepages.SubprocessorsPage, e views.Errors) { p.Errors = e; p.ObjectingTo = c.Param("id") })
	}
	s.Flash(c, "Your objection was recorded; Sendara's privacy team will contact you.")
	return web.Redirect(c, "/subprocessors")
}

func (s *Handlers) policyVersionAdd(c echo.Context) error {
	f := lifecyclepages.PolicyForm{Version: c.FormValue("version"), Summary: c.FormValue("summary"), URL: c.FormValue("url"), EffectiveOn: c.FormValue("effective_on")}
	on, err := formDate("effective_on", f.EffectiveOn)
	var mails int
	if err == nil {
		_, mails, err = s.DB.AddPolicyVersion(c.Request().Context(), web.Actor(c), registers.PolicyVersionInput{Version: f.Version, Summary: f.Summary,
			URL: f.URL, EffectiveOn: on}, calendar.TodayIn(s.Cfg.Business.Loc), s.Cfg.BaseURL)
	}
	if err != nil {
		return s.subprocessorsFailed(c, err, func(p *lifecyclepages.SubprocessorsPage, e views.Errors) { f.Errors = e; p.Policy = f })
	}
	s.Flash(c, fmt.Sprintf("Policy version recorded; %d mail(s) to customers' admins queued.", mails))
	return web.Redirect(c, "/subprocessors")
}

func (s *Handlers) subprocessorSettings(c echo.Context) error {
	days, err := strconv.Atoi(strings.TrimSpace(c.FormValue("days")))
	if err != nil {
		err = errs.Invalid("days", "must be a whole number of days")
	} else {
		err = s.DB.SetObjectionDays(c.Request().Context(), web.Actor(c), days)
	}
	if err != nil {
		return s.subprocessorsFailed(c, err, func(p *lifecyclepages.SubprocessorsPage, e views.Errors) { p.Errors = e })
	}
	s.Flash(c, fmt.Sprintf("Customers now have %d days to object to a new sub-processor.", days))
	return web.Redirect(c, "/subprocessors")
}
