package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	fulfilment "github.com/sendara/console/models/fulfilment"

	hooks "github.com/sendara/console/models/hooks"

	outbox "github.com/sendara/console/models/outbox"

	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

// personalDataReads lists every GET route that shows personal data with
// the audit action that one visit must write. noPersonalData lists the GET
// routes that show none, with the reason. A new GET route must be put in
// one of the two: TestEveryReadOfPersonalDataWritesAnAuditEvent fails
// otherwise.
var personalDataReads = map[string]string{
	"GET /contacts":                    "contact.list",
	"GET /contacts/:id":                "contact.view",
	"GET /contacts/:id/consent":        "contact.consent_view",
	"GET /replies":                     "reply.list",
	"GET /consent-reversals":           "consent.reversal_list",
	"GET /requests":                    "request.list",
	"GET /requests/:id":                "request.view",
	"GET /requests/board":              "request.list",
	"GET /requests/:id/mail/:mail":     "mail.view_raw",
	"GET /requests/export.csv":         "request.list_export",
	"GET /outbox":                      "mail.list",
	"GET /inbox":                       "request.inbox_view",
	"GET /users":                       "user.list",
	"GET /audit":                       "audit.view",
	"GET /audit/export.jsonl":          "audit.export",
	"GET /imports/:id/bad-rows.csv":    "import.bad_rows_export",
	"GET /imports/:id":                 "import.view",
	"GET /exports/contacts.csv":        "contact.export",
	"GET /exports/suppressions.csv":    "contact.export",
	"GET /exports/requests/:token":     "request.export_download",
	"GET /api/v1/contacts":             "contact.search",
	"GET /api/v1/contacts/:id":         "contact.view",
	"GET /api/v1/contacts/:id/consent": "contact.consent_view",
	"GET /api/v1/events":               "contact.feed_read",
	"GET /webhooks/:id":                "webhook.view",
	"GET /api/v1/consent":              "contact.consent_view",
	"GET /api/v1/requests":             "request.search",
	"GET /api/v1/requests/:id":         "request.view",
	"GET /requests/:id/proofs/:proof":  "request.proof_download",
	// Writing to the requester (issue 9, point 7)
	"GET /requests/:id/message-files/:file": "request.message_file_download",
	"GET /my-request/:token":                "request.status_view",
	"GET /my-request/:token/files/:file":    "request.status_file_download",
	"GET /requests/:id/case-file":           "request.case_file_view",
	"GET /requests/:id/case-file.zip":       "request.case_file_export",
	"GET /reports/audit/:name":              "report.view",
	"GET /reports/audit/:name/csv":          "report.export",
	// Lifecycle registers (issue 13)
	"GET /communications/sent-after-opt-out":     "communication.sent_after_opt_out",
	"GET /communications/sent-after-opt-out.csv": "communication.sent_after_opt_out",
	"GET /incidents":         "incident.list",
	"GET /incidents/:id":     "incident.view",
	"GET /legal-disclosures": "legal_disclosure.list",
}

var noPersonalData = map[string]string{
	"GET /healthz":                            "operations",
	"GET /readyz":                             "operations",
	"GET /static/*":                           "assets",
	"GET /login":                              "a form",
	"GET /login/totp":                         "a form",
	"GET /login/totp/enrol":                   "the signed-in user's own enrolment",
	"GET /invite/:token":                      "a form for the invited user's own password",
	"GET /password-reset":                     "a form",
	"GET /password-reset/:token":              "a form for the link holder's own password (their email only)",
	"GET /privacy-request":                    "a form",
	"GET /privacy-request/confirm/:token":     "says whether the requester's own link worked",
	"GET /":                                   "counts only",
	"GET /account":                            "the signed-in user's own account",
	"GET /account/totp":                       "the signed-in user's own second factor",
	"GET /customers":                          "business customers, not people",
	"GET /customers/new":                      "a form",
	"GET /customers/:id":                      "a business customer's account settings",
	"GET /apikeys":                            "key names and prefixes",
	"GET /webhooks":                           "endpoint addresses and event types",
	"GET /contacts/new":                       "a form",
	"GET /requests/new":                       "a form",
	"GET /outbox/templates":                   "mail templates, no recipient",
	"GET /imports":                            "the list of jobs: file names and counts",
	"GET /imports/:id/progress":               "counts only",
	"GET /imports/:id/row":                    "one job's line in the list: file name and counts",
	"GET /reports":                            "aggregate figures",
	"GET /retention":                          "rules, holds by reference and counts",
	"GET /retention/preview":                  "counts per customer and category",
	"GET /reports/request-log.csv":            "audited as report.request_log by its own test",
	"GET /api/v1/openapi.json":                "the API's description",
	"GET /notifications":                      "the user's own notifications: references and events, no names or identifiers",
	"GET /api/v1/suppressions/check":          "answers only about what the caller sent (DESIGN §6: counted, not audited one by one)",
	"GET /reports/audit":                      "the list of auditor reports",
	"GET /subprocessors":                      "companies, policy versions and customers' objections (business names, no people)",
	"GET /processing-records":                 "a customer's Art. 30(2) record: business facts and counts",
	"GET /processing-records.csv":             "the same record as CSV: business facts and counts",
	"GET /legal-disclosures/transparency.csv": "yearly counts only",
	"GET /account-bundles":                    "a form choosing a customer (the bundle is a POST, audited as customer.account_bundle)",
	"GET /reports/metrics.csv":                "aggregate figures",
	"GET /reports/on-time.csv":                "aggregate figures",
}

