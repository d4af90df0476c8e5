package admin

import (
	"github.com/sendara/console/handlers/web"
	accounts "github.com/sendara/console/models/accounts"
	errs "github.com/sendara/console/models/errs"
	"github.com/sendara/console/views/adminpages"

	"bytes"
	"encoding/base64"
	"errors"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp"
	store "github.com/sendara/console/models/store"
)

func (s *Handlers) loginForm(c echo.Context) error {
	if st := web.State(c); st.Session != nil && st.Session.MFAPassed {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return s.Render(c, http.StatusOK, adminpages.Login(adminpages.LoginForm{Next: web.LocalPath(c.QueryParam("next"))}))
}

func (s *Handlers) login(c echo.Context) error {
	email, next := c.FormValue("email"), web.LocalPath(c.FormValue("next"))
	res, err := s.DB.Login(c.Request().Context(), email, c.FormValue("password"), c.RealIP(), c.Request().UserAgent(), s.Cfg.Session)
	var rl *store.RateLimitError
	switch {
	case errors.As(err, &rl):
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds())+1))
		return s.Render(c, http.StatusTooManyRequests, adminpages.Login(adminpages.LoginForm{Email: email, Next: next, Error: rl.Error()}))
	case errors.Is(err, accounts.ErrBadCredentials):
		return s.Render(c, http.StatusUnauthorized, adminpages.Login(adminpages.LoginForm{Email: email, Next: next,
			Error: "Email or password is incorrect."}))
	case err != nil:
		return err
	}
	// A new session id at sign-in: whatever session the browser had ends.
	if old := web.State(c).Token; old != "" {
		_ = s.DB.Logout(c.Request().Context(), web.Actor(c), old)
	}
	s.SetCookie(c, web.SessionCookie, res.Token, 0)
	if res.NeedsMFA {
		return web.Redirect(c, web.SecondFactorPath(res.User)+"?next="+url.QueryEscape(next))
	}
	return web.Redirect(c, next)
}

func (s *Handlers) logout(c echo.Context) error {
	if err := s.DB.Logout(c.Request().Context(), web.Actor(c), web.State(c).Token); err != nil {
		return err
	}
	s.ClearCookie(c, web.SessionCookie)
	s.Flash(c, "You are signed out.")
	return web.Redirect(c, "/login")
}

func (s *Handlers) secondFactorForm(c echo.Context) error {
	st := web.State(c)
	if st.Session.MFAPassed {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	if !st.User.HasTOTP() {
		return c.Redirect(http.StatusSeeOther, "/login/totp/enrol")
	}
	return s.Render(c, http.StatusOK, adminpages.SecondFactor("", web.LocalPath(c.QueryParam("next"))))
}

func (s *Handlers) secondFactor(c echo.Context) error {
	st := web.State(c)
	if st.Session.MFAPassed {
		return web.Redirect(c, "/")
	}
	next := web.LocalPath(c.FormValue("next"))
	err := s.DB.VerifySecondFactor(c.Request().Context(), web.Actor(c), st.Token, st.User, c.FormValue("code"))
	var rl *store.RateLimitError
	switch {
	case errors.As(err, &rl):
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds())+1))
		return s.Render(c, http.StatusTooManyRequests, adminpages.SecondFactor(rl.Error(), next))
	case errors.Is(err, accounts.ErrTooManyCodes):
		s.ClearCookie(c, web.SessionCookie)
		s.Flash(c, "Too many wrong codes. Sign in again.")
		return web.Redirect(c, "/login")
	case errors.Is(err, accounts.ErrBadCode):
		return s.Render(c, http.StatusUnauthorized, adminpages.SecondFactor("That code is not valid or was already used. Wait for the next code, or use a recovery code.", next))
	case err != nil:
		return err
	}
	return web.Redirect(c, next)
}

// enrolForm shows the TOTP set-up during sign-in: required for staff
// roles, whose session stays limited until it is done.
func (s *Handlers) enrolForm(c echo.Context) error {
	st := web.State(c)
	if st.Session.MFAPassed || st.User.HasTOTP() {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	key, err := s.DB.BeginTOTP(c.Request().Context(), st.User)
	if err != nil {
		return err
	}
	return s.renderEnrolment(c, http.StatusOK, key, "/login/totp/enrol", web.LocalPath(c.QueryParam("next")), "", true)
}

func (s *Handlers) enrol(c echo.Context) error {
	st := web.State(c)
	if st.Session.MFAPassed || st.User.HasTOTP() {
		return web.Redirect(c, "/")
	}
	return s.confirmTOTP(c, "/login/totp/enrol", true)
}

// confirmTOTP checks the code against the secret the form carried and, on
// success, shows the recovery codes once.
func (s *Handlers) confirmTOTP(c echo.Context, action string, required bool) error {
	secret, next := strings.TrimSpace(c.FormValue("secret")), web.LocalPath(c.FormValue("next"))
	codes, err := s.DB.ConfirmTOTP(c.Request().Context(), web.Actor(c), web.State(c).Token, secret, c.FormValue("code"))
	if v, ok := errs.AsValidation(err); ok {
		key, kerr := accounts.TOTPKey(web.CurrentUser(c).Email, secret)
		if kerr != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "The set-up form was incomplete. Start again.")
		}
		return s.renderEnrolment(c, http.StatusUnprocessableEntity, key, action, next, "The code "+v.Message+".", required)
	}
	if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, adminpages.RecoveryCodes(codes, next))
}

func (s *Handlers) renderEnrolment(c echo.Context, status int, key *otp.Key, action, next, errMsg string, required bool) error {
	img, err := key.Image(200, 200)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return s.Render(c, status, adminpages.EnrolTOTP(adminpages.Enrolment{
		Secret: key.Secret(), Account: key.AccountName(), Action: action, Next: next, Error: errMsg, Required: required,
		QRData: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
	}))
}

func (s *Handlers) inviteForm(c echo.Context) error {
	u, err := s.DB.InviteUser(c.Request().Context(), c.Param("token"))
	if errors.Is(err, accounts.ErrInviteInvalid) {
		return s.Render(c, http.StatusNotFound, adminpages.InviteInvalid(err.Error()))
	} else if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, adminpages.Invite(adminpages.InviteForm{Email: u.Email, Action: c.Request().URL.Path}))
}

func (s *Handlers) acceptInvite(c echo.Context) error {
	token := c.Param("token")
	err := s.DB.AcceptInvite(c.Request().Context(), token, c.FormValue("password"), c.RealIP())
	if errors.Is(err, accounts.ErrInviteInvalid) {
		return s.Render(c, http.StatusNotFound, adminpages.InviteInvalid(err.Error()))
	}
	if errs, err := web.FormErrors(err); err != nil {
		return err
	} else if errs != nil {
		u, uerr := s.DB.InviteUser(c.Request().Context(), token)
		if uerr != nil {
			return uerr
		}
		return s.Render(c, http.StatusUnprocessableEntity, adminpages.Invite(adminpages.InviteForm{Email: u.Email, Action: c.Request().URL.Path, Errors: errs}))
	}
	s.Flash(c, "Your password is set. Sign in with it now.")
	return web.Redirect(c, "/login")
}
