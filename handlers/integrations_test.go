package handlers_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	accounts "github.com/sendara/console/models/accounts"
	hooks "github.com/sendara/console/models/hooks"
)

// TestTheIntegrationRecipesWork makes the calls docs/INTEGRATIONS.md tells
// a customer to configure, with the bodies written there, and checks the
// answers the recipes rely on.
func TestTheIntegrationRecipesWork(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	writeKey := app.apiKey(t, acme)

	// Recipe 1: a HubSpot workflow's custom code action records an opt-out.
	a := writeKey.post("/api/v1/opt-outs", map[string]any{"to": "+1 415 555 0123", "channel": "all", "source": "crm",
		"evidence": "HubSpot workflow: contact 4711 unsubscribed from SMS"})
	if a.Status != http.StatusCreated {
		t.Fatalf("HubSpot opt-out: %d %s", a.Status, a.Raw)
	}

	// Recipe 2: n8n (or Zapier) checks before sending, with a check-only key.
	checkKey := app.apiKeyWithScope(t, acme, accounts.ScopeCheck)
	for to, want := range map[string]bool{"+14155550123": true, "+14155550124": false} {
		a := checkKey.get("/api/v1/suppressions/check?channel=imessage&to=" + url.QueryEscape(to))
		if a.Status != http.StatusOK || a.Body["suppressed"] != want {
			t.Errorf("check %s: %d %s, want suppressed=%v", to, a.Status, a.Raw, want)
		}
	}

	// Recipe 3: a Zapier polling trigger reads the feed and keeps the cursor.
	// On PostgreSQL the feed holds an event back while an older transaction
	// of this database is still running (one of the app's background
	// writers, now and then), so the trigger polls again, as Zapier does.
	var events []any
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		a = writeKey.get("/api/v1/events?limit=100")
		events, _ = a.Body["events"].([]any)
		if len(events) > 0 || a.Status != http.StatusOK || time.Now().After(deadline) {
			break
		}
	}
	if a.Status != http.StatusOK || len(events) != 1 || events[0].(map[string]any)["type"] != hooks.EventOptedOut {
		t.Fatalf("feed: %d %s", a.Status, a.Raw)
	}
	next := a.Body["next"].(string)
	if a = writeKey.get("/api/v1/events?limit=100&after=" + url.QueryEscape(next)); len(a.Body["events"].([]any)) != 0 {
		t.Errorf("the next poll repeats events: %s", a.Raw)
	}
}
