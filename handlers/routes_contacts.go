package handlers

import (
	"net/http"
	"slices"
)

// ContactsRoutes is the contacts part of the route table.
func (s *Server) ContactsRoutes() []route {
	get, post := http.MethodGet, http.MethodPost
	_, _ = get, post
	return append([]route{
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
	}, slices.Concat(s.importRoutes(), s.consentReversalRoutes())...)
}
