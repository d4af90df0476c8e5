package handlers

import (
	"net/http"
	"slices"

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
	Perm    rbac.Permission // required unless Access is public or partialSession
	// Unlimited exempts an API route from the per-key rate limit: the
	// sending pipeline calls the suppression checks before every message.
	Unlimited bool
}

func can(object, action string) rbac.Permission {
	return rbac.Permission{Object: object, Action: action}
}

// routes is the console's one route table; imports and exports,
// fulfilment, reports and mail intake keep their lines beside their handlers. Every route is either public
// (listed as such here, and checked by TestEveryRouteDeclaresItsAccess) or
// names the permission Casbin must grant.
func (s *Server) routes() []route {
	get, post := http.MethodGet, http.MethodPost
	return append([]route{
		// Operations and assets
		{get, "/healthz", s.healthz, public, rbac.Permission{}, false},
		{get, "/readyz", s.readyz, public, rbac.Permission{}, false},
		{get, "/static/*", s.staticFiles(), public, rbac.Permission{}, false},

		// Signing in
		{get, "/login", s.loginForm, public, rbac.Permission{}, false},
		{post, "/login", s.login, public, rbac.Permission{}, false},
		{get, "/invite/:token", s.inviteForm, public, rbac.Permission{}, false},
		{post, "/invite/:token", s.acceptInvite, public, rbac.Permission{}, false},
		{get, "/password-reset", s.forgotPasswordForm, public, rbac.Permission{}, false},
		{post, "/password-reset", s.forgotPassword, public, rbac.Permission{}, false},
		{get, "/password-reset/:token", s.resetPasswordForm, public, rbac.Permission{}, false},
		{post, "/password-reset/:token", s.resetPassword, public, rbac.Permission{}, false},
		{get, "/privacy-request", s.publicRequestForm, public, rbac.Permission{}, false},
		{post, "/privacy-request", s.publicRequestCreate, public, rbac.Permission{}, false},
		{get, "/privacy-request/confirm/:token", s.publicRequestConfirmPage, public, rbac.Permission{}, false},
		{post, "/privacy-request/confirm/:token", s.publicRequestConfirm, public, rbac.Permission{}, false},
		{get, "/login/totp", s.secondFactorForm, partialSession, rbac.Permission{}, false},
		{post, "/login/totp", s.secondFactor, partialSession, rbac.Permission{}, false},
		{get, "/login/totp/enrol", s.enrolForm, partialSession, rbac.Permission{}, false},
		{post, "/login/totp/enrol", s.enrol, partialSession, rbac.Permission{}, false},
		{post, "/logout", s.logout, partialSession, rbac.Permission{}, false},

		// Everyone signed in
		{get, "/", s.dashboard, permitted, can("dashboard", "read"), false},
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

		// API keys
		{get, "/apikeys", s.apiKeys, permitted, can("apikeys", "read"), false},
		{post, "/apikeys", s.apiKeyCreate, permitted, can("apikeys", "write"), false},
		{post, "/apikeys/:id/revoke", s.apiKeyRevoke, permitted, can("apikeys", "write"), false},
		{post, "/apikeys/:id/rotate", s.apiKeyRotate, permitted, can("apikeys", "write"), false},

		// Audit log
		{get, "/audit", s.audit, permitted, can("audit", "read"), false},
		{get, "/audit/export.jsonl", s.auditExport, permitted, can("audit", "export"), false},
		{post, "/audit/verify", s.auditVerify, permitted, can("audit", "verify"), false},

		// Contacts, consents and the review queue (controller side)
		{get, "/contacts", s.contacts, permitted, can("contacts", "read"), false},
		{get, "/contacts/new", s.contactNew, permitted, can("contacts", "write"), false},
		{post, "/contacts", s.contactCreate, permitted, can("contacts", "write"), false},
		{get, "/contacts/:id", s.contact, permitted, can("contacts", "read"), false},
		{post, "/contacts/:id", s.contactUpdate, permitted, can("contacts", "write"), false},
		{post, "/contacts/:id/consent", s.contactConsent, permitted, can("contacts", "write"), false},
		{get, "/contacts/:id/consent", s.contactConsentAt, permitted, can("contacts", "read"), false},
		{get, "/replies", s.replies, permitted, can("replies", "read"), false},
		{post, "/replies/help-text", s.replyHelpText, permitted, can("help_text", "write"), false},
		{post, "/replies/:id", s.replyDecide, permitted, can("replies", "write"), false},

		// Privacy requests (processor side) and the controllers' inbox
		{get, "/requests", s.requests, permitted, can("requests", "read"), false},
		{get, "/requests/new", s.requestNew, permitted, can("requests", "write"), false},
		{post, "/requests", s.requestCreate, permitted, can("requests", "write"), false},
		{get, "/requests/:id", s.request, permitted, can("requests", "read"), false},
		{post, "/requests/:id/triage", s.requestTriage, permitted, can("requests", "write"), false},
		{post, "/requests/:id/verify", s.requestVerify, permitted, can("requests", "write"), false},
		{post, "/requests/:id/identifiers", s.requestIdentifiers, permitted, can("requests", "write"), false},
		{post, "/requests/:id/requester", s.requestRequester, permitted, can("requests", "write"), false},
		{post, "/requests/:id/verify-identifier", s.requestVerifyIdentifier, permitted, can("requests", "write"), false},
		{post, "/requests/:id/skip-verification", s.requestSkipVerification, permitted, can("requests", "write"), false},
		{post, "/requests/:id/status", s.requestStatus, permitted, can("requests", "write"), false},
		{post, "/requests/:id/ask", s.requestAsk, permitted, can("requests", "write"), false},
		{post, "/requests/:id/answered", s.requestAnswered, permitted, can("requests", "write"), false},
		{post, "/requests/:id/extend", s.requestExtend, permitted, can("requests", "write"), false},
		{post, "/requests/:id/assign", s.requestAssign, permitted, can("requests", "write"), false},
		{post, "/requests/:id/notes", s.requestNote, permitted, can("requests", "write"), false},
		{post, "/requests/:id/search", s.requestSearch, permitted, can("people", "search"), false},
		{post, "/requests/:id/route", s.requestRoute, permitted, can("requests", "write"), false},
		{post, "/requests/:id/resend-completion", s.requestResendCompletion, permitted, can("requests", "write"), false},
		{post, "/requests/upload", s.requestUploadEML, permitted, can("requests", "write"), false},
		{get, "/requests/:id/mail/:mail", s.requestMailRaw, permitted, can("requests", "read"), false},
		// An agent's or parent's proof of authority (handlers/proofs.go)
		{post, "/requests/:id/proofs", s.requestProofUpload, permitted, can("requests", "write"), false},
		{get, "/requests/:id/proofs/:proof", s.requestProofDownload, permitted, can("requests", "write"), false},
		{post, "/requests/:id/proofs/:proof/check", s.requestProofCheck, permitted, can("requests", "write"), false},
		{post, "/requests/:id/proof-override", s.requestProofOverride, permitted, can("requests", "write"), false},
		{get, "/outbox", s.outbox, permitted, can("outbox", "read"), false},
		{post, "/outbox/:id/retry", s.outboxRetry, permitted, can("requests", "write"), false},
		{post, "/outbox/:id/mark-sent", s.outboxMarkSent, permitted, can("requests", "write"), false},
		{get, "/outbox/templates", s.mailTemplates, permitted, can("outbox", "read"), false},
		{post, "/outbox/templates/:kind", s.mailTemplateUpdate, permitted, can("requests", "write"), false},
		{get, "/inbox", s.inbox, permitted, can("routed_requests", "read"), false},
		{post, "/inbox/:id", s.inboxAnswer, permitted, can("routed_requests", "answer"), false},

		// JSON API (bearer keys; a key acts with its role: customer keys as
		// their customer's admin, staff keys as a privacy officer)
		{get, "/api/v1/openapi.json", s.openAPI, public, rbac.Permission{}, false},
		{get, "/api/v1/suppressions/check", s.apiCheckSuppression, apiKeyAccess, can("contacts", "read"), true},
		{post, "/api/v1/suppressions/check", s.apiCheckSuppressions, apiKeyAccess, can("contacts", "read"), true},
		{post, "/api/v1/opt-outs", s.apiOptOut, apiKeyAccess, can("contacts", "write"), false},
		{post, "/api/v1/opt-ins", s.apiOptIn, apiKeyAccess, can("contacts", "write"), false},
		{post, "/api/v1/inbound", s.apiInbound, apiKeyAccess, can("contacts", "write"), false},
		{post, "/api/v1/contacts", s.apiCreateContact, apiKeyAccess, can("contacts", "write"), false},
		{get, "/api/v1/contacts", s.apiFindContacts, apiKeyAccess, can("contacts", "read"), false},
		{get, "/api/v1/contacts/:id", s.apiContact, apiKeyAccess, can("contacts", "read"), false},
		{get, "/api/v1/contacts/:id/consent", s.apiConsentAt, apiKeyAccess, can("contacts", "read"), false},
		{get, "/api/v1/consent", s.apiConsentAtByIdentifier, apiKeyAccess, can("contacts", "read"), false},
		{post, "/api/v1/requests", s.apiCreateRequest, apiKeyAccess, can("requests", "write"), false},
		{get, "/api/v1/requests", s.apiFindRequests, apiKeyAccess, can("requests", "read"), false},
		{get, "/api/v1/requests/:id", s.apiRequest, apiKeyAccess, can("requests", "read"), false},
	}, slices.Concat(s.importRoutes(), s.fulfilmentRoutes(), s.reportRoutes(), s.retentionRoutes(), s.mailIntakeRoutes(), s.webhookRoutes(),
		s.queueRoutes(), s.notificationRoutes(), s.evidenceRoutes(), s.lifecycleRoutes(), s.consentReversalRoutes(), s.requesterRoutes())...)
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
	{"Requests", "/requests", can("requests", "read")},
	{"Notifications", "/notifications", can("notifications", "read")},
	{"Requests from Sendara", "/inbox", can("routed_requests", "read")},
	{"Contacts", "/contacts", can("contacts", "read")},
	{"Replies", "/replies", can("replies", "read")},
	{"Consent reversals", "/consent-reversals", can("consent_reversals", "read")},
	{"Imports", "/imports", can("contacts", "import")},
	{"Users", "/users", can("users", "read")},
	{"API keys", "/apikeys", can("apikeys", "read")},
	{"Webhooks", "/webhooks", can("webhooks", "read")},
	{"Outbox", "/outbox", can("outbox", "read")},
	{"Reports", "/reports", can("reports", "read")},
	{"Retention", "/retention", can("retention", "read")},
	{"Audit log", "/audit", can("audit", "read")},
	// Lifecycle registers (issue 13)
	{"Sent after opt-out", "/communications/sent-after-opt-out", can("communications", "read")},
	{"Incidents", "/incidents", can("incidents", "read")},
	{"Sub-processors", "/subprocessors", can("subprocessors", "read")},
	{"Art. 30 records", "/processing-records", can("processing_records", "read")},
	{"Legal disclosures", "/legal-disclosures", can("legal_disclosures", "read")},
	{"Account bundles", "/account-bundles", can("account_bundles", "export")},
}
