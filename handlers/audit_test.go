package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	customers "github.com/sendara/console/models/customers"

	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/sendara/console/models/auditchain"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// exportLines reads an export download as entries.
func exportLines(t *testing.T, p *page) []auditchain.Entry {
	t.Helper()
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "application/jsonl") ||
		!strings.HasPrefix(p.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("export: status %d, %s, %s\n%s", p.Status, p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"), p.Body)
	}
	var es []auditchain.Entry
	for _, line := range strings.Split(strings.TrimSpace(p.Body), "\n") {
		if line == "" {
			continue
		}
		var e auditchain.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		es = append(es, e)
	}
	return es
}

func verifyExport(t *testing.T, body string, filtered bool) auditchain.ExportReport {
	t.Helper()
	rep, err := auditchain.VerifyExport(strings.NewReader(body), filtered)
	if err != nil || !rep.Intact() {
		t.Fatalf("the downloaded export does not verify (filtered %v): %+v, %v", filtered, rep, err)
	}
	return rep
}

func TestAuditorDownloadsTheFilteredLogAsVerifiableLines(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.customer("acme")
	app.customer("bright")
	c, acc := app.signedIn(accounts.RoleAuditor, nil, "auditor@sendara.test")
	page := c.get("/audit")
	href, ok := page.Doc.Find(`[data-testid="export"]`).Attr("href")
	if !ok || href != "/audit/export.jsonl?" {
		t.Fatalf("export link %q on the unfiltered page", href)
	}

	full := c.get(href)
	es := exportLines(t, full)
	if full.Header.Get("X-Audit-Export") != "full" || es[0].Seq != 1 {
		t.Errorf("an unfiltered export is marked %q and starts at %d; want full from 1", full.Header.Get("X-Audit-Export"), es[0].Seq)
	}
	rep := verifyExport(t, full.Body, false)
	if rep.Entries != int64(len(es)) {
		t.Errorf("verified %d of %d entries", rep.Entries, len(es))
	}

	filtered := c.get("/audit?" + url.Values{"action": {"customer. user.login"}}.Encode())
	href, _ = filtered.Doc.Find(`[data-testid="export"]`).Attr("href")
	if !strings.Contains(href, "action=customer.+user.login") {
		t.Fatalf("the export link %q does not carry the filter", href)
	}
	part := c.get(href)
	if part.Header.Get("X-Audit-Export") != "filtered" {
		t.Errorf("a filtered export is marked %q", part.Header.Get("X-Audit-Export"))
	}
	seen := map[string]bool{}
	for _, e := range exportLines(t, part) {
		if !strings.HasPrefix(e.Action, "customer.") && !strings.HasPrefix(e.Action, "user.login") {
			t.Errorf("the filtered export holds %s", e.Action)
		}
		seen[strings.SplitN(e.Action, ".", 2)[0]] = true
	}
	if !seen["customer"] || !seen["user"] {
		t.Errorf("the filtered export lacks one of the two actions asked for: %v", seen)
	}
	verifyExport(t, part.Body, true)

	exports := app.auditEvents("audit.export")
	if len(exports) != 2 || exports[0].ActorLabel != acc.User.Email || !strings.Contains(exports[0].Details, `"user.login"`) {
		t.Errorf("the exports are recorded as %+v; want two by the auditor, the newest with its filter", exports)
	}
}

