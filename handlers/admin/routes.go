package admin

import (
	"net/http"
	"slices"

	"github.com/sendara/console/handlers/web"
)

// Routes is the admin part of the route table.
func (s *Handlers) Routes() []web.Route {
	get, post := http.MethodGet, http.MethodPost
	return slices.Concat([]web.Route{
		// Signing in
		{Method: get, Path: "/login", Handler: s.loginForm, Access: web.Public},
		{Method: post, Path: "/login", Handler: s.login, Access: web.Public},
		{Method: get, Path: "/invite/:token", Handler: s.inviteForm, Access: web.Public},
		{Method: post, Path: "/invite/:token", Handler: s.acceptInvite, Access: web.Public},
		{Method: get, Path: "/password-reset", Handler: s.forgotPasswordForm, Access: web.Public},
		{Method: post, Path: "/password-reset", Handler: s.forgotPassword, Access: web.Public},
		{Method: get, Path: "/password-reset/:token", Handler: s.resetPasswordForm, Access: web.Public},
		{Method: post, Path: "/password-reset/:token", Handler: s.resetPassword, Access: web.Public},
		{Method: get, Path: "/login/totp", Handler: s.secondFactorForm, Access: web.PartialSession},
		{Method: post, Path: "/login/totp", Handler: s.secondFactor, Access: web.PartialSession},
		{Method: get, Path: "/login/totp/enrol", Handler: s.enrolForm, Access: web.PartialSession},
		{Method: post, Path: "/login/totp/enrol", Handler: s.enrol, Access: web.PartialSession},
		{Method: post, Path: "/logout", Handler: s.logout, Access: web.PartialSession},
		{Method: get, Path: "/account", Handler: s.account, Access: web.Permitted, Perm: web.Can("account", "write")},
		{Method: post, Path: "/account/password", Handler: s.changePassword, Access: web.Permitted, Perm: web.Can("account", "write")},
		{Method: get, Path: "/account/totp", Handler: s.accountTOTPForm, Access: web.Permitted, Perm: web.Can("account", "write")},
		{Method: post, Path: "/account/totp", Handler: s.accountTOTP, Access: web.Permitted, Perm: web.Can("account", "write")},
		{Method: post, Path: "/account/totp/disable", Handler: s.accountTOTPDisable, Access: web.Permitted, Perm: web.Can("account", "write")},
		// Customers (tenants)
		{Method: get, Path: "/customers", Handler: s.customers, Access: web.Permitted, Perm: web.Can("customers", "read")},
		{Method: get, Path: "/customers/new", Handler: s.customerNew, Access: web.Permitted, Perm: web.Can("customers", "write")},
		{Method: post, Path: "/customers", Handler: s.customerCreate, Access: web.Permitted, Perm: web.Can("customers", "write")},
		{Method: get, Path: "/customers/:id", Handler: s.customer, Access: web.Permitted, Perm: web.Can("customers", "read")},
		{Method: post, Path: "/customers/:id", Handler: s.customerUpdate, Access: web.Permitted, Perm: web.Can("customers", "write")},
		{Method: post, Path: "/customers/:id/cancel", Handler: s.customerCancel, Access: web.Permitted, Perm: web.Can("customers", "write")},
		{Method: post, Path: "/customers/:id/reactivate", Handler: s.customerReactivate, Access: web.Permitted, Perm: web.Can("customers", "write")},
		// Users and roles
		{Method: get, Path: "/users", Handler: s.users, Access: web.Permitted, Perm: web.Can("users", "read")},
		{Method: post, Path: "/users", Handler: s.userCreate, Access: web.Permitted, Perm: web.Can("users", "write")},
		{Method: post, Path: "/users/require-mfa", Handler: s.usersRequireMFA, Access: web.Permitted, Perm: web.Can("users", "write")},
		{Method: post, Path: "/users/:id/role", Handler: s.userRole, Access: web.Permitted, Perm: web.Can("users", "write")},
		{Method: post, Path: "/users/:id/disable", Handler: s.userDisable, Access: web.Permitted, Perm: web.Can("users", "write")},
		{Method: post, Path: "/users/:id/enable", Handler: s.userEnable, Access: web.Permitted, Perm: web.Can("users", "write")},
		{Method: post, Path: "/users/:id/invite", Handler: s.userInvite, Access: web.Permitted, Perm: web.Can("users", "write")},
		{Method: post, Path: "/users/:id/invite/revoke", Handler: s.userInviteRevoke, Access: web.Permitted, Perm: web.Can("users", "write")},
		{Method: post, Path: "/account/notifications", Handler: s.notificationMode, Access: web.Permitted, Perm: web.Can("notifications", "write")},

		// API keys
		{Method: get, Path: "/apikeys", Handler: s.apiKeys, Access: web.Permitted, Perm: web.Can("apikeys", "read")},
		{Method: post, Path: "/apikeys", Handler: s.apiKeyCreate, Access: web.Permitted, Perm: web.Can("apikeys", "write")},
		{Method: post, Path: "/apikeys/:id/revoke", Handler: s.apiKeyRevoke, Access: web.Permitted, Perm: web.Can("apikeys", "write")},
		{Method: post, Path: "/apikeys/:id/rotate", Handler: s.apiKeyRotate, Access: web.Permitted, Perm: web.Can("apikeys", "write")},
		// Audit log
		{Method: get, Path: "/audit", Handler: s.audit, Access: web.Permitted, Perm: web.Can("audit", "read")},
		{Method: get, Path: "/audit/export.jsonl", Handler: s.auditExport, Access: web.Permitted, Perm: web.Can("audit", "export")},
		{Method: post, Path: "/audit/verify", Handler: s.auditVerify, Access: web.Permitted, Perm: web.Can("audit", "verify")},
	}, s.webhookRoutes())
}
