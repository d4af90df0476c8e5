package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sendara/console/rbac"
)

// Route is one line of the route table: each area lists its own (its
// Routes method) and handlers assembles them, so reading them tells the
// whole application and who may reach each part of it.
type Route struct {
	Method  string
	Path    string
	Handler echo.HandlerFunc
	Access  access
	Perm    rbac.Permission // required unless Access is public or partialSession
	// Unlimited exempts an API route from the per-key rate limit: the
	// sending pipeline calls the suppression checks before every message.
	Unlimited bool
}

// Can is the permission to do action on object, as the route table and
// rbac/policy.csv write it.
func Can(object, action string) rbac.Permission {
	return rbac.Permission{Object: object, Action: action}
}

// navigation lists the main pages in menu order with the permission each
// needs; a user sees the ones their role grants.
var navigation = []struct {
	Label string
	Href  string
	Perm  rbac.Permission
}{
	{"Dashboard", "/", Can("dashboard", "read")},
	{"Customers", "/customers", Can("customers", "read")},
	{"Requests", "/requests", Can("requests", "read")},
	{"Notifications", "/notifications", Can("notifications", "read")},
	{"Requests from Sendara", "/inbox", Can("routed_requests", "read")},
	{"Contacts", "/contacts", Can("contacts", "read")},
	{"Replies", "/replies", Can("replies", "read")},
	{"Consent reversals", "/consent-reversals", Can("consent_reversals", "read")},
	{"Imports", "/imports", Can("contacts", "import")},
	{"Users", "/users", Can("users", "read")},
	{"API keys", "/apikeys", Can("apikeys", "read")},
	{"Webhooks", "/webhooks", Can("webhooks", "read")},
	{"Outbox", "/outbox", Can("outbox", "read")},
	{"Reports", "/reports", Can("reports", "read")},
	{"Retention", "/retention", Can("retention", "read")},
	{"Audit log", "/audit", Can("audit", "read")},
	// Lifecycle registers (issue 13)
	{"Sent after opt-out", "/communications/sent-after-opt-out", Can("communications", "read")},
	{"Incidents", "/incidents", Can("incidents", "read")},
	{"Sub-processors", "/subprocessors", Can("subprocessors", "read")},
	{"Art. 30 records", "/processing-records", Can("processing_records", "read")},
	{"Legal disclosures", "/legal-disclosures", Can("legal_disclosures", "read")},
	{"Account bundles", "/account-bundles", Can("account_bundles", "export")},
}

// CoreRoutes are the operational routes (health, readiness, static
// assets), which belong to no area.
func (s *Server) CoreRoutes() []Route {
	get := http.MethodGet
	return []Route{
		// Operations and assets
		{Method: get, Path: "/healthz", Handler: s.healthz, Access: Public},
		{Method: get, Path: "/readyz", Handler: s.readyz, Access: Public},
		{Method: get, Path: "/static/*", Handler: s.staticFiles(), Access: Public},
	}
}
