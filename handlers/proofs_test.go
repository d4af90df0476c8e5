package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

// proofsUpload posts a proof file to a request page's upload form.
func (c *client) proofsUpload(requestID, kind, filename string, content []byte) *page {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", c.csrf)
	_ = w.WriteField("kind", kind)
	fw, _ := w.CreateFormFile("file", filename)
	_, _ = fw.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.app.srv.URL+"/requests/"+requestID+"/proofs", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

// proofsAgentRequest is a verified access request made by an authorized
// agent about a phone Acme holds.
func (a *testApp) proofsAgentRequest(t *testing.T) (*requests.PrivacyRequest, *customers.Customer) {
	t.Helper()
	ctx := context.Background()
	acme := a.customer("acme")
	if _, err := a.db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"+14155550123"}}, "US"); err != nil {
		t.Fatal(err)
	}
	r, err := a.db.CreateRequest(ctx, modeltest.Staff, calendar.DefaultBusiness(), requests.RequestInput{Type: calendar.TypeAccess, Regime: "gdpr",
		Channel: "api", Identifiers: []string{"+14155550123"}, Requester: requests.Requester{Email: "agent@example.com",
			Relationship: "authorized_agent", Proof: "signed permission to follow"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.VerifyManually(ctx, modeltest.Staff, r.ID, "phone_call", "called Jane back"); err != nil {
		t.Fatal(err)
	}
	return r, acme
}

var proofsPNG = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)

func TestAnAgentsProofIsUploadedCheckedAndDownloadedFromTheRequestPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	r, acme := app.proofsAgentRequest(t)
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	staff := app.client()
	staff.login(officer)
	path := "/requests/" + r.ID

	p := staff.get(path)
	if !strings.Contains(p.text(`[data-testid="proof-waiting"]`), "authorized agent") {
		t.Fatalf("the page does not say routing waits for the agent's proof: %q", p.text(`[data-testid="request-proofs"]`))
	}
	if p := staff.post(path+"/route", nil); p.Status != http.StatusConflict && p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("routing before the proof: status %d", p.Status)
	} else if !strings.Contains(p.Body, "proof of authority") {
		t.Errorf("the refusal does not name the proof")
	}

	// A file whose content is not a PDF, PNG or JPEG is refused, whatever its name.
	staff.get(path)
	bad := staff.proofsUpload(r.ID, requests.ProofSignedPermission, "permission.pdf", []byte("<html><script>alert(1)</script></html>"))
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "PDF, PNG or JPEG") {
		t.Fatalf("a disguised HTML file: status %d", bad.Status)
	}
	staff.get(path)
	if up := staff.proofsUpload(r.ID, requests.ProofSignedPermission, "permission.png", proofsPNG); up.Status != http.StatusSeeOther {
		t.Fatalf("upload: status %d\n%s", up.Status, up.Body)
	}
	p = staff.get(path)
	link, ok := p.Doc.Find(`[data-testid="proof-list"] a[download]`).Attr("href")
	if !ok {
		t.Fatalf("no download link for the proof:\n%s", p.text(`[data-testid="request-proofs"]`))
	}
	before := len(app.auditEvents("request.proof_download"))
	dl := staff.get(link)
	if dl.Status != http.StatusOK || dl.Body != string(proofsPNG) || dl.Header.Get("Content-Type") != "image/png" ||
		!strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %q %q", dl.Status, dl.Header.Get("Content-Type"), dl.Header.Get("Content-Disposition"))
	}
	if after := len(app.auditEvents("request.proof_download")); after != before+1 {
		t.Errorf("the download wrote %d audit entries, want 1", after-before)
	}

	// A customer admin never reaches the file.
	other := app.client()
	other.login(app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test"))
	if st := other.get(link).Status; st != http.StatusNotFound && st != http.StatusForbidden {
		t.Errorf("a customer admin downloading the proof: status %d", st)
	}

	action, _ := p.Doc.Find(`[data-testid="proof-check-form"]`).Attr("action")
	if c := staff.post(action, url.Values{"kind": {requests.ProofSignedPermission}, "outcome": {requests.ProofAccepted}, "note": {"signed by Jane, ID matches"}}); c.Status != http.StatusSeeOther {
		t.Fatalf("check: status %d\n%s", c.Status, c.Body)
	}
	p = staff.get(path)
	if got := p.text(`[data-testid="proof-check"]`); !strings.Contains(got, "accepted by officer@sendara.test") {
		t.Errorf("the page shows the check as %q", got)
	}
	if p.Doc.Find(`[data-testid="proof-waiting"]`).Length() != 0 {
		t.Error("the page still says routing waits for the proof")
	}
	if rt := staff.post(path+"/route", nil); rt.Status != http.StatusSeeOther {
		t.Fatalf("routing after the check: status %d", rt.Status)
	}

	// Withdrawn: the file is gone, the check stays.
	staff.get(path)
	if w := staff.post(path+"/status", url.Values{"to": {requests.StatusWithdrawn}, "note": {"agent withdrew"}}); w.Status != http.StatusSeeOther {
		t.Fatalf("withdraw: status %d", w.Status)
	}
	if st := staff.get(link).Status; st != http.StatusNotFound {
		t.Errorf("downloading after the request closed: status %d, want 404", st)
	}
	p = staff.get(path)
	if got := p.text(`[data-testid="proof-list"]`); !strings.Contains(got, "deleted") || !strings.Contains(got, "accepted by officer@sendara.test") || strings.Contains(got, "permission.png") {
		t.Errorf("after closing the proofs read %q", got)
	}
}
