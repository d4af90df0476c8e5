package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sendara/console/rbac"
)

// route is one line of the route table: reading routes() tells the whole
// application and who may reach each part of it.
type route struct {
	Method  string
	Path    string
	Handler echo.HandlerFunc
	Access  access
	Perm    rbac.Permission // required when Access is permitted
}

func can(object, action string) rbac.Permission {
	return rbac.Permission{Object: object, Action: action}
}

// routes is the console's one route table. Every route is either public
// (listed as such here, and checked by TestEveryRouteDeclaresItsAccess) or
// names the permission Casbin must grant.
func (s *Server) routes() []route {
	get, post := http.MethodGet, http.MethodPost
	return []route{
		// Operations and assets
		{get, "/healthz", s.healthz, public, rbac.Permission{}},
		{get, "/readyz", s.readyz, public, rbac.Permission{}},
		{get, "/static/*", s.staticFiles(), public, rbac.Permission{}},

		// Signing in
		{get, "/login", s.loginForm, public, rbac.Permission{}},
		{post, "/login", s.login, public, rbac.Permission{}},
		{get, "/invite/:token", s.inviteForm, public, rbac.Permission{}},
		{post, "/invite/:token", s.acceptInvite, public, rbac.Permission{}},
		{get, "/login/totp", s.secondFactorForm, partialSession, rbac.Permission{}},
		{post, "/login/totp", s.secondFactor, partialSession, rbac.Permission{}},
		{get, "/login/totp/enrol", s.enrolForm, partialSession, rbac.Permission{}},
		{post, "/login/totp/enrol", s.enrol, partialSession, rbac.Permission{}},
		{post, "/logout", s.logout, partialSession, rbac.Permission{}},

		// Everyone signed in
		{get, "/", s.dashboard, permitted, can("dashboard", "read")},
		{get, "/account", s.account, permitted, can("account", "write")},
		{post, "/account/password", s.changePassword, permitted, can("account", "write")},
		{get, "/account/totp", s.accountTOTPForm, permitted, can("account", "write")},
		{post, "/account/totp", s.accountTOTP, permitted, can("account", "write")},
		{post, "/account/totp/disable", s.accountTOTPDisable, permitted, can("account", "write")},

		// Customers (tenants)
		{get, "/customers", s.customers, permitted, can("customers", "read")},
		{get, "/customers/new", s.customerNew, permitted, can("customers", "write")},
		{post, "/customers", s.customerCreate, permitted, can("customers", "write")},
		{get, "/customers/:id", s.customer, permitted, can("customers", "read")},
		{post, "/customers/:id", s.customerUpdate, permitted, can("customers", "write")},
		{post, "/customers/:id/cancel", s.customerCancel, permitted, can("customers", "write")},

		// Users and roles
		{get, "/users", s.users, permitted, can("users", "read")},
		{post, "/users", s.userCreate, permitted, can("users", "write")},
		{post, "/users/:id/role", s.userRole, permitted, can("users", "write")},
		{post, "/users/:id/disable", s.userDisable, permitted, can("users", "write")},
		{post, "/users/:id/enable", s.userEnable, permitted, can("users", "write")},
		{post, "/users/:id/invite", s.userInvite, permitted, can("users", "write")},

		// API keys
		{get, "/apikeys", s.apiKeys, permitted, can("apikeys", "read")},
		{post, "/apikeys", s.apiKeyCreate, permitted, can("apikeys", "write")},
		{post, "/apikeys/:id/revoke", s.apiKeyRevoke, permitted, can("apikeys", "write")},

		// Audit log
		{get, "/audit", s.audit, permitted, can("audit", "read")},
		{post, "/audit/verify", s.auditVerify, permitted, can("audit", "verify")},
	}
}

// navigation lists the main pages in menu order with the permission each
// needs; a user sees the ones their role grants.
var navigation = []struct {
	Label string
	Href  string
	Perm  rbac.Permission
}{
	{"Dashboard", "/", can("dashboard", "read")},
	{"Customers", "/customers", can("customers", "read")},
	{"Users", "/users", can("users", "read")},
	{"API keys", "/apikeys", can("apikeys", "read")},
	{"Audit log", "/audit", can("audit", "read")},
}
