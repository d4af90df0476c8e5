package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sendara/console/views"
)

func (s *Server) account(c echo.Context) error {
	return s.renderAccount(c, http.StatusOK, nil, nil)
}

func (s *Server) renderAccount(c echo.Context, status int, pwErrs, totpErrs views.Errors) error {
	u := currentUser(c)
	left, err := s.db.RecoveryCodesLeft(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	required, err := s.db.MFARequired(c.Request().Context(), u)
	if err != nil {
		return err
	}
	mode, err := s.db.NotificationMode(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	return s.render(c, status, views.AccountPage(views.Account{
		Email: u.Email, Name: u.Name, RoleLabel: u.Role().Label(), HasTOTP: u.HasTOTP(),
		TOTPRequired: required, RecoveryLeft: left, PasswordErrs: pwErrs, TOTPErrs: totpErrs,
		CanNotify: s.allowed(c, "notifications", "read"), NotifyMode: mode,
	}))
}

func (s *Server) changePassword(c echo.Context) error {
	err := s.db.ChangePassword(c.Request().Context(), actor(c), c.FormValue("current_password"), c.FormValue("password"), state(c).token)
	if errs, err := formErrors(err); err != nil {
		return err
	} else if errs != nil {
		return s.renderAccount(c, http.StatusUnprocessableEntity, errs, nil)
	}
	s.flash(c, "Password changed. Your other sessions have ended.")
	return redirect(c, "/account")
}

// accountTOTPForm starts enrolment (customer users opting in) or
// re-enrolment with a new authenticator; the old factor stays until the new
// one is confirmed.
func (s *Server) accountTOTPForm(c echo.Context) error {
	key, err := s.db.BeginTOTP(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	return s.renderEnrolment(c, http.StatusOK, key, "/account/totp", "/account", "", false)
}

func (s *Server) accountTOTP(c echo.Context) error {
	return s.confirmTOTP(c, "/account/totp", false)
}

func (s *Server) accountTOTPDisable(c echo.Context) error {
	err := s.db.DisableTOTP(c.Request().Context(), actor(c), currentUser(c), c.FormValue("current_password"))
	if errs, err := formErrors(err); err != nil {
		return err
	} else if errs != nil {
		return s.renderAccount(c, http.StatusUnprocessableEntity, nil, errs)
	}
	s.flash(c, "Two-step sign-in is off.")
	return redirect(c, "/account")
}

// notificationMode saves how the user wants notifications mailed.
func (s *Server) notificationMode(c echo.Context) error {
	err := s.db.SetNotificationMode(c.Request().Context(), actor(c), c.FormValue("mode"))
	if errs, err := formErrors(err); err != nil {
		return err
	} else if errs != nil {
		return s.renderAccount(c, http.StatusUnprocessableEntity, nil, nil)
	}
	s.flash(c, map[string]string{"mail": "Each notification will be mailed to you at once.",
		"digest": "Notifications will come in one digest mail a day."}[c.FormValue("mode")])
	return redirect(c, "/account")
}
