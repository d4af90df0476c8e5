package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	hooks "github.com/sendara/console/models/hooks"

	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	store "github.com/sendara/console/models/store"
)

func TestACustomerAdminManagesItsOwnWebhookEndpoints(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, globex := app.customer("acme"), app.customer("globex")
	admin := app.client()
	admin.login(app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.example"))

	admin.get("/webhooks")
	bad := admin.post("/webhooks", url.Values{"url": {"http://crm.example.com/hook"}, "event_types": {hooks.EventOptedOut}, "enabled": {"yes"}})
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.text("#err-url"), "https://") {
		t.Fatalf("http endpoint: status %d, error %q", bad.Status, bad.text("#err-url"))
	}
	created := admin.post("/webhooks", url.Values{"url": {"https://crm.example.com/hook"}, "description": {"HubSpot"},
		"event_types": {hooks.EventOptedOut, hooks.EventContactErased}, "enabled": {"yes"}})
	secret, _ := created.Doc.Find(`[data-testid="webhook-secret"]`).Attr("value")
	if created.Status != http.StatusOK || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("create: status %d, secret %q", created.Status, secret)
	}
	endpoints, err := app.db.WebhookEndpoints(context.Background(), store.SystemActor("test"), acme.ID)
	if err != nil || len(endpoints) != 1 {
		t.Fatalf("endpoints: %v %d", err, len(endpoints))
	}
	e := endpoints[0]
	if e.Secret != secret || e.EventTypes != "consent.opted_out contact.erased" {
		t.Errorf("stored endpoint = %+v", e)
	}

	list := admin.get("/webhooks")
	if !strings.Contains(list.text(`[data-testid="webhooks"]`), "https://crm.example.com/hook") {
		t.Errorf("the list does not show the endpoint")
	}
	admin.get("/webhooks/" + e.ID)
	if p := admin.post("/webhooks/"+e.ID+"/test", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("send a test event: %d", p.Status)
	}
	page := admin.get("/webhooks/" + e.ID)
	if got := page.text(`[data-testid="delivery"]`); !strings.Contains(got, hooks.EventTest) || !strings.Contains(got, "pending") {
		t.Errorf("delivery log after a test = %q", got)
	}
	if p := admin.post("/webhooks/"+e.ID, url.Values{"url": {"https://crm.example.com/v2"}, "event_types": {hooks.EventOptedIn}}); p.Status != http.StatusSeeOther {
		t.Fatalf("update: %d", p.Status)
	}
	updated, _ := app.db.WebhookEndpoint(context.Background(), store.SystemActor("test"), e.ID)
	if updated.URL != "https://crm.example.com/v2" || updated.Enabled || updated.EventTypes != hooks.EventOptedIn {
		t.Errorf("after update: %+v", updated)
	}
	admin.get("/webhooks/" + e.ID)
	rotated := admin.post("/webhooks/"+e.ID+"/rotate", nil)
	if s, _ := rotated.Doc.Find(`[data-testid="webhook-secret"]`).Attr("value"); s == secret || !strings.HasPrefix(s, "whsec_") {
		t.Errorf("rotation showed %q", s)
	}

	// Another tenant's admin, and an agent of the same tenant, cannot reach it.
	other := app.client()
	other.login(app.user(accounts.RoleCustomerAdmin, globex, "admin@globex.example"))
	if p := other.get("/webhooks/" + e.ID); p.Status != http.StatusNotFound {
		t.Errorf("another tenant's admin: %d, want 404", p.Status)
	}
	other.get("/webhooks")
	if p := other.post("/webhooks/"+e.ID+"/delete", nil); p.Status != http.StatusNotFound {
		t.Errorf("another tenant's admin deleting: %d, want 404", p.Status)
	}
	agent := app.client()
	agent.login(app.user(accounts.RoleCustomerAgent, acme, "agent@acme.example"))
	if p := agent.get("/webhooks"); p.Status != http.StatusForbidden {
		t.Errorf("agent: %d, want 403", p.Status)
	}

	admin.get("/webhooks/" + e.ID)
	if p := admin.post("/webhooks/"+e.ID+"/delete", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d", p.Status)
	}
	actions := app.auditActions()
	for _, want := range []string{"webhook.create", "webhook.test", "webhook.update", "webhook.rotate_secret", "webhook.log_view", "webhook.delete"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit log lacks %s: %v", want, actions)
		}
	}
}

func TestTheEventsFeedPagesAKeysOwnConsentEventsWithAStableCursor(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	otherAPI := app.apiKey(t, app.customer("globex"))
	for _, to := range []string{"+14155550101", "+14155550102", "+14155550103"} {
		if a := api.post("/api/v1/opt-outs", map[string]any{"to": to}); a.Status != http.StatusCreated {
			t.Fatalf("opt-out %s: %d %s", to, a.Status, a.Raw)
		}
	}
	var seen []string
	cursor := ""
	for range 5 {
		a := api.get("/api/v1/events?limit=2&after=" + url.QueryEscape(cursor))
		if a.Status != http.StatusOK {
			t.Fatalf("feed: %d %s", a.Status, a.Raw)
		}
		events, _ := a.Body["events"].([]any)
		for _, e := range events {
			ev := e.(map[string]any)
			data := ev["data"].(map[string]any)
			ids := data["identifiers"].([]any)
			if ev["type"] != hooks.EventOptedOut || !strings.HasPrefix(ev["id"].(string), "msg_") {
				t.Errorf("event = %v", ev)
			}
			seen = append(seen, ids[0].(string))
		}
		next := a.Body["next"].(string)
		if len(events) == 0 {
			if next != cursor {
				t.Errorf("an empty page moved the cursor from %q to %q", cursor, next)
			}
			break
		}
		cursor = next
	}
	if strings.Join(seen, ",") != "+14155550101,+14155550102,+14155550103" {
		t.Fatalf("feed gave %v", seen)
	}
	// A later opt-out comes after the cursor already held.
	api.post("/api/v1/opt-outs", map[string]any{"to": "+14155550104"})
	if a := api.get("/api/v1/events?after=" + url.QueryEscape(cursor)); len(a.Body["events"].([]any)) != 1 {
		t.Errorf("after a new opt-out: %s", a.Raw)
	}
	if a := otherAPI.get("/api/v1/events"); a.Status != http.StatusOK || len(a.Body["events"].([]any)) != 0 {
		t.Errorf("another customer's key: %d %s", a.Status, a.Raw)
	}
	for _, q := range []string{"after=bogus", "limit=0", "limit=501"} {
		a := api.get("/api/v1/events?" + q)
		field := strings.Split(q, "=")[0]
		if a.Status != http.StatusBadRequest || a.Body["field"] != field {
			t.Errorf("%s: %d %s, want 400 naming %s", q, a.Status, a.Raw, field)
		}
	}
}
