package handlers

import (
	"net/http"
	"slices"

	"github.com/sendara/console/rbac"
)

// CasesRoutes is the cases part of the route table.
func (s *Server) CasesRoutes() []route {
	get, post := http.MethodGet, http.MethodPost
	_, _ = get, post
	return append([]route{
		{get, "/privacy-request", s.publicRequestForm, public, rbac.Permission{}, false},
		{post, "/privacy-request", s.publicRequestCreate, public, rbac.Permission{}, false},
		{get, "/privacy-request/confirm/:token", s.publicRequestConfirmPage, public, rbac.Permission{}, false},
		{post, "/privacy-request/confirm/:token", s.publicRequestConfirm, public, rbac.Permission{}, false},
		// Everyone signed in
		{get, "/", s.dashboard, permitted, can("dashboard", "read"), false},
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
	}, slices.Concat(s.fulfilmentRoutes(), s.reportRoutes(), s.mailIntakeRoutes(), s.queueRoutes(), s.notificationRoutes(), s.evidenceRoutes(), s.requesterRoutes())...)
}
