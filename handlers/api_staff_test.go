package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAStaffKeyNamingACustomerIsHeldToIt(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, other := app.customer("acme"), app.customer("other")
	acmeAPI, staffAPI := app.apiKey(t, acme), app.apiKey(t, nil)
	created := acmeAPI.post("/api/v1/contacts", map[string]any{"identifiers": []string{"ann@example.com"}, "name": "Ann"})
	if created.Status != 201 {
		t.Fatalf("create: %d %s", created.Status, created.Raw)
	}
	id := created.Body["id"].(string)
	cases := []struct {
		name, query string
		want        int
	}{
		{"its customer by slug", "?customer=acme", 200},
		{"its customer by id", "?customer=" + acme.ID, 200},
		{"another customer", "?customer=other", 404},
		{"another customer's id", "?customer=" + other.ID, 404},
		{"a customer that does not exist", "?customer=nobody", 404},
		{"no customer and no purpose", "", 400},
		{"no customer, with a purpose", "?purpose=" + url.QueryEscape("PR-2026-000042 access request"), 200},
	}
	for _, tc := range cases {
		for _, path := range []string{"/api/v1/contacts/" + id, "/api/v1/contacts/" + id + "/consent"} {
			if a := staffAPI.get(path + tc.query); a.Status != tc.want {
				t.Errorf("%s, %s: status %d %s, want %d", tc.name, path, a.Status, a.Raw, tc.want)
			} else if tc.want == 400 && a.Body["field"] != "purpose" {
				t.Errorf("%s: error %s, want it to name the purpose field", tc.name, a.Raw)
			}
		}
	}
	if a := acmeAPI.get("/api/v1/contacts/" + id + "?customer=other"); a.Status != 404 {
		t.Errorf("a customer key naming another customer: %d, want 404", a.Status)
	}
}

func TestStaffReadsAcrossCustomersAreAuditedWithTheirPurpose(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	acmeAPI, staffAPI := app.apiKey(t, acme), app.apiKey(t, nil)
	id := acmeAPI.post("/api/v1/contacts", map[string]any{"identifiers": []string{"ann@example.com"}}).Body["id"].(string)

	const purpose = "PR-2026-000042 erasure check"
	req, _ := http.NewRequest(http.MethodGet, app.srv.URL+"/api/v1/contacts/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+staffAPI.key)
	req.Header.Set("X-Purpose", purpose)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("staff read with X-Purpose: status %d", res.StatusCode)
	}
	if a := staffAPI.get("/api/v1/contacts/" + id + "/consent?purpose=" + url.QueryEscape(purpose)); a.Status != 200 {
		t.Fatalf("staff consent read with a purpose: %d %s", a.Status, a.Raw)
	}
	for _, action := range []string{"contact.view", "contact.consent_view"} {
		events := app.auditEvents(action)
		if len(events) != 1 {
			t.Fatalf("%s events: %d, want 1", action, len(events))
		}
		d := details(t, events[0])
		if d["purpose"] != purpose || d["across_customers"] != true || events[0].CustomerID != acme.ID {
			t.Errorf("%s audit entry: details %v, tenant %v; want the purpose, across_customers and the contact's customer", action, d, events[0].CustomerID)
		}
	}
	if a := staffAPI.get("/api/v1/contacts/" + id + "?purpose=" + url.QueryEscape(strings.Repeat("x", 201))); a.Status != 400 || a.Body["field"] != "purpose" {
		t.Errorf("a 201-character purpose: %d %s, want 400 naming purpose", a.Status, a.Raw)
	}
}
