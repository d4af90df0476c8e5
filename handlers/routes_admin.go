package handlers

import (
	"net/http"
	"slices"

	"github.com/sendara/console/rbac"
)

// AdminRoutes is the admin part of the route table.
func (s *Server) AdminRoutes() []route {
	get, post := http.MethodGet, http.MethodPost
	_, _ = get, post
	return append([]route{
		// Signing in
		{get, "/login", s.loginForm, public, rbac.Permission{}, false},
		{post, "/login", s.login, public, rbac.Permission{}, false},
		{get, "/invite/:token", s.inviteForm, public, rbac.Permission{}, false},
		{post, "/invite/:token", s.acceptInvite, public, rbac.Permission{}, false},
		{get, "/password-reset", s.forgotPasswordForm, public, rbac.Permission{}, false},
		{post, "/password-reset", s.forgotPassword, public, rbac.Permission{}, false},
		{get, "/password-reset/:token", s.resetPasswordForm, public, rbac.Permission{}, false},
		{post, "/password-reset/:token", s.resetPassword, public, rbac.Permission{}, false},
		{get, "/login/totp", s.secondFactorForm, partialSession, rbac.Permission{}, false},
		{post, "/login/totp", s.secondFactor, partialSession, rbac.Permission{}, false},
		{get, "/login/totp/enrol", s.enrolForm, partialSession, rbac.Permission{}, false},
		{post, "/login/totp/enrol", s.enrol, partialSession, rbac.Permission{}, false},
		{post, "/logout", s.logout, partialSession, rbac.Permission{}, false},
		{get, "/account", s.account, permitted, can("account", "write"), false},
		{post, "/account/password", s.changePassword, permitted, can("account", "write"), false},
		{get, "/account/totp", s.accountTOTPForm, permitted, can("account", "write"), false},
		{post, "/account/totp", s.accountTOTP, permitted, can("account", "write"), false},
		{post, "/account/totp/disable", s.accountTOTPDisable, permitted, can("account", "write"), false},
		// Customers (tenants)
		{get, "/customers", s.customers, permitted, can("customers", "read"), false},
		{get, "/customers/new", s.customerNew, permitted, can("customers", "write"), false},
		{post, "/customers", s.customerCreate, permitted, can("customers", "write"), false},
		{get, "/customers/:id", s.customer, permitted, can("customers", "read"), false},
		{post, "/customers/:id", s.customerUpdate, permitted, can("customers", "write"), false},
		{post, "/customers/:id/cancel", s.customerCancel, permitted, can("customers", "write"), false},
		{post, "/customers/:id/reactivate", s.customerReactivate, permitted, can("customers", "write"), false},
		// Users and roles
		{get, "/users", s.users, permitted, can("users", "read"), false},
		{post, "/users", s.userCreate, permitted, can("users", "write"), false},
		{post, "/users/require-mfa", s.usersRequireMFA, permitted, can("users", "write"), false},
		{post, "/users/:id/role", s.userRole, permitted, can("users", "write"), false},
		{post, "/users/:id/disable", s.userDisable, permitted, can("users", "write"), false},
		{post, "/users/:id/enable", s.userEnable, permitted, can("users", "write"), false},
		{post, "/users/:id/invite", s.userInvite, permitted, can("users", "write"), false},
		{post, "/users/:id/invite/revoke", s.userInviteRevoke, permitted, can("users", "write"), false},
		{Method: post, Path: "/account/notifications", Handler: s.notificationMode, Access: permitted, Perm: can("notifications", "write")},

		// API keys
		{get, "/apikeys", s.apiKeys, permitted, can("apikeys", "read"), false},
		{post, "/apikeys", s.apiKeyCreate, permitted, can("apikeys", "write"), false},
		{post, "/apikeys/:id/revoke", s.apiKeyRevoke, permitted, can("apikeys", "write"), false},
		{post, "/apikeys/:id/rotate", s.apiKeyRotate, permitted, can("apikeys", "write"), false},
		// Audit log
		{get, "/audit", s.audit, permitted, can("audit", "read"), false},
		{get, "/audit/export.jsonl", s.auditExport, permitted, can("audit", "export"), false},
		{post, "/audit/verify", s.auditVerify, permitted, can("audit", "verify"), false},
	}, slices.Concat(s.webhookRoutes())...)
}
