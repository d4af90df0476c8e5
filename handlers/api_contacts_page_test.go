package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	consent "github.com/sendara/console/models/consent"
	"github.com/sendara/console/models/modeltest"
)

// gapsContactIDs reads the ids of an API contacts answer, in order.
func gapsContactIDs(t *testing.T, a apiAnswer) []string {
	t.Helper()
	list, ok := a.Body["contacts"].([]any)
	if !ok {
		t.Fatalf("no contacts list in %s", a.Raw)
	}
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.(map[string]any)["id"].(string)
	}
	return out
}

// TestAPIContactsPageThroughEveryContactOnce: 250 contacts paged 100 at a
// time come back each exactly once, in creation order, with next null on
// the last page; another tenant's contacts never appear; each page is
// audited as a read of personal data.
func TestAPIContactsPageThroughEveryContactOnce(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, other := app.customer("acme"), app.customer("other")
	want := make([]string, 0, 250)
	for i := range 250 {
		want = append(want, app.contact(t, acme, fmt.Sprintf("Person %03d", i), fmt.Sprintf("+1415555%04d", i)).ID)
		if i%50 == 0 {
			app.contact(t, other, fmt.Sprintf("Elsewhere %03d", i), fmt.Sprintf("+1415666%04d", i))
		}
	}
	api := app.apiKey(t, acme)
	var got []string
	path := "/api/v1/contacts"
	pages := 0
	for {
		a := api.get(path)
		if a.Status != 200 {
			t.Fatalf("GET %s: %d %s", path, a.Status, a.Raw)
		}
		pages++
		ids := gapsContactIDs(t, a)
		got = append(got, ids...)
		next, present := a.Body["next"]
		if !present {
			t.Fatalf("answer has no next: %s", a.Raw)
		}
		if next == nil {
			if len(ids) != 50 {
				t.Errorf("last page has %d contacts, want 50", len(ids))
			}
			break
		}
		if len(ids) != 100 {
			t.Errorf("page %d has %d contacts, want the default 100", pages, len(ids))
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		path = "/api/v1/contacts?after=" + url.QueryEscape(next.(string))
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}
	if len(got) != len(want) {
		t.Fatalf("%d contacts paged, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("contact %d is %s, want %s (creation order, each once)", i, got[i], want[i])
		}
	}
	// A staff key names the customer; the other tenant's 5 contacts only.
	staff := app.apiKey(t, nil)
	if a := staff.get("/api/v1/contacts"); a.Status != 400 || a.Body["field"] != "customer" {
		t.Errorf("staff key without customer: %d %s", a.Status, a.Raw)
	}
	a := staff.get("/api/v1/contacts?limit=1000&customer=" + other.ID)
	if ids := gapsContactIDs(t, a); len(ids) != 5 || a.Body["next"] != nil {
		t.Errorf("other tenant's list: %d contacts, next %v", len(ids), a.Body["next"])
	}
	// A customer key naming another tenant is told nothing exists.
	if a := api.get("/api/v1/contacts?customer=other"); a.Status != 404 {
		t.Errorf("acme key listing other: %d %s", a.Status, a.Raw)
	}
	// A cursor from acme's list does not open the other tenant's contacts.
	first := api.get("/api/v1/contacts?limit=1")
	for _, id := range gapsContactIDs(t, app.apiKey(t, other).get("/api/v1/contacts?limit=1000&after="+url.QueryEscape(first.Body["next"].(string)))) {
		for _, w := range want {
			if id == w {
				t.Fatalf("acme's contact %s listed for other", id)
			}
		}
	}
	events := app.auditEvents("contact.list")
	if len(events) < pages {
		t.Fatalf("%d contact.list events for %d pages", len(events), pages)
	}
	d := details(t, events[len(events)-1]) // the first page, oldest
	if d["via"] != "api" || d["first_id"] != want[0] || d["last_id"] != want[99] {
		t.Errorf("first page audited as %v", d)
	}
}

// TestAPIContactsListRefusesBadCursorAndLimit names the field at fault.
func TestAPIContactsListRefusesBadCursorAndLimit(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	app.contact(t, acme, "Jane", "+14155550123")
	api := app.apiKey(t, acme)
	for _, tc := range []struct{ query, field string }{
		{"after=not-a-cursor!", "after"},
		{"after=" + url.QueryEscape("aGVsbG8"), "after"}, // base64 of "hello"
		{"after=", "after"},
		{"limit=0", "limit"},
		{"limit=1001", "limit"},
		{"limit=ten", "limit"},
		{"to=%2B14155550123&crm_id=X", "crm_id"},
		{"crm_id=", "crm_id"},
	} {
		a := api.get("/api/v1/contacts?" + tc.query)
		if a.Status != 400 || a.Body["field"] != tc.field {
			t.Errorf("?%s: %d %s, want 400 naming %s", tc.query, a.Status, a.Raw, tc.field)
		}
	}
}

// TestAPIContactsFoundByCRMID answers the tenant's contacts with that CRM
// id, never another tenant's, and audits the search.
func TestAPIContactsFoundByCRMID(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	acme, other := app.customer("acme"), app.customer("other")
	jane, err := app.db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"+14155550123"}, Name: "Jane", CRMID: "HS-42"}, "US")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.CreateContact(ctx, modeltest.Staff, other.ID, consent.ContactInput{Identifiers: []string{"+14155550124"}, Name: "Jim", CRMID: "HS-42"}, "US"); err != nil {
		t.Fatal(err)
	}
	api := app.apiKey(t, acme)
	a := api.get("/api/v1/contacts?crm_id=HS-42")
	if ids := gapsContactIDs(t, a); a.Status != 200 || len(ids) != 1 || ids[0] != jane.ID {
		t.Fatalf("crm_id HS-42: %d %s", a.Status, a.Raw)
	}
	c := a.Body["contacts"].([]any)[0].(map[string]any)
	if c["crm_id"] != "HS-42" || c["name"] != "Jane" {
		t.Errorf("contact answered as %v", c)
	}
	if ids := gapsContactIDs(t, api.get("/api/v1/contacts?crm_id=HS-43")); len(ids) != 0 {
		t.Errorf("unknown crm id found %v", ids)
	}
	ev := app.auditEvents("contact.search")
	if len(ev) == 0 || details(t, ev[0])["by"] != "crm_id" {
		t.Errorf("crm id search not audited: %v", ev)
	}
}