func TestCustomerAdminExportsOnlyItsOwnTenantsEvents(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, bright := app.customer("acme"), app.customer("bright")
	app.user(accounts.RoleCustomerAdmin, bright, "admin@bright.test")
	c, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	for _, q := range []string{"", "?customer=bright", "?action=user."} {
		p := c.get("/audit/export.jsonl" + q)
		es := exportLines(t, p)
		if len(es) == 0 {
			t.Fatalf("export%s is empty; acme has events", q)
		}
		for _, e := range es {
			if e.CustomerID != acme.ID {
				t.Errorf("acme's admin exported%s entry %d (%s) of tenant %q", q, e.Seq, e.Action, e.CustomerID)
			}
		}
		if p.Header.Get("X-Audit-Export") != "filtered" {
			t.Errorf("a tenant's export is marked %q, want filtered", p.Header.Get("X-Audit-Export"))
		}
		verifyExport(t, p.Body, true)
	}
	if p := c.get("/audit"); p.Doc.Find(`[data-testid="chain"]`).Length() != 0 || p.Doc.Find(`input[name="customer"]`).Length() != 0 {
		t.Error("a customer admin is shown the chain head or a customer filter")
	}
}

func TestExportIsRefusedAndLoggedForRolesWithoutIt(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	for _, u := range []struct {
		role     accounts.Role
		customer *customers.Customer
		email    string
	}{
		{accounts.RolePrivacyOfficer, nil, "officer@sendara.test"},
		{accounts.RoleCustomerAgent, acme, "agent@acme.test"},
	} {
		c, _ := app.signedIn(u.role, u.customer, u.email)
		if p := c.get("/audit/export.jsonl"); p.Status != http.StatusForbidden {
			t.Errorf("%s: export status %d, want 403", u.role, p.Status)
		}
		denied := app.auditEvents("access.denied")
		if len(denied) == 0 || denied[0].ActorLabel != u.email || denied[0].ObjectID != "GET /audit/export.jsonl" ||
			!strings.Contains(denied[0].Details, "audit:export") {
			t.Errorf("%s: the refusal is logged as %+v", u.role, denied)
		}
		if u.customer != nil && denied[0].CustomerID != u.customer.ID {
			t.Errorf("the agent's refusal is not in its tenant's log: %q", denied[0].CustomerID)
		}
	}
}

