package contacts

import (
	"net/http"
	"slices"

	"github.com/sendara/console/handlers/web"
)

// Routes is the contacts part of the route table.
func (s *Handlers) Routes() []web.Route {
	get, post := http.MethodGet, http.MethodPost
	return slices.Concat([]web.Route{
		// Contacts, consents and the review queue (controller side)
		{Method: get, Path: "/contacts", Handler: s.contacts, Access: web.Permitted, Perm: web.Can("contacts", "read")},
		{Method: get, Path: "/contacts/new", Handler: s.contactNew, Access: web.Permitted, Perm: web.Can("contacts", "write")},
		{Method: post, Path: "/contacts", Handler: s.contactCreate, Access: web.Permitted, Perm: web.Can("contacts", "write")},
		{Method: get, Path: "/contacts/:id", Handler: s.contact, Access: web.Permitted, Perm: web.Can("contacts", "read")},
		{Method: post, Path: "/contacts/:id", Handler: s.contactUpdate, Access: web.Permitted, Perm: web.Can("contacts", "write")},
		{Method: post, Path: "/contacts/:id/consent", Handler: s.contactConsent, Access: web.Permitted, Perm: web.Can("contacts", "write")},
		{Method: get, Path: "/contacts/:id/consent", Handler: s.contactConsentAt, Access: web.Permitted, Perm: web.Can("contacts", "read")},
		{Method: get, Path: "/replies", Handler: s.replies, Access: web.Permitted, Perm: web.Can("replies", "read")},
		{Method: post, Path: "/replies/help-text", Handler: s.replyHelpText, Access: web.Permitted, Perm: web.Can("help_text", "write")},
		{Method: post, Path: "/replies/:id", Handler: s.replyDecide, Access: web.Permitted, Perm: web.Can("replies", "write")},
	}, s.importRoutes(), s.consentReversalRoutes())
}
