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
	Perm    rbac.Permission // required unless Access is public or partialSession
	// Unlimited exempts an API route from the per-key rate limit: the
	// sending pipeline calls the suppression checks before every message.
	Unlimited bool
}

func can(object, action string) rbac.Permission {
	return rbac.Permission{Object: object, Action: action}
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

// routes lists the operational routes every area shares.
func (s *Server) coreRoutes() []route {
	get, post := http.MethodGet, http.MethodPost
	_, _ = get, post
	return []route{
		// Operations and assets
		{get, "/healthz", s.healthz, public, rbac.Permission{}, false},
		{get, "/readyz", s.readyz, public, rbac.Permission{}, false},
		{get, "/static/*", s.staticFiles(), public, rbac.Permission{}, false},
	}
}
