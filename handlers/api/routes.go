package api

import (
	"net/http"

	"github.com/sendara/console/handlers/web"
)

// Routes is the api part of the route table.
func (s *Handlers) Routes() []web.Route {
	get, post := http.MethodGet, http.MethodPost
	return []web.Route{
		// JSON API (bearer keys; a key acts with its role: customer keys as
		// their customer's admin, staff keys as a privacy officer)
		{Method: get, Path: "/api/v1/openapi.json", Handler: s.openAPI, Access: web.Public},
		{Method: get, Path: "/api/v1/suppressions/check", Handler: s.apiCheckSuppression, Access: web.APIKeyAccess, Perm: web.Can("contacts", "read"), Unlimited: true},
		{Method: post, Path: "/api/v1/suppressions/check", Handler: s.apiCheckSuppressions, Access: web.APIKeyAccess, Perm: web.Can("contacts", "read"), Unlimited: true},
		{Method: post, Path: "/api/v1/opt-outs", Handler: s.apiOptOut, Access: web.APIKeyAccess, Perm: web.Can("contacts", "write")},
		{Method: post, Path: "/api/v1/opt-ins", Handler: s.apiOptIn, Access: web.APIKeyAccess, Perm: web.Can("contacts", "write")},
		{Method: post, Path: "/api/v1/inbound", Handler: s.apiInbound, Access: web.APIKeyAccess, Perm: web.Can("contacts", "write")},
		{Method: post, Path: "/api/v1/contacts", Handler: s.apiCreateContact, Access: web.APIKeyAccess, Perm: web.Can("contacts", "write")},
		{Method: get, Path: "/api/v1/contacts", Handler: s.apiFindContacts, Access: web.APIKeyAccess, Perm: web.Can("contacts", "read")},
		{Method: get, Path: "/api/v1/contacts/:id", Handler: s.apiContact, Access: web.APIKeyAccess, Perm: web.Can("contacts", "read")},
		{Method: get, Path: "/api/v1/contacts/:id/consent", Handler: s.apiConsentAt, Access: web.APIKeyAccess, Perm: web.Can("contacts", "read")},
		{Method: get, Path: "/api/v1/consent", Handler: s.apiConsentAtByIdentifier, Access: web.APIKeyAccess, Perm: web.Can("contacts", "read")},
		{Method: post, Path: "/api/v1/requests", Handler: s.apiCreateRequest, Access: web.APIKeyAccess, Perm: web.Can("requests", "write")},
		{Method: get, Path: "/api/v1/requests", Handler: s.apiFindRequests, Access: web.APIKeyAccess, Perm: web.Can("requests", "read")},
		{Method: get, Path: "/api/v1/requests/:id", Handler: s.apiRequest, Access: web.APIKeyAccess, Perm: web.Can("requests", "read")},
	}
}
