package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	accounts "github.com/sendara/console/models/accounts"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/views"
)

// Accounts people run themselves: "forgot password" (the invitation flow
// is in users.go and auth.go).

func (s *Server) forgotPasswordForm(c echo.Context) error {
	return s.render(c, http.StatusOK, views.ForgotPassword(views.ForgotForm{}))
}

// forgotPassword takes a reset request and gives one answer whatever the
// address: whether an account has it shows only in the audit log.
func (s *Server) forgotPassword(c echo.Context) error {
	email := c.FormValue("email")
	err := s.db.RequestPasswordReset(c.Request().Context(), email, c.RealIP(), func(token string) string {
		return s.absURL("/password-reset/" + token)
	})
	var rl *store.RateLimitError
	if errors.As(err, &rl) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds())+1))
		return s.render(c, http.StatusTooManyRequests, views.ForgotPassword(views.ForgotForm{Email: email, Error: rl.Error()}))
	}
	if errs, err := formErrors(err); err != nil {
		return err
	} else if errs != nil {
		return s.render(c, http.StatusUnprocessableEntity, views.ForgotPassword(views.ForgotForm{Email: email, Errors: errs}))
	}
	return s.render(c, http.StatusOK, views.ForgotPassword(views.ForgotForm{Email: email, Sent: true}))
}

func (s *Server) resetPasswordForm(c echo.Context) error {
	u, err := s.db.PasswordResetUser(c.Request().Context(), c.Param("token"))
	if errors.Is(err, accounts.ErrResetInvalid) {
		return s.render(c, http.StatusNotFound, views.ResetInvalid(err.Error()))
	} else if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.ResetPassword(views.ResetForm{Email: u.Email, Action: c.Request().URL.Path}))
}

func (s *Server) resetPassword(c echo.Context) error {
	ctx, token := c.Request().Context(), c.Param("token")
	err := s.db.ResetPassword(ctx, token, c.FormValue("password"), c.RealIP())
	if errors.Is(err, accounts.ErrResetInvalid) {
		return s.render(c, http.StatusNotFound, views.ResetInvalid(err.Error()))
	}
	if errs, err := formErrors(err); err != nil {
		return err
	} else if errs != nil {
		u, uerr := s.db.PasswordResetUser(ctx, token)
		if uerr != nil {
			return uerr
		}
		return s.render(c, http.StatusUnprocessableEntity, views.ResetPassword(views.ResetForm{Email: u.Email, Action: c.Request().URL.Path, Errors: errs}))
	}
	// A browser still signed in as someone else keeps that session; the
	// reset user's own sessions all ended.
	s.flash(c, "Your new password is set and every session of the account has ended. Sign in with it now.")
	return redirect(c, "/login")
}
