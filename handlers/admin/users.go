package admin

import (
	"github.com/sendara/console/handlers/web"
	accounts "github.com/sendara/console/models/accounts"
	"github.com/sendara/console/views/adminpages"

	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
)

func (s *Handlers) users(c echo.Context) error {
	return s.renderUsers(c, http.StatusOK, adminpages.UserForm{Role: string(accounts.RoleCustomerAgent)})
}

func (s *Handlers) renderUsers(c echo.Context, status int, f adminpages.UserForm) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	us, err := s.DB.Users(ctx, a)
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "user.list", ObjectType: "user", CustomerID: a.CustomerID,
		Details: map[string]any{"results": len(us)}}); err != nil {
		return err
	}
	p := adminpages.UserList{Users: us, Grantable: accounts.GrantableBy(a), CanWrite: s.Allowed(c, "users", "write"),
		SelfID: a.ID, Form: f, Loc: s.Cfg.Location}
	if p.Pending, err = s.DB.PendingInvites(ctx, a); err != nil {
		return err
	}
	if a.Staff() {
		if p.Customers, p.Options, err = s.CustomerChoices(c); err != nil {
			return err
		}
	} else {
		cust, err := s.DB.Customer(ctx, a, a.CustomerID)
		if err != nil {
			return err
		}
		p.TenantMFA = &cust.RequireMFA
	}
	return s.Render(c, status, adminpages.Users(p))
}

// usersRequireMFA sets whether every user of the admin's customer must use
// two-step sign-in.
func (s *Handlers) usersRequireMFA(c echo.Context) error {
	on := c.FormValue("require_mfa") == "on"
	if err := s.DB.SetRequireMFA(c.Request().Context(), web.Actor(c), on); err != nil {
		return err
	}
	if on {
		s.Flash(c, "Two-step sign-in is now required for every user; those without it set it up at their next sign-in.")
	} else {
		s.Flash(c, "Two-step sign-in is now each user's choice.")
	}
	return web.Redirect(c, "/users")
}

// userCreate invites a user: the account is created without a password and
// a single-use link is mailed to the user through the outbox.
func (s *Handlers) userCreate(c echo.Context) error {
	ctx := c.Request().Context()
	f := adminpages.UserForm{Email: c.FormValue("email"), Name: c.FormValue("name"), Role: c.FormValue("role"),
		CustomerID: strings.TrimSpace(c.FormValue("customer_id"))}
	role := accounts.Role(f.Role)
	customerID := f.CustomerID
	if role.Staff() {
		customerID = ""
	}
	u, err := s.DB.CreateUser(ctx, web.Actor(c), accounts.UserInput{Email: f.Email, Name: f.Name, Role: role, CustomerID: customerID})
	if err == nil {
		var inv *accounts.Invitation
		if inv, err = s.DB.CreateInvite(ctx, web.Actor(c), u.ID, s.inviteLink); err == nil {
			s.Flash(c, adminpages.InviteSent(inv.Email, inv.ExpiresAt, inv.Resent))
			return web.Redirect(c, "/users")
		}
	}
	if f.Errors, err = web.FormErrors(err); err != nil {
		return err
	}
	return s.renderUsers(c, http.StatusUnprocessableEntity, f)
}

// userInvite mails a user a new single-use sign-in link: the invitation's
// resend (a new token and a new expiry; the earlier link stops working),
// and an admin's reset of an active user's password.
func (s *Handlers) userInvite(c echo.Context) error {
	inv, err := s.DB.CreateInvite(c.Request().Context(), web.Actor(c), c.Param("id"), s.inviteLink)
	if err != nil {
		return err
	}
	s.Flash(c, adminpages.InviteSent(inv.Email, inv.ExpiresAt, inv.Resent))
	return web.Redirect(c, "/users")
}

// userInviteRevoke withdraws a pending invitation.
func (s *Handlers) userInviteRevoke(c echo.Context) error {
	if err := s.DB.RevokeInvite(c.Request().Context(), web.Actor(c), c.Param("id")); err != nil {
		return err
	}
	s.Flash(c, "Invitation revoked: its link no longer works.")
	return web.Redirect(c, "/users")
}

func (s *Handlers) inviteLink(token string) string { return s.AbsURL("/invite/" + token) }

func (s *Handlers) userRole(c echo.Context) error {
	if err := s.DB.SetUserRole(c.Request().Context(), web.Actor(c), c.Param("id"), accounts.Role(c.FormValue("role"))); err != nil {
		return err
	}
	s.Flash(c, "Role changed.")
	return web.Redirect(c, "/users")
}

func (s *Handlers) userDisable(c echo.Context) error {
	return s.setDisabled(c, true, "User disabled; their sessions ended.")
}
func (s *Handlers) userEnable(c echo.Context) error { return s.setDisabled(c, false, "User enabled.") }

func (s *Handlers) setDisabled(c echo.Context, disabled bool, msg string) error {
	if err := s.DB.SetUserDisabled(c.Request().Context(), web.Actor(c), c.Param("id"), disabled); err != nil {
		return err
	}
	s.Flash(c, msg)
	return web.Redirect(c, "/users")
}
