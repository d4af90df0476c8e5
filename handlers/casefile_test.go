package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	casework "github.com/sendara/console/models/casework"

	customers "github.com/sendara/console/models/customers"

	fulfilment "github.com/sendara/console/models/fulfilment"

	requests "github.com/sendara/console/models/requests"

	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sendara/console/models/auditchain"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// evidenceCase is a request that came by mail, with every part a case
// file holds: the mail received, mail sent, a verification by a named
// officer, a controller's answer and an access bundle.
type evidenceCase struct {
	r       *requests.PrivacyRequest
	raw     []byte
	officer string
	bundle  *fulfilment.Bundle
}

func evidenceSeedCase(t *testing.T, app *testApp, acme *customers.Customer, officerEmail string) evidenceCase {
	t.Helper()
	ctx := context.Background()
	app.contact(t, acme, "Jane Doe", "jane@example.com")
	raw := []byte("From: Jane Doe <jane@example.com>\r\nTo: privacy@sendara.test\r\nSubject: My data\r\nMessage-ID: <case-1@example.com>\r\n\r\nPlease send me a copy of everything you hold about me.\r\n")
	r, _, err := app.db.ReceiveMail(ctx, calendar.DefaultBusiness(), "US", requests.MailIntake{MessageID: "case-1@example.com",
		FromName: "Jane Doe", FromAddr: "jane@example.com", Subject: "My data", Body: "Please send me a copy of everything you hold about me.",
		Raw: raw, ReceivedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	officer := store.StaffUser(uuid.NewString(), officerEmail, "192.0.2.7")
	if _, err := app.db.Triage(ctx, officer, calendar.DefaultBusiness(), r.ID, calendar.TypeAccess, calendar.RegimeGDPR); err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.VerifyManually(ctx, officer, r.ID, "email_reply", "replied from the address on file"); err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.Route(ctx, officer, calendar.DefaultBusiness(), r.ID, "http://console.test/inbox"); err != nil {
		t.Fatal(err)
	}
	tasks, err := app.db.Tasks(ctx, modeltest.Staff, r.ID)
	if err != nil || len(tasks) != 1 {
		t.Fatalf("tasks: %d, %v", len(tasks), err)
	}
	if _, err := app.db.AnswerTask(ctx, store.CustomerUser(uuid.NewString(), "owner@acme.test", acme.ID, ""), tasks[0].ID,
		requests.TaskInstructed, "Send her everything, the call log included."); err != nil {
		t.Fatal(err)
	}
	b, err := app.db.ExportBundle(ctx, officer, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A message to the requester with a file, and her answer on the
	// status page its mail links to.
	if _, err := app.db.WriteToRequester(ctx, officer, r.ID, fulfilment.MessageFree, "Your copy", "Your copy is on its way.",
		[]fulfilment.MessageFile{{Name: "cover.txt", Data: []byte("Cover letter.")}}); err != nil {
		t.Fatal(err)
	}
	token, _ := app.requesterLatestToken(t, r.ID, "jane@example.com")
	if _, err := app.db.RequesterReply(ctx, calendar.DefaultBusiness(), token, "Thank you, received.", "198.51.100.4", nil); err != nil {
		t.Fatal(err)
	}
	return evidenceCase{r: r, raw: raw, officer: officerEmail, bundle: b}
}

func evidenceUnzip(t *testing.T, body string) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("the case file is no zip: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return files
}

func TestCaseFileZipHoldsTheRequestsEvidence(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	auditor := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	cs := evidenceSeedCase(t, app, acme, "officer@sendara.test")
	ctx := context.Background()

	cl := app.client()
	cl.login(auditor)
	if p := cl.get("/requests/" + cs.r.ID); p.Status != http.StatusOK || p.text(`[data-testid="case-file-links"]`) == "" {
		t.Fatalf("request page: status %d, case file links %q", p.Status, p.text(`[data-testid="case-file-links"]`))
	}
	before := len(app.auditEvents("request.case_file_export"))
	p := cl.get("/requests/" + cs.r.ID + "/case-file.zip")
	if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("case file: status %d, type %q", p.Status, p.Header.Get("Content-Type"))
	}
	exports := app.auditEvents("request.case_file_export")
	if len(exports) != before+1 || exports[0].ActorLabel != "auditor@sendara.test" ||
		exports[0].ObjectID != cs.r.ID || !strings.Contains(exports[0].Details, cs.r.Reference) {
		t.Fatalf("the download is not audited as the auditor's export of %s: %+v", cs.r.Reference, exports)
	}
	files := evidenceUnzip(t, p.Body)
	for _, name := range []string{"README.txt", "request.json", "timeline.json", "verification.json", "mail/index.json",
		"messages.json", "controllers.json", "bundles.json", "audit.jsonl"} {
		if len(files[name]) == 0 {
			t.Errorf("%s is missing or empty", name)
		}
	}
	// The messages with the requester, both ways, with the file's name.
	var msgs []casework.CaseMessage
	if err := json.Unmarshal(files["messages.json"], &msgs); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Direction != "out" || msgs[0].Body != "Your copy is on its way." || len(msgs[0].Files) != 1 ||
		msgs[0].Files[0].Name != "cover.txt" || msgs[0].OutboxID == "" || msgs[1].Direction != "in" || msgs[1].Body != "Thank you, received." {
		t.Errorf("messages.json: %+v", msgs)
	}
	for _, want := range []string{"audit.jsonl", "verify --file audit.jsonl --filtered", "mail/index.json", "bundles.json", cs.r.Reference} {
		if !strings.Contains(string(files["README.txt"]), want) {
			t.Errorf("README.txt does not mention %q", want)
		}
	}

	// The audit entries verify as a filtered export, and are the chain's own.
	rep, err := auditchain.VerifyExport(bytes.NewReader(files["audit.jsonl"]), true)
	if err != nil || !rep.Intact() || rep.Entries < 5 {
		t.Fatalf("audit.jsonl: %+v, %v", rep, err)
	}
	var actions []string
	for _, line := range strings.Split(strings.TrimSpace(string(files["audit.jsonl"])), "\n") {
		var e auditchain.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		var stored store.AuditEvent
		if err := app.db.Gorm.First(&stored, "seq = ?", e.Seq).Error; err != nil || stored.Hash != e.Hash {
			t.Errorf("entry %d: hash %s, the chain holds %s (%v)", e.Seq, e.Hash, stored.Hash, err)
		}
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"mail.receive", "request.triage", "request.verify", "routed_task.create", "request.export"} {
		if !strings.Contains(" "+strings.Join(actions, " ")+" ", " "+want+" ") {
			t.Errorf("audit.jsonl lacks %s: %v", want, actions)
		}
	}
	// An edited line no longer verifies.
	edited := bytes.Replace(files["audit.jsonl"], []byte("officer@sendara.test"), []byte("someone@sendara.test"), 1)
	if rep, err := auditchain.VerifyExport(bytes.NewReader(edited), true); err != nil || rep.Intact() {
		t.Errorf("an edited audit.jsonl verified: %+v, %v", rep, err)
	}

	// Mail: the received source byte for byte, the sent ones as queued.
	var mails []casework.CaseMail
	if err := json.Unmarshal(files["mail/index.json"], &mails); err != nil {
		t.Fatal(err)
	}
	var in, out int
	for _, m := range mails {
		src := files[m.File]
		sum := sha256.Sum256(src)
		if hex.EncodeToString(sum[:]) != m.SHA256 || len(src) != m.Size {
			t.Errorf("%s: sha256 %x, index says %s", m.File, sum, m.SHA256)
		}
		switch m.Direction {
		case "in":
			in++
			if !bytes.Equal(src, cs.raw) {
				t.Errorf("%s is not the message as received:\n%s", m.File, src)
			}
		case "out":
			out++
			if !strings.Contains(string(src), "To: jane@example.com\r\n") || !strings.Contains(string(src), "Subject: "+m.Subject+"\r\n") {
				t.Errorf("%s does not carry its recipient and subject:\n%s", m.File, src)
			}
		}
	}
	if in != 1 || out == 0 {
		t.Errorf("mail: %d in, %d out; want 1 in and the acknowledgement out", in, out)
	}

	// Verification: method, by whom, when, for each identifier.
	var vs []casework.CaseVerification
	if err := json.Unmarshal(files["verification.json"], &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Identifier != "jane@example.com" || !vs[0].Verified || vs[0].Method != "email_reply" ||
		vs[0].By != cs.officer || vs[0].VerifiedAt == nil || vs[0].AuditSeq == 0 {
		t.Errorf("verification.json: %+v", vs)
	}

	// The controller's answer and the bundle's hash and manifest.
	var answers []casework.CaseAnswer
	if err := json.Unmarshal(files["controllers.json"], &answers); err != nil {
		t.Fatal(err)
	}
	if len(answers) != 1 || answers[0].Customer != acme.Name || answers[0].Status != requests.TaskInstructed ||
		answers[0].Reason != "Send her everything, the call log included." || answers[0].AnsweredBy != "owner@acme.test" {
		t.Errorf("controllers.json: %+v", answers)
	}
	var bundles []casework.CaseBundle
	if err := json.Unmarshal(files["bundles.json"], &bundles); err != nil {
		t.Fatal(err)
	}
	if len(bundles) != 1 || bundles[0].SHA256 != cs.bundle.Export.SHA256 || bundles[0].Size != cs.bundle.Export.Size || len(bundles[0].Files) == 0 {
		t.Fatalf("bundles.json: %+v, want sha256 %s", bundles, cs.bundle.Export.SHA256)
	}
	bundleFiles := evidenceUnzip(t, string(cs.bundle.Export.Data))
	for _, f := range bundles[0].Files {
		sum := sha256.Sum256(bundleFiles[f.Name])
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("bundle manifest: %s sha256 %s, the file's is %x", f.Name, f.SHA256, sum)
		}
	}
	var req map[string]any
	if err := json.Unmarshal(files["request.json"], &req); err != nil || req["reference"] != cs.r.Reference || req["customer"] != nil && req["customer"] != "" && req["customer"] != acme.Name {
		t.Errorf("request.json: %v, %v", req, err)
	}
	_ = ctx
}

func TestCaseFilePrintViewIsAuditedAndStaffOnly(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	auditor := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	customerAdmin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	cs := evidenceSeedCase(t, app, acme, "officer@sendara.test")

	cl := app.client()
	cl.login(auditor)
	p := cl.get("/requests/" + cs.r.ID + "/case-file")
	if p.Status != http.StatusOK {
		t.Fatalf("print view: status %d", p.Status)
	}
	if got := p.text("h1"); got != "Case file "+cs.r.Reference {
		t.Errorf("title %q", got)
	}
	if v := p.text(`[data-testid="case-verification"] tbody tr`); !strings.Contains(v, "jane@example.com") || !strings.Contains(v, "officer@sendara.test") || !strings.Contains(v, "email_reply") {
		t.Errorf("verification row %q", v)
	}
	if a := p.text(`[data-testid="case-answers"] tbody tr`); !strings.Contains(a, "Send her everything") || !strings.Contains(a, "owner@acme.test") {
		t.Errorf("answer row %q", a)
	}
	if b := p.text(`[data-testid="case-bundles"] tbody tr`); !strings.Contains(b, cs.bundle.Export.SHA256) {
		t.Errorf("bundle row %q", b)
	}
	if n := p.Doc.Find(`[data-testid="case-audit"] tbody tr`).Length(); n < 5 {
		t.Errorf("%d audit rows", n)
	}
	if !strings.Contains(p.Body, `href="/static/css/print.css"`) {
		t.Error("no print stylesheet")
	}
	views := app.auditEvents("request.case_file_view")
	if len(views) != 1 || views[0].ActorLabel != "auditor@sendara.test" || views[0].CustomerID != evidenceDeref(cs.r.CustomerID) {
		t.Errorf("print view audit: %+v", views)
	}

	// A customer admin, even of the customer the request was routed to,
	// gets no case file: it holds Sendara's own records of the request.
	cust := app.client()
	cust.login(customerAdmin)
	for _, path := range []string{"/requests/" + cs.r.ID + "/case-file", "/requests/" + cs.r.ID + "/case-file.zip"} {
		if p := cust.get(path); p.Status == http.StatusOK {
			t.Errorf("customer admin GET %s: 200", path)
		}
	}
	if n := len(app.auditEvents("request.case_file_export")); n != 0 {
		t.Errorf("%d case file exports recorded for a refused customer admin", n)
	}
}

func evidenceDeref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
