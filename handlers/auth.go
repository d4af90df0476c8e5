package handlers

import (
	accounts "github.com/sendara/console/models/accounts"
	errs "github.com/sendara/console/models/errs"

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
	"github.com/sendara/console/views"
)

func (s *Server) loginForm(c echo.Context) error {
	if st := state(c); st.session != nil && st.session.MFAPassed {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return s.render(c, http.StatusOK, views.Login(views.LoginForm{Next: localPath(c.QueryParam("next"))}))
}

func (s *Server) login(c echo.Context) error {
	email, next := c.FormValue("email"), localPath(c.FormValue("next"))
	res, err := s.db.Login(c.Request().Context(), email, c.FormValue("password"), c.RealIP(), c.Request().UserAgent(), s.cfg.Session)
	var rl *store.RateLimitError
	switch {
	case errors.As(err, &rl):
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds())+1))
		return s.render(c, http.StatusTooManyRequests, views.Login(views.LoginForm{Email: email, Next: next, Error: rl.Error()}))
	case errors.Is(err, accounts.ErrBadCredentials):
		return s.render(c, http.StatusUnauthorized, views.Login(views.LoginForm{Email: email, Next: next,
			Error: "Email or password is incorrect."}))
	case err != nil:
		return err
	}
	// A new session id at sign-in: whatever session the browser had ends.
	if old := state(c).token; old != "" {
		_ = s.db.Logout(c.Request().Context(), actor(c), old)
	}
	s.setCookie(c, sessionCookie, res.Token, 0)
	if res.NeedsMFA {
		return redirect(c, secondFactorPath(res.User)+"?next="+url.QueryEscape(next))
	}
	return redirect(c, next)
}

func (s *Server) logout(c echo.Context) error {
	if err := s.db.Logout(c.Request().Context(), actor(c), state(c).token); err != nil {
		return err
	}
	s.clearCookie(c, sessionCookie)
	s.flash(c, "You are signed out.")
	return redirect(c, "/login")
}

func (s *Server) secondFactorForm(c echo.Context) error {
	st := state(c)
	if st.session.MFAPassed {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	if !st.user.HasTOTP() {
		return c.Redirect(http.StatusSeeOther, "/login/totp/enrol")
	}
	return s.render(c, http.StatusOK, views.SecondFactor("", localPath(c.QueryParam("next"))))
}

func (s *Server) secondFactor(c echo.Context) error {
	st := state(c)
	if st.session.MFAPassed {
		return redirect(c, "/")
	}
	next := localPath(c.FormValue("next"))
	err := s.db.VerifySecondFactor(c.Request().Context(), actor(c), st.token, st.user, c.FormValue("code"))
	var rl *store.RateLimitError
	switch {
	case errors.As(err, &rl):
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds())+1))
		return s.render(c, http.StatusTooManyRequests, views.SecondFactor(rl.Error(), next))
	case errors.Is(err, accounts.ErrTooManyCodes):
		s.clearCookie(c, sessionCookie)
		s.flash(c, "Too many wrong codes. Sign in again.")
		return redirect(c, "/login")
	case errors.Is(err, accounts.ErrBadCode):
		return s.render(c, http.StatusUnauthorized, views.SecondFactor("That code is not valid or was already used. Wait for the next code, or use a recovery code.", next))
	case err != nil:
		return err
	}
	return redirect(c, next)
}

// enrolForm shows the TOTP set-up during sign-in: required for staff
// roles, whose session stays limited until it is done.
func (s *Server) enrolForm(c echo.Context) error {
	st := state(c)
	if st.session.MFAPassed || st.user.HasTOTP() {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	key, err := s.db.BeginTOTP(c.Request().Context(), st.user)
	if err != nil {
		return err
	}
	return s.renderEnrolment(c, http.StatusOK, key, "/login/totp/enrol", localPath(c.QueryParam("next")), "", true)
}

func (s *Server) enrol(c echo.Context) error {
	st := state(c)
	if st.session.MFAPassed || st.user.HasTOTP() {
		return redirect(c, "/")
	}
	return s.confirmTOTP(c, "/login/totp/enrol", true)
}

// confirmTOTP checks the code against the secret the form carried and, on
// success, shows the recovery codes once.
func (s *Server) confirmTOTP(c echo.Context, action string, required bool) error {
	secret, next := strings.TrimSpace(c.FormValue("secret")), localPath(c.FormValue("next"))
	codes, err := s.db.ConfirmTOTP(c.Request().Context(), actor(c), state(c).token, secret, c.FormValue("code"))
	if v, ok := errs.AsValidation(err); ok {
		key, kerr := accounts.TOTPKey(currentUser(c).Email, secret)
		if kerr != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "The set-up form was incomplete. Start again.")
		}
		return s.renderEnrolment(c, http.StatusUnprocessableEntity, key, action, next, "The code "+v.Message+".", required)
	}
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.RecoveryCodes(codes, next))
}

func (s *Server) renderEnrolment(c echo.Context, status int, key *otp.Key, action, next, errMsg string, required bool) error {
	img, err := key.Image(200, 200)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return s.render(c, status, views.EnrolTOTP(views.Enrolment{
		Secret: key.Secret(), Account: key.AccountName(), Action: action, Next: next, Error: errMsg, Required: required,
		QRData: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
	}))
}

func (s *Server) inviteForm(c echo.Context) error {
	u, err := s.db.InviteUser(c.Request().Context(), c.Param("token"))
	if errors.Is(err, accounts.ErrInviteInvalid) {
		return s.render(c, http.StatusNotFound, views.InviteInvalid(err.Error()))
	} else if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.Invite(views.InviteForm{Email: u.Email, Action: c.Request().URL.Path}))
}

func (s *Server) acceptInvite(c echo.Context) error {
	token := c.Param("token")
	err := s.db.AcceptInvite(c.Request().Context(), token, c.FormValue("password"), c.RealIP())
	if errors.Is(err, accounts.ErrInviteInvalid) {
		return s.render(c, http.StatusNotFound, views.InviteInvalid(err.Error()))
	}
	if errs, err := formErrors(err); err != nil {
		return err
	} else if errs != nil {
		u, uerr := s.db.InviteUser(c.Request().Context(), token)
		if uerr != nil {
			return uerr
		}
		return s.render(c, http.StatusUnprocessableEntity, views.Invite(views.InviteForm{Email: u.Email, Action: c.Request().URL.Path, Errors: errs}))
	}
	s.flash(c, "Your password is set. Sign in with it now.")
	return redirect(c, "/login")
}
