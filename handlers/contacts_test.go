package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/sendara/console/handlers"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func (a *testApp) contact(t *testing.T, customer *customers.Customer, name string, ids ...string) *consent.Contact {
	t.Helper()
	c, err := a.db.CreateContact(context.Background(), modeltest.Staff, customer.ID, consent.ContactInput{Identifiers: ids, Name: name}, "US")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestContactListSearchesFiltersAndPages(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	for i := range 55 {
		app.contact(t, acme, fmt.Sprintf("Person %02d", i), fmt.Sprintf("+1415555%04d", i))
	}
	jane := app.contact(t, acme, "Jane Doe", "+14155559999", "jane@example.com")
	if _, err := app.db.RecordConsent(context.Background(), modeltest.Staff, acme.ID, consent.ConsentInput{ContactID: jane.ID, Kind: consent.OptOut}, "US"); err != nil {
		t.Fatal(err)
	}
	other := app.customer("other")
	app.contact(t, other, "Jane Elsewhere", "+14155558888", "jane@elsewhere.example")

	c := app.client()
	c.login(admin)
	first := c.get("/contacts")
	if rows := first.Doc.Find(`[data-testid=contacts] tbody tr`).Length(); rows != 50 {
		t.Errorf("first page has %d rows, want 50", rows)
	}
	next, ok := first.Doc.Find(`[data-testid=next-page]`).Attr("href")
	if !ok {
		t.Fatal("no next page link")
	}
	second := c.get(next)
	if rows := second.Doc.Find(`[data-testid=contacts] tbody tr`).Length(); rows != 6 {
		t.Errorf("second page has %d rows, want 6", rows)
	}
	if second.Doc.Find(`[data-testid=next-page]`).Length() != 0 {
		t.Error("the last page links to another")
	}
	searches := map[string]int{
		"jane":             1, // name prefix, own tenant only
		"JANE@example.com": 1,
		"(415) 555-9999":   1,
		"Person 1":         10,
		"nobody":           0,
	}
	for q, want := range searches {
		p := c.get("/contacts?q=" + url.QueryEscape(q))
		if got := p.Doc.Find(`[data-testid=contacts] tbody tr`).Length(); got != want {
			t.Errorf("search %q: %d rows, want %d", q, got, want)
		}
		if strings.Contains(p.Body, "Elsewhere") || strings.Contains(p.Body, "elsewhere.example") {
			t.Errorf("search %q shows another tenant's contact", q)
		}
	}
	if p := c.get("/contacts?suppressed=yes"); p.Doc.Find(`[data-testid=contacts] tbody tr`).Length() != 1 || !strings.Contains(p.Body, "Jane Doe") {
		t.Error("the suppressed filter does not find exactly Jane")
	}
	acts := app.auditActions()
	if n := strings.Count(strings.Join(acts, " "), "contact.list"); n != 8 {
		t.Errorf("%d contact.list audit events for 8 list views", n)
	}
}

