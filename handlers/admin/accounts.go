package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/adminpages"

	"github.com/labstack/echo/v4"
	accounts "github.com/sendara/console/models/accounts"
	store "github.com/sendara/console/models/store"
)

// Accounts people run themselves: "forgot password" (the invitation flow
// is in users.go and auth.go).

func (s *Handlers) forgotPasswordForm(c echo.Context) error {
	return s.Render(c, http.StatusOK, adminpages.ForgotPassword(adminpages.ForgotForm{}))
}

// forgotPassword takes a reset request and gives one answer whatever the
// address: whether an account has it shows only in the audit log.
func (s *Handlers) forgotPassword(c echo.Context) error {
	email := c.FormValue("email")
	err := s.DB.RequestPasswordReset(c.Request().Context(), email, c.RealIP(), func(token string) string {
		return s.AbsURL("/password-reset/" + token)
	})
	var rl *store.RateLimitError
	if errors.As(err, &rl) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds())+1))
		return s.Render(c, http.StatusTooManyRequests, adminpages.ForgotPassword(adminpages.ForgotForm{Email: email, Error: rl.Error()}))
	}
	if errs, err := web.FormErrors(err); err != nil {
		return err
	} else if errs != nil {
		return s.Render(c, http.StatusUnprocessableEntity, adminpages.ForgotPassword(adminpages.ForgotForm{Email: email, Errors: errs}))
	}
	return s.Render(c, http.StatusOK, adminpages.ForgotPassword(adminpages.ForgotForm{Email: email, Sent: true}))
}

func (s *Handlers) resetPasswordForm(c echo.Context) error {
	u, err := s.DB.PasswordResetUser(c.Request().Context(), c.Param("token"))
	if errors.Is(err, accounts.ErrResetInvalid) {
		return s.Render(c, http.StatusNotFound, adminpages.ResetInvalid(err.Error()))
	} else if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, adminpages.ResetPassword(adminpages.ResetForm{Email: u.Email, Action: c.Request().URL.Path}))
}

func (s *Handlers) resetPassword(c echo.Context) error {
	ctx, token := c.Request().Context(), c.Param("token")
	err := s.DB.ResetPassword(ctx, token, c.FormValue("password"), c.RealIP())
	if errors.Is(err, accounts.ErrResetInvalid) {
		return s.Render(c, http.StatusNotFound, adminpages.ResetInvalid(err.Error()))
	}
	if errs, err := web.FormErrors(err); err != nil {
		return err
	} else if errs != nil {
		u, uerr := s.DB.PasswordResetUser(ctx, token)
		if uerr != nil {
			return uerr
		}
		return s.Render(c, http.StatusUnprocessableEntity, adminpages.ResetPassword(adminpages.ResetForm{Email: u.Email, Action: c.Request().URL.Path, Errors: errs}))
	}
	// A browser still signed in as someone else keeps that session; the
	// reset user's own sessions all ended.
	s.Flash(c, "Your new password is set and every session of the account has ended. Sign in with it now.")
	return web.Redirect(c, "/login")
}
