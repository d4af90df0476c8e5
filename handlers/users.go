package handlers

import (
	accounts "github.com/sendara/console/models/accounts"

	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/views"
)

func (s *Server) users(c echo.Context) error {
	return s.renderUsers(c, http.StatusOK, views.UserForm{Role: string(accounts.RoleCustomerAgent)})
}

func (s *Server) renderUsers(c echo.Context, status int, f views.UserForm) error {
	ctx, a := c.Request().Context(), actor(c)
	us, err := s.db.Users(ctx, a)
	if err != nil {
		return err
	}
	if err := s.db.Record(ctx, a, store.Audit{Action: "user.list", ObjectType: "user", CustomerID: a.CustomerID,
		Details: map[string]any{"results": len(us)}}); err != nil {
		return err
	}
	p := views.UserList{Users: us, Grantable: accounts.GrantableBy(a), CanWrite: s.allowed(c, "users", "write"),
		SelfID: a.ID, Form: f, Loc: s.cfg.Location}
	if p.Pending, err = s.db.PendingInvites(ctx, a); err != nil {
		return err
	}
	if a.Staff() {
		if p.Customers, p.Options, err = s.customerChoices(c); err != nil {
			return err
		}
	} else {
		cust, err := s.db.Customer(ctx, a, a.CustomerID)
		if err != nil {
			return err
		}
		p.TenantMFA = &cust.RequireMFA
	}
	return s.render(c, status, views.Users(p))
}

// usersRequireMFA sets whether every user of the admin's customer must use
// two-step sign-in.
func (s *Server) usersRequireMFA(c echo.Context) error {
	on := c.FormValue("require_mfa") == "on"
	if err := s.db.SetRequireMFA(c.Request().Context(), actor(c), on); err != nil {
		return err
	}
	if on {
		s.flash(c, "Two-step sign-in is now required for every user; those without it set it up at their next sign-in.")
	} else {
		s.flash(c, "Two-step sign-in is now each user's choice.")
	}
	return redirect(c, "/users")
}

// userCreate invites a user: the account is created without a password and
// a single-use link is mailed to the user through the outbox.
func (s *Server) userCreate(c echo.Context) error {
	ctx := c.Request().Context()
	f := views.UserForm{Email: c.FormValue("email"), Name: c.FormValue("name"), Role: c.FormValue("role"),
		CustomerID: strings.TrimSpace(c.FormValue("customer_id"))}
	role := accounts.Role(f.Role)
	customerID := f.CustomerID
	if role.Staff() {
		customerID = ""
	}
	u, err := s.db.CreateUser(ctx, actor(c), accounts.UserInput{Email: f.Email, Name: f.Name, Role: role, CustomerID: customerID})
	if err == nil {
		var inv *accounts.Invitation
		if inv, err = s.db.CreateInvite(ctx, actor(c), u.ID, s.inviteLink); err == nil {
			s.flash(c, views.InviteSent(inv.Email, inv.ExpiresAt, inv.Resent))
			return redirect(c, "/users")
		}
	}
	if f.Errors, err = formErrors(err); err != nil {
		return err
	}
	return s.renderUsers(c, http.StatusUnprocessableEntity, f)
}

// userInvite mails a user a new single-use sign-in link: the invitation's
// resend (a new token and a new expiry; the earlier link stops working),
// and an admin's reset of an active user's password.
func (s *Server) userInvite(c echo.Context) error {
	inv, err := s.db.CreateInvite(c.Request().Context(), actor(c), c.Param("id"), s.inviteLink)
	if err != nil {
		return err
	}
	s.flash(c, views.InviteSent(inv.Email, inv.ExpiresAt, inv.Resent))
	return redirect(c, "/users")
}

// userInviteRevoke withdraws a pending invitation.
func (s *Server) userInviteRevoke(c echo.Context) error {
	if err := s.db.RevokeInvite(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	s.flash(c, "Invitation revoked: its link no longer works.")
	return redirect(c, "/users")
}

func (s *Server) inviteLink(token string) string { return s.absURL("/invite/" + token) }

func (s *Server) userRole(c echo.Context) error {
	if err := s.db.SetUserRole(c.Request().Context(), actor(c), c.Param("id"), accounts.Role(c.FormValue("role"))); err != nil {
		return err
	}
	s.flash(c, "Role changed.")
	return redirect(c, "/users")
}

func (s *Server) userDisable(c echo.Context) error {
	return s.setDisabled(c, true, "User disabled; their sessions ended.")
}
func (s *Server) userEnable(c echo.Context) error { return s.setDisabled(c, false, "User enabled.") }

func (s *Server) setDisabled(c echo.Context, disabled bool, msg string) error {
	if err := s.db.SetUserDisabled(c.Request().Context(), actor(c), c.Param("id"), disabled); err != nil {
		return err
	}
	s.flash(c, msg)
	return redirect(c, "/users")
}