func TestContactPageShowsStateTimelineAndAnswersForAPointInTime(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, handlers.Config{Location: time.UTC})
	acme := app.customer("acme")
	agent := app.user(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	jane := app.contact(t, acme, "Jane Doe", "+14155559999")
	t0 := time.Date(2026, 1, 15, 18, 0, 0, 0, time.UTC)
	ctx := context.Background()
	if _, err := app.db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{ContactID: jane.ID, Kind: consent.OptIn,
		Evidence: "web form #7", OccurredAt: t0}, "US"); err != nil {
		t.Fatal(err)
	}
	c := app.client()
	c.login(agent)
	p := c.get("/contacts/" + jane.ID)
	if p.Status != 200 || !strings.Contains(p.text(`[data-testid=consent-timeline]`), "web form #7") {
		t.Fatalf("contact page: %d, timeline %q", p.Status, p.text(`[data-testid=consent-timeline]`))
	}
	// An agent records an opt-out for iMessage through the form.
	res := c.post("/contacts/"+jane.ID+"/consent", url.Values{"kind": {"opt_out"}, "channel": {"imessage"}, "evidence": {"asked on the phone"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("record opt-out: %d %s", res.Status, res.Body)
	}
	p = c.get("/contacts/" + jane.ID)
	if got := p.text(`[data-channel=imessage]`); !strings.Contains(got, "no — opted out") {
		t.Errorf("imessage state: %q", got)
	}
	if got := p.text(`[data-channel=facetime]`); !strings.Contains(got, "yes — opted in") || !strings.Contains(got, "web form #7") {
		t.Errorf("facetime state: %q, want opted in with its evidence", got)
	}
	// An opt-in without evidence is refused beside the field, nothing written.
	bad := c.post("/contacts/"+jane.ID+"/consent", url.Values{"kind": {"opt_in"}, "channel": {"imessage"}})
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "is required for an opt-in") {
		t.Errorf("opt-in without evidence: %d", bad.Status)
	}
	// The point-in-time question, as htmx asks it.
	loc := time.FixedZone("x", 0)
	ask := func(at time.Time, channel string) string {
		req, _ := http.NewRequest("GET", app.srv.URL+"/contacts/"+jane.ID+"/consent?channel="+channel+"&at="+url.QueryEscape(at.In(loc).Format("2006-01-02T15:04:05")), nil)
		req.Header.Set("HX-Request", "true")
		return c.do(req).Body
	}
	if got := ask(t0.Add(-time.Hour), "imessage"); !strings.Contains(got, "No record.") || !strings.Contains(got, "No consent event had happened") || strings.Contains(got, "Yes") {
		t.Errorf("before any event: %s, want no record and no yes", got)
	}
	if got := ask(t0.Add(time.Hour), "imessage"); !strings.Contains(got, "Yes: opted in.") || !strings.Contains(got, "web form #7") {
		t.Errorf("after the opt-in: %s", got)
	}
	if got := ask(time.Now().Add(time.Minute), "imessage"); !strings.Contains(got, "No: opted out.") || strings.Contains(got, "<html") {
		t.Errorf("after the opt-out: %s", got)
	}
	if !strings.Contains(strings.Join(app.auditActions(), " "), "contact.view") {
		t.Error("viewing the contact was not audited")
	}
}

func TestAnotherTenantsContactIsNotFound(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, other := app.customer("acme"), app.customer("other")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	theirs := app.contact(t, other, "Theirs", "+14155550100")
	c := app.client()
	c.login(admin)
	for _, path := range []string{"/contacts/" + theirs.ID, "/contacts/" + theirs.ID + "/consent?at=2026-01-01T00:00"} {
		if p := c.get(path); p.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, p.Status)
		}
	}
	c.get("/contacts")
	if p := c.post("/contacts/"+theirs.ID+"/consent", url.Values{"kind": {"opt_out"}}); p.Status != http.StatusNotFound {
		t.Errorf("recording on another tenant's contact: %d, want 404", p.Status)
	}
	if p := c.post("/contacts/"+theirs.ID, url.Values{"identifiers": {"+14155550100"}}); p.Status != http.StatusNotFound {
		t.Errorf("editing another tenant's contact: %d, want 404", p.Status)
	}
}

