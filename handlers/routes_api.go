package handlers

import (
	"net/http"

	"github.com/sendara/console/rbac"
)

// ApiRoutes is the api part of the route table.
func (s *Server) ApiRoutes() []route {
	get, post := http.MethodGet, http.MethodPost
	_, _ = get, post
	return []route{
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
	}
}
