package cases

import (
	"net/http"
	"slices"

	"github.com/sendara/console/handlers/web"
)

// Routes is the cases part of the route table.
func (s *Handlers) Routes() []web.Route {
	get, post := http.MethodGet, http.MethodPost
	return slices.Concat([]web.Route{
		{Method: get, Path: "/privacy-request", Handler: s.publicRequestForm, Access: web.Public},
		{Method: post, Path: "/privacy-request", Handler: s.publicRequestCreate, Access: web.Public},
		{Method: get, Path: "/privacy-request/confirm/:token", Handler: s.publicRequestConfirmPage, Access: web.Public},
		{Method: post, Path: "/privacy-request/confirm/:token", Handler: s.publicRequestConfirm, Access: web.Public},
		// Everyone signed in
		{Method: get, Path: "/", Handler: s.dashboard, Access: web.Permitted, Perm: web.Can("dashboard", "read")},
		// Privacy requests (processor side) and the controllers' inbox
		{Method: get, Path: "/requests", Handler: s.requests, Access: web.Permitted, Perm: web.Can("requests", "read")},
		{Method: get, Path: "/requests/new", Handler: s.requestNew, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests", Handler: s.requestCreate, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: get, Path: "/requests/:id", Handler: s.request, Access: web.Permitted, Perm: web.Can("requests", "read")},
		{Method: post, Path: "/requests/:id/triage", Handler: s.requestTriage, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/verify", Handler: s.requestVerify, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/identifiers", Handler: s.requestIdentifiers, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/requester", Handler: s.requestRequester, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/verify-identifier", Handler: s.requestVerifyIdentifier, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/skip-verification", Handler: s.requestSkipVerification, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/status", Handler: s.requestStatus, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/ask", Handler: s.requestAsk, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/answered", Handler: s.requestAnswered, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/extend", Handler: s.requestExtend, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/assign", Handler: s.requestAssign, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/notes", Handler: s.requestNote, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/search", Handler: s.requestSearch, Access: web.Permitted, Perm: web.Can("people", "search")},
		{Method: post, Path: "/requests/:id/route", Handler: s.requestRoute, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/resend-completion", Handler: s.requestResendCompletion, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/upload", Handler: s.requestUploadEML, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: get, Path: "/requests/:id/mail/:mail", Handler: s.requestMailRaw, Access: web.Permitted, Perm: web.Can("requests", "read")},
		// An agent's or parent's proof of authority (proofs.go)
		{Method: post, Path: "/requests/:id/proofs", Handler: s.requestProofUpload, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: get, Path: "/requests/:id/proofs/:proof", Handler: s.requestProofDownload, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/proofs/:proof/check", Handler: s.requestProofCheck, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/requests/:id/proof-override", Handler: s.requestProofOverride, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: get, Path: "/outbox", Handler: s.outbox, Access: web.Permitted, Perm: web.Can("outbox", "read")},
		{Method: post, Path: "/outbox/:id/retry", Handler: s.outboxRetry, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: post, Path: "/outbox/:id/mark-sent", Handler: s.outboxMarkSent, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: get, Path: "/outbox/templates", Handler: s.mailTemplates, Access: web.Permitted, Perm: web.Can("outbox", "read")},
		{Method: post, Path: "/outbox/templates/:kind", Handler: s.mailTemplateUpdate, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: get, Path: "/inbox", Handler: s.inbox, Access: web.Permitted, Perm: web.Can("routed_requests", "read")},
		{Method: post, Path: "/inbox/:id", Handler: s.inboxAnswer, Access: web.Permitted, Perm: web.Can("routed_requests", "answer")},
	}, s.fulfilmentRoutes(), s.reportRoutes(), s.mailIntakeRoutes(), s.queueRoutes(), s.notificationRoutes(), s.evidenceRoutes(), s.requesterRoutes())
}