func TestEveryReadOfPersonalDataWritesAnAuditEvent(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	acme := app.customer("acme")
	admin := app.user(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	customerAdmin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	jane := app.contact(t, acme, "Jane Doe", "+14155550123", "jane@example.com")
	if _, err := app.db.RecordInbound(ctx, modeltest.Staff, acme.ID, "+14155550123", "I can't stop laughing", time.Now(), "US", calendar.DefaultBusiness()); err != nil {
		t.Fatal(err)
	}
	mailed, _, err := app.db.ReceiveMail(ctx, calendar.DefaultBusiness(), "US", requests.MailIntake{MessageID: "walk@example.com",
		FromName: "Jane Doe", FromAddr: "jane@example.com", Subject: "Delete my data", Body: "Please delete everything about me.",
		Raw: []byte("From: jane@example.com\r\nSubject: Delete my data\r\n\r\nPlease delete everything about me.\r\n"), ReceivedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	mails, err := app.db.InboundMails(ctx, modeltest.Staff, outbox.InboundFilter{RequestID: mailed.ID})
	if err != nil || len(mails) == 0 {
		t.Fatalf("inbound mail of the request: %d, %v", len(mails), err)
	}
	r := app.instructedRequest(t, calendar.TypeAccess, "+14155550123")
	bundle, err := app.db.ExportBundle(ctx, modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	staff, customer := app.client(), app.client()
	staff.login(admin)
	customer.login(customerAdmin)
	customer.get("/imports")
	up := customer.uploadCSV(url.Values{}, "optouts.csv", "phone\n+14155550100\nnot a phone\n", false)
	job := strings.TrimPrefix(up.Location(), "/imports/")
	if up.Status != http.StatusSeeOther || job == "" {
		t.Fatalf("upload: %d to %q", up.Status, up.Location())
	}
	staffKey := app.apiKey(t, nil)
	hook, err := app.db.CreateWebhookEndpoint(ctx, modeltest.Staff, acme.ID, hooks.WebhookInput{URL: "https://crm.example/hooks",
		Enabled: true, EventTypes: []string{"consent.opted_out"}})
	if err != nil {
		t.Fatal(err)
	}
	incident := lifecycleIncident(t, app, acme)

	agentReq, err := app.db.CreateRequest(ctx, modeltest.Staff, calendar.DefaultBusiness(), requests.RequestInput{Type: calendar.TypeAccess, Regime: "gdpr",
		Channel: "api", Identifiers: []string{"+14155550123"}, Requester: requests.Requester{Email: "agent@example.com", Relationship: "authorized_agent", Proof: "signed"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	agentProof, err := app.db.UploadProof(ctx, modeltest.Staff, agentReq.ID, requests.ProofSignedPermission, "p.pdf", []byte("%PDF-1.4\n%%EOF\n"))
	if err != nil {
		t.Fatal(err)
	}

	// A message to the requester with a file: its mail carries the
	// requester's status link (requester_messages.go).
	msg, err := app.db.WriteToRequester(ctx, modeltest.Staff, r.ID, fulfilment.MessageFree, "Your letter", "Please read our letter.",
		[]fulfilment.MessageFile{{Name: "letter.txt", Data: []byte("Dear requester, here is our letter.")}})
	if err != nil || len(msg.Files) != 1 {
		t.Fatalf("write to the requester: %+v, %v", msg, err)
	}
	statusToken, _ := app.requesterLatestToken(t, r.ID, r.RequesterEmail)

	type visit struct {
		path string
		get  func(path string) int
	}
	asStaff := func(p string) int { return staff.get(p).Status }
	asCustomer := func(p string) int { return customer.get(p).Status }
	asPublic := func(p string) int { return app.client().get(p).Status }
	asKey := func(p string) int { return staffKey.get(p).Status }
	// Staff state a purpose before a contact page shows (purpose.go).
	asStaffWithPurpose := func(p string) int {
		staff.get(p)
		staff.post(p+"/purpose", url.Values{"purpose": {r.Reference}})
		return staff.get(p).Status
	}
	for_ := "customer=" + acme.ID + "&purpose=" + url.QueryEscape(r.Reference)
	visits := map[string]visit{
		"GET /contacts":                    {"/contacts?customer=" + acme.ID, asStaff},
		"GET /contacts/:id":                {"/contacts/" + jane.ID, asStaffWithPurpose},
		"GET /contacts/:id/consent":        {"/contacts/" + jane.ID + "/consent?at=" + url.QueryEscape(time.Now().Format("2006-01-02T15:04")), asStaff},
		"GET /replies":                     {"/replies", asCustomer},
		"GET /consent-reversals":           {"/consent-reversals", asCustomer},
		"GET /requests":                    {"/requests", asStaff},
		"GET /requests/:id":                {"/requests/" + r.ID, asStaff},
		"GET /requests/board":              {"/requests/board", asStaff},
		"GET /requests/:id/mail/:mail":     {"/requests/" + mailed.ID + "/mail/" + mails[0].ID, asStaff},
		"GET /requests/export.csv":         {"/requests/export.csv?status=all", asStaff},
		"GET /outbox":                      {"/outbox", asStaff},
		"GET /inbox":                       {"/inbox", asCustomer},
		"GET /users":                       {"/users", asStaff},
		"GET /audit":                       {"/audit", asStaff},
		"GET /audit/export.jsonl":          {"/audit/export.jsonl", asStaff},
		"GET /imports/:id/bad-rows.csv":    {"/imports/" + job + "/bad-rows.csv", asCustomer},
		"GET /imports/:id":                 {"/imports/" + job, asCustomer},
		"GET /exports/contacts.csv":        {"/exports/contacts.csv", asCustomer},
		"GET /exports/suppressions.csv":    {"/exports/suppressions.csv", asCustomer},
		"GET /exports/requests/:token":     {"/exports/requests/" + bundle.Token, asPublic},
		"GET /api/v1/contacts":             {"/api/v1/contacts?to=%2B14155550123&" + for_, asKey},
		"GET /api/v1/contacts/:id":         {"/api/v1/contacts/" + jane.ID + "?" + for_, asKey},
		"GET /api/v1/contacts/:id/consent": {"/api/v1/contacts/" + jane.ID + "/consent?at=" + url.QueryEscape(time.Now().UTC().Format(time.RFC3339)) + "&" + for_, asKey},
		"GET /api/v1/consent":              {"/api/v1/consent?to=%2B14155550123&at=" + url.QueryEscape(time.Now().UTC().Format(time.RFC3339)) + "&" + for_, asKey},
		"GET /api/v1/events":               {"/api/v1/events?customer=" + acme.ID, asKey},
		"GET /webhooks/:id":                {"/webhooks/" + hook.ID, asCustomer},
		"GET /api/v1/requests":             {"/api/v1/requests?email=jane%40example.com", asKey},
		"GET /api/v1/requests/:id":         {"/api/v1/requests/" + r.ID, asKey},
		"GET /requests/:id/proofs/:proof":  {"/requests/" + agentReq.ID + "/proofs/" + agentProof.ID, asStaff},
		"GET /requests/:id/case-file":      {"/requests/" + r.ID + "/case-file", asStaff},
		"GET /requests/:id/case-file.zip":  {"/requests/" + r.ID + "/case-file.zip", asStaff},
		"GET /reports/audit/:name":         {"/reports/audit/exports", asStaff},
		"GET /reports/audit/:name/csv":     {"/reports/audit/access-review/csv", asStaff},
		// Lifecycle registers (issue 13)
		"GET /communications/sent-after-opt-out":     {"/communications/sent-after-opt-out", asCustomer},
		"GET /communications/sent-after-opt-out.csv": {"/communications/sent-after-opt-out.csv", asCustomer},
		"GET /incidents":         {"/incidents", asStaff},
		"GET /incidents/:id":     {"/incidents/" + incident.ID, asCustomer},
		"GET /legal-disclosures": {"/legal-disclosures", asStaff},
		// The requester's status page and the files sent to them
		"GET /requests/:id/message-files/:file": {"/requests/" + r.ID + "/message-files/" + msg.Files[0].ID, asStaff},
		"GET /my-request/:token":                {"/my-request/" + statusToken, asPublic},
		"GET /my-request/:token/files/:file":    {"/my-request/" + statusToken + "/files/" + msg.Files[0].ID, asPublic},
	}

	for _, rt := range app.echo.Routes() {
		if rt.Method != http.MethodGet {
			continue
		}
		key := rt.Method + " " + rt.Path
		action, personal := personalDataReads[key]
		if _, none := noPersonalData[key]; none == personal {
			t.Errorf("%s: list it in exactly one of personalDataReads (with its audit action) or noPersonalData (with the reason)", key)
			continue
		}
		if !personal {
			continue
		}
		v, ok := visits[key]
		if !ok {
			t.Errorf("%s shows personal data: add a visit for it to this test", key)
			continue
		}
		t.Run(key, func(t *testing.T) {
			before := len(app.auditEvents(action))
			if status := v.get(v.path); status != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200", v.path, status)
			}
			if after := len(app.auditEvents(action)); after != before+1 {
				t.Errorf("GET %s wrote %d %q events, want 1", v.path, after-before, action)
			}
		})
	}
}