func TestAuditPageShowsTheHeadAndTheLastCheckpoint(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c, _ := app.signedIn(accounts.RoleAuditor, nil, "auditor@sendara.test")
	if got := c.get("/audit").text(`[data-testid="checkpoint"]`); !strings.Contains(got, "No signed checkpoint") {
		t.Errorf("before any checkpoint: %q", got)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	cp, err := app.db.CheckpointAudit(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	p := c.get("/audit")
	seq, hash, _ := app.db.AuditHead(context.Background())
	// The head shown includes the page's own view.
	if got := p.text(`[data-testid="head-seq"]`); got != fmt.Sprint(seq) {
		t.Errorf("head shown %s, want %d", got, seq)
	}
	if got := p.text(`[data-testid="head-hash"]`); got != hash {
		t.Errorf("head hash shown %q, want %s", got, hash)
	}
	want := fmt.Sprintf("entry %d at", cp.Seq)
	if got := p.text(`[data-testid="checkpoint"]`); !strings.Contains(got, want) || !strings.Contains(got, cp.KeyID) {
		t.Errorf("checkpoint shown %q, want %q and key %s", got, want, cp.KeyID)
	}
	v := c.postWith("/audit/verify", nil, http.Header{"HX-Request": {"true"}})
	if r := v.text(`[data-testid="verify-result"]`); !strings.Contains(r, "Head: entry") {
		t.Errorf("verify result %q does not name the head", r)
	}
}

func TestAuditPageFiltersByTimeTextObjectAndCustomerAndPagesByKeyset(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	ctx := context.Background()
	writes := []store.Audit{
		{Action: "request.deny", ObjectType: "request", ObjectID: "r-1", CustomerID: acme.ID,
			Details: map[string]any{"reference": "PR-2026-000007", "reason": "could not verify the requester"}},
		{Action: "request.note", ObjectType: "request", ObjectID: "r-2", Details: map[string]any{"note": "called back"}},
	}
	if err := app.db.Record(ctx, modeltest.Staff, writes...); err != nil {
		t.Fatal(err)
	}
	many := make([]store.Audit, 130)
	for i := range many {
		many[i] = store.Audit{Action: "test.bulk", ObjectID: fmt.Sprint(i)}
	}
	if err := app.db.Record(ctx, modeltest.Staff, many...); err != nil {
		t.Fatal(err)
	}
	c, _ := app.signedIn(accounts.RoleAuditor, nil, "auditor@sendara.test")
	rows := func(q url.Values) (*page, []string) {
		p := c.get("/audit?" + q.Encode())
		if p.Status != http.StatusOK {
			t.Fatalf("/audit?%s: status %d", q.Encode(), p.Status)
		}
		var out []string
		p.Doc.Find(`[data-testid="audit"] tbody tr td:nth-child(5)`).Each(func(_ int, s *goquery.Selection) {
			out = append(out, strings.TrimSpace(s.Text()))
		})
		return p, out
	}
	tests := []struct {
		name string
		q    url.Values
		want string
	}{
		{"text in the details", url.Values{"q": {"could not verify"}}, "request.deny"},
		{"a request by its reference", url.Values{"object": {"PR-2026-000007"}}, "request.deny"},
		{"a customer", url.Values{"customer": {"acme"}, "action": {"request."}}, "request.deny"},
		{"several actions", url.Values{"action": {"request.deny, request.note"}}, "request.note request.deny"},
		{"a time range in the future", url.Values{"since": {"2999-01-01T00:00:00"}}, ""},
		{"a time range in the past", url.Values{"until": {"2000-01-01T00:00"}}, ""},
	}
	for _, tt := range tests {
		if _, got := rows(tt.q); strings.Join(got, " ") != tt.want {
			t.Errorf("%s: rows %v, want %q", tt.name, got, tt.want)
		}
	}
	if p := c.get("/audit?since=tomorrow"); p.Status != http.StatusBadRequest {
		t.Errorf("a bad time: status %d, want 400", p.Status)
	}

	p, first := rows(url.Values{"action": {"test."}})
	if len(first) != 100 {
		t.Fatalf("first page has %d rows, want 100", len(first))
	}
	if when := p.text(`[data-testid="audit"] tbody tr td:nth-child(2)`); !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d `).MatchString(when) {
		t.Errorf("time shown as %q, want it to the second", when)
	}
	next, _ := p.Doc.Find(`a[rel="next"]`).Attr("href")
	if !strings.Contains(next, "action=test.") {
		t.Fatalf("the next page link %q drops the filter", next)
	}
	second := c.get(next)
	var n int
	second.Doc.Find(`[data-testid="audit"] tbody tr`).Each(func(int, *goquery.Selection) { n++ })
	if n != 30 || second.Doc.Find(`a[rel="next"]`).Length() != 0 {
		t.Errorf("second page has %d rows, want the last 30 and no next link", n)
	}
}

func TestAnotherTenantsObjectAnswers404AndIsLogged(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, bright := app.customer("acme"), app.customer("bright")
	theirs := app.contact(t, bright, "Jane Doe", "+14155550123")
	c, acc := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	if p := c.get("/contacts/" + theirs.ID); p.Status != http.StatusNotFound {
		t.Fatalf("another tenant's contact: status %d, want 404", p.Status)
	}
	es := app.auditEvents("access.not_found")
	if len(es) != 1 || es[0].ObjectID != theirs.ID || es[0].ActorLabel != acc.User.Email || es[0].CustomerID != acme.ID ||
		!strings.Contains(es[0].Details, "GET /contacts/:id") {
		t.Errorf("the refused object is logged as %+v", es)
	}
}

// An auditor asks "what happened to this person's contact, and from
// where?" by the person's identifier as they wrote it and by the address;
// the lookup is on the log, and a customer never reaches another tenant's
// contact through an identifier both hold.
func TestAuditPageFindsEventsByAContactsIdentifierAndByAddress(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, other := app.customer("acme"), app.customer("other")
	jane := app.contact(t, acme, "Jane Doe", "+14155550123", "jane@example.com")
	twin := app.contact(t, other, "Jane at Other", "+14155550123")
	ctx := context.Background()
	if err := app.db.Record(ctx, modeltest.Staff.From("203.0.113.7"),
		store.Audit{Action: "contact.view", ObjectType: "contact", ObjectID: jane.ID, CustomerID: acme.ID},
		store.Audit{Action: "contact.view", ObjectType: "contact", ObjectID: twin.ID, CustomerID: other.ID}); err != nil {
		t.Fatal(err)
	}
	if err := app.db.Record(ctx, modeltest.Staff.From("198.51.100.9"),
		store.Audit{Action: "contact.export", ObjectType: "contact", ObjectID: jane.ID, CustomerID: acme.ID}); err != nil {
		t.Fatal(err)
	}
	objects := func(c *client, q url.Values) []string {
		t.Helper()
		p := c.get("/audit?" + q.Encode())
		if p.Status != http.StatusOK {
			t.Fatalf("/audit?%s: status %d", q.Encode(), p.Status)
		}
		var out []string
		p.Doc.Find(`[data-testid="audit"] tbody tr`).Each(func(_ int, s *goquery.Selection) {
			out = append(out, strings.TrimSpace(s.Find("td:nth-child(5)").Text())+"@"+strings.TrimSpace(s.Find("td:nth-child(4)").Text()))
		})
		return out
	}
	auditor, _ := app.signedIn(accounts.RoleAuditor, nil, "auditor@sendara.test")
	tests := []struct {
		name string
		q    url.Values
		want string
	}{
		{"the phone as the person wrote it", url.Values{"object": {"(415) 555-0123"}, "customer": {"acme"}},
			"contact.export@198.51.100.9 contact.view@203.0.113.7 contact.create@"},
		{"the email in another spelling", url.Values{"object": {"Jane@Example.COM"}},
			"contact.export@198.51.100.9 contact.view@203.0.113.7 contact.create@"},
		{"the phone at every customer", url.Values{"object": {"+1 415 555 0123"}, "action": {"contact.view"}},
			"contact.view@203.0.113.7 contact.view@203.0.113.7"},
		{"an address", url.Values{"address": {"198.51.100.9"}}, "contact.export@198.51.100.9"},
		{"an identifier nobody holds", url.Values{"object": {"+14155550999"}}, ""},
	}
	for _, tt := range tests {
		if got := strings.Join(objects(auditor, tt.q), " "); got != tt.want {
			t.Errorf("%s: rows %q, want %q", tt.name, got, tt.want)
		}
	}
	if p := auditor.get("/audit?address=not-an-ip"); p.Status != http.StatusBadRequest {
		t.Errorf("a bad address: status %d, want 400", p.Status)
	}
	if p := auditor.get("/audit?object=" + url.QueryEscape("jane@exa\u200bmple.com")); p.Status != http.StatusBadRequest {
		t.Errorf("an identifier with an invisible character: status %d, want 400", p.Status)
	}
	// The lookup itself is on the log, with the identifier it asked about.
	var views []store.AuditEvent
	if err := app.db.Gorm.Where("action = ?", "audit.view").Order("seq").Find(&views).Error; err != nil {
		t.Fatal(err)
	}
	if len(views) == 0 || !strings.Contains(views[0].Details, `"identifier":"+14155550123"`) {
		t.Errorf("the identifier lookup is not on the log: %+v", views)
	}
	// Acme's admin asking by the same phone sees only Acme's contact.
	admin, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	if got := objects(admin, url.Values{"object": {"+14155550123"}, "action": {"contact."}}); strings.Join(got, " ") != "contact.export@198.51.100.9 contact.view@203.0.113.7 contact.create@" {
		t.Errorf("a customer admin's identifier lookup: %q, want only its own contact's events", got)
	}
}