func TestContactFormsRefuseBadInputBesideTheField(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	app.contact(t, acme, "Taken", "+14155550100")
	c := app.client()
	c.login(admin)
	c.get("/contacts/new")
	tests := []struct {
		ids, message string
	}{
		{"+14155550101\nnot a phone", "entry 2: &#34;not a phone&#34; is neither a phone number nor an email address"},
		{"", "give at least one phone number"},
		{"415.555.0100", "already belongs to another contact"},
	}
	for _, tt := range tests {
		p := c.post("/contacts", url.Values{"identifiers": {tt.ids}, "name": {"X"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, tt.message) {
			t.Errorf("identifiers %q: %d, want 422 with %q", tt.ids, p.Status, tt.message)
		}
	}
	list, _, _ := app.db.ListContacts(context.Background(), modeltest.Staff, consent.ContactFilter{}, "US")
	if len(list) != 1 {
		t.Errorf("%d contacts after refused forms, want 1", len(list))
	}
	ok := c.post("/contacts", url.Values{"identifiers": {"+1 (415) 555-0102\nNew@Example.com"}, "name": {"New"}})
	if ok.Status != http.StatusSeeOther || !strings.HasPrefix(ok.Location(), "/contacts/") {
		t.Fatalf("a good contact: %d", ok.Status)
	}
	if p := c.get(ok.Location()); !strings.Contains(p.text(`[data-testid=contact-identifiers]`), "new@example.com") {
		t.Errorf("identifiers shown: %q", p.text(`[data-testid=contact-identifiers]`))
	}
}

func TestReviewQueueDecisionsGoToTheLedger(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	agent := app.user(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	ctx := context.Background()
	loc := time.UTC
	older, err := app.db.RecordInbound(ctx, modeltest.Staff, acme.ID, "+14155550101", "I can't stop laughing", time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), "US", calendar.Business{Loc: loc, Calendar: calendar.DefaultCalendar()})
	if err != nil {
		t.Fatal(err)
	}
	newer, err := app.db.RecordInbound(ctx, modeltest.Staff, acme.ID, "+14155550102", "cancel my appointment", time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), "US", calendar.Business{Loc: loc, Calendar: calendar.DefaultCalendar()})
	if err != nil {
		t.Fatal(err)
	}
	// 10 business days from Friday 2026-11-20, skipping Thanksgiving (26 Nov).
	if older.ReviewDueOn == nil || older.ReviewDueOn.String() != "2026-12-07" {
		t.Errorf("due %v, want 2026-12-07", older.ReviewDueOn)
	}
	c := app.client()
	c.login(agent)
	p := c.get("/replies")
	rows := p.Doc.Find(`[data-testid=review-queue] tbody tr`)
	if rows.Length() != 2 || !strings.Contains(rows.First().Text(), "laughing") {
		t.Fatalf("queue not oldest first: %q", p.text(`[data-testid=review-queue]`))
	}
	form := url.Values{"decision": {"opt_out"}, "note": {"reads as a revocation"}, "_csrf": {c.csrf}}
	req, _ := http.NewRequest("POST", app.srv.URL+"/replies/"+newer.ID, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	if res := c.do(req); res.Status != 200 || !strings.Contains(res.Body, "opt_out by agent@acme.test") || strings.Contains(res.Body, "<html") {
		t.Fatalf("decision fragment: %d %s", res.Status, res.Body)
	}
	if p := c.post("/replies/"+older.ID, url.Values{"decision": {"not_opt_out"}}); p.Status != http.StatusSeeOther {
		t.Errorf("second decision: %d", p.Status)
	}
	if p := c.post("/replies/"+older.ID, url.Values{"decision": {"opt_out"}}); p.Status != http.StatusConflict {
		t.Errorf("deciding twice: %d, want 409", p.Status)
	}
	if c.get("/replies").Doc.Find(`[data-testid=queue-empty]`).Length() != 1 {
		t.Error("the queue is not empty after both decisions")
	}
	for number, want := range map[string]bool{"+14155550102": true, "+14155550101": false} {
		res, _ := app.db.CheckSuppression(ctx, acme.ID, store.Identifier{Kind: store.KindPhone, Value: number}, "")
		if res.Suppressed != want {
			t.Errorf("%s suppressed = %v, want %v", number, res.Suppressed, want)
		}
	}
	contact, _ := app.db.Reply(ctx, modeltest.Staff, newer.ID)
	ct, _ := app.db.Contact(ctx, modeltest.Staff, contact.ContactID)
	history, _ := app.db.ConsentHistory(ctx, modeltest.Staff, ct)
	if len(history) != 1 || history[0].Source != "inbound_reply" || !strings.Contains(history[0].Evidence, "reads as a revocation") {
		t.Errorf("ledger after the decision: %+v", history)
	}
}

func TestCustomerDashboardCountsItsOwnContactsAndReplies(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, other := app.customer("acme"), app.customer("other")
	agent := app.user(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	ctx := context.Background()
	for i, id := range []string{"+14155550101", "+14155550102", "+14155550103"} {
		c := app.contact(t, acme, "", id)
		if i == 0 {
			if _, err := app.db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{ContactID: c.ID, Kind: consent.OptOut}, "US"); err != nil {
				t.Fatal(err)
			}
		}
	}
	app.contact(t, other, "", "+14155550199")
	if _, err := app.db.RecordInbound(ctx, modeltest.Staff, acme.ID, "+14155550104", "can I cancel?", time.Now(), "US", calendar.Business{Loc: time.UTC, Calendar: calendar.DefaultCalendar()}); err != nil {
		t.Fatal(err)
	}
	c := app.client()
	c.login(agent)
	p := c.get("/")
	// The reply from an unknown number created a fourth contact.
	for id, want := range map[string]string{"fig-contacts": "4", "fig-suppressed": "1", "fig-to-review": "1"} {
		if got := p.text(`[data-testid=` + id + `] .n`); got != want {
			t.Errorf("%s = %q, want %s", id, got, want)
		}
	}
}

// TestNoRecordIsNeverShownAsConsent: a person with no opt-out and no
// opt-in is "no record" on the list and on the page, never a green yes;
// an opt-in shows with its structured evidence.
func TestNoRecordIsNeverShownAsConsent(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	nobody := app.contact(t, acme, "No Record", "+14155550101")
	agreed := app.contact(t, acme, "Agreed", "+14155550102")
	stopped := app.contact(t, acme, "Stopped", "+14155550103")
	c := app.client()
	c.login(admin)
	if res := c.post("/contacts/"+agreed.ID+"/consent", url.Values{"kind": {"opt_in"}, "channel": {"all"}, "evidence": {"ticked the box"},
		"evidence_kind": {"web_form"}, "evidence_ref": {"submission 8812"}, "captured_by": {"signup form v3"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("record opt-in: %d %s", res.Status, res.Body)
	}
	if res := c.post("/contacts/"+stopped.ID+"/consent", url.Values{"kind": {"opt_out"}, "channel": {"all"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("record opt-out: %d", res.Status)
	}
	list := c.get("/contacts")
	for _, tc := range []struct{ name, consent, word string }{
		{"No Record", "no_record", "no record"}, {"Agreed", "opted_in", "opted in"}, {"Stopped", "opted_out", "suppressed"},
	} {
		row := list.Doc.Find("[data-testid=contacts] tr").FilterFunction(func(_ int, s *goquery.Selection) bool {
			return strings.Contains(s.Text(), tc.name)
		})
		badges := row.Find("[data-consent]")
		if badges.Length() != 1 || badges.AttrOr("data-consent", "") != tc.consent || !strings.Contains(badges.Text(), tc.word) {
			t.Errorf("list row %s: %q, want only %s", tc.name, badges.Text(), tc.consent)
		}
	}
	p := c.get("/contacts/" + nobody.ID)
	for _, ch := range consent.Channels {
		got := p.text(`[data-channel=` + ch + `]`)
		if !strings.Contains(got, "no record") || strings.Contains(got, "yes") {
			t.Errorf("no-record contact on %s: %q", ch, got)
		}
	}
	p = c.get("/contacts/" + agreed.ID)
	for _, want := range []string{"yes — opted in", "ticked the box", "web form", "submission 8812", "signup form v3"} {
		if got := p.text(`[data-channel=imessage]`); !strings.Contains(got, want) {
			t.Errorf("opted-in contact: %q lacks %q", got, want)
		}
	}
}
