package admin

import (
	"net/http"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/adminpages"

	"github.com/labstack/echo/v4"

	"github.com/sendara/console/views"
)

func (s *Handlers) account(c echo.Context) error {
	return s.renderAccount(c, http.StatusOK, nil, nil)
}

func (s *Handlers) renderAccount(c echo.Context, status int, pwErrs, totpErrs views.Errors) error {
	u := web.CurrentUser(c)
	left, err := s.DB.RecoveryCodesLeft(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	required, err := s.DB.MFARequired(c.Request().Context(), u)
	if err != nil {
		return err
	}
	mode, err := s.DB.NotificationMode(c.Request().Context(), web.Actor(c))
	if err != nil {
		return err
	}
	return s.Render(c, status, adminpages.AccountPage(adminpages.Account{
		Email: u.Email, Name: u.Name, RoleLabel: u.Role().Label(), HasTOTP: u.HasTOTP(),
		TOTPRequired: required, RecoveryLeft: left, PasswordErrs: pwErrs, TOTPErrs: totpErrs,
		CanNotify: s.Allowed(c, "notifications", "read"), NotifyMode: mode,
	}))
}

func (s *Handlers) changePassword(c echo.Context) error {
	err := s.DB.ChangePassword(c.Request().Context(), web.Actor(c), c.FormValue("current_password"), c.FormValue("password"), web.State(c).Token)
	if errs, err := web.FormErrors(err); err != nil {
		return err
	} else if errs != nil {
		return s.renderAccount(c, http.StatusUnprocessableEntity, errs, nil)
	}
	s.Flash(c, "Password changed. Your other sessions have ended.")
	return web.Redirect(c, "/account")
}

// accountTOTPForm starts enrolment (customer users opting in) or
// re-enrolment with a new authenticator; the old factor stays until the new
// one is confirmed.
func (s *Handlers) accountTOTPForm(c echo.Context) error {
	key, err := s.DB.BeginTOTP(c.Request().Context(), web.CurrentUser(c))
	if err != nil {
		return err
	}
	return s.renderEnrolment(c, http.StatusOK, key, "/account/totp", "/account", "", false)
}

func (s *Handlers) accountTOTP(c echo.Context) error {
	return s.confirmTOTP(c, "/account/totp", false)
}

func (s *Handlers) accountTOTPDisable(c echo.Context) error {
	err := s.DB.DisableTOTP(c.Request().Context(), web.Actor(c), web.CurrentUser(c), c.FormValue("current_password"))
	if errs, err := web.FormErrors(err); err != nil {
		return err
	} else if errs != nil {
		return s.renderAccount(c, http.StatusUnprocessableEntity, nil, errs)
	}
	s.Flash(c, "Two-step sign-in is off.")
	return web.Redirect(c, "/account")
}

// notificationMode saves how the user wants notifications mailed.
func (s *Handlers) notificationMode(c echo.Context) error {
	err := s.DB.SetNotificationMode(c.Request().Context(), web.Actor(c), c.FormValue("mode"))
	if errs, err := web.FormErrors(err); err != nil {
		return err
	} else if errs != nil {
		return s.renderAccount(c, http.StatusUnprocessableEntity, nil, nil)
	}
	s.Flash(c, map[string]string{"mail": "Each notification will be mailed to you at once.",
		"digest": "Notifications will come in one digest mail a day."}[c.FormValue("mode")])
	return web.Redirect(c, "/account")
}
