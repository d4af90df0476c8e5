package handlers_test

import (
	"net/url"
	"strings"
	"testing"

	accounts "github.com/sendara/console/models/accounts"
)

// TestAnAPIKeysReversalOfAPersonsSTOPWaitsForAnAdmin: after the person's
// STOP, an opt-in through the API answers 202 pending_approval and every
// check still says opted out; the customer admin sees it on
// /consent-reversals, approves it, and the check then says opted in. An
// agent cannot reach the page.
func TestAnAPIKeysReversalOfAPersonsSTOPWaitsForAnAdmin(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	api := app.apiKey(t, acme)
	if a := api.post("/api/v1/inbound", map[string]any{"from": "+14155550123", "body": "STOP"}); a.Status != 200 || a.Body["action"] != "opt_out" {
		t.Fatalf("STOP: %d %s", a.Status, a.Raw)
	}
	optIn := map[string]any{"to": "+14155550123", "evidence": "re-subscribed on the phone", "source": "crm"}
	if a := api.post("/api/v1/opt-ins", optIn); a.Status != 422 || a.Body["field"] != "evidence_kind" {
		t.Errorf("opt-in without structured evidence: %d %s, want 422 on evidence_kind", a.Status, a.Raw)
	}
	optIn["evidence_kind"], optIn["evidence_ref"] = "call_recording", "rec-0042.wav"
	a := api.post("/api/v1/opt-ins", optIn)
	if a.Status != 202 || a.Body["pending_approval"] != true || a.Body["recorded"] != false || a.Body["suppressed"] != true {
		t.Fatalf("opt-in after STOP: %d %s, want 202 pending_approval", a.Status, a.Raw)
	}
	reversal, _ := a.Body["reversal_id"].(string)
	if c := api.get(check("+14155550123")); c.Body["suppressed"] != true || c.Body["consent"] != "none" {
		t.Errorf("while pending the check answers %s", c.Raw)
	}

	agent := app.client()
	agent.login(app.user(accounts.RoleCustomerAgent, acme, "agent@acme.test"))
	if p := agent.get("/consent-reversals"); p.Status != 403 && p.Status != 404 {
		t.Errorf("an agent reached the approval page: %d", p.Status)
	}
	admin := app.client()
	admin.login(app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test"))
	p := admin.get("/consent-reversals")
	if p.Status != 200 || !strings.Contains(p.text(`[data-testid="consent-reversals"]`), "rec-0042.wav") {
		t.Fatalf("the admin's page: %d %q", p.Status, p.text("main"))
	}
	if p := admin.post("/consent-reversals/"+reversal, url.Values{"decision": {"approve"}, "note": {"heard the recording"}}); p.Status != 303 {
		t.Fatalf("approve: %d %s", p.Status, p.text("main"))
	}
	if c := api.get(check("+14155550123")); c.Body["suppressed"] != false || c.Body["consent"] != "opted_in" {
		t.Errorf("after approval the check answers %s", c.Raw)
	}
	if p := admin.get("/consent-reversals"); p.text(`[data-testid="reversals-empty"]`) == "" {
		t.Errorf("the approved reversal is still listed")
	}
}
