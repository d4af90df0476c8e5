package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models/modeltest"
	registers "github.com/sendara/console/models/registers"
)

func TestCommunicationsBatchAnswersEachItemWithItsIndexAndField(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	api := app.apiKeyWithScope(t, acme, accounts.ScopeWrite)
	a := api.post("/api/v1/communications", map[string]any{"items": []map[string]any{
		{"to": "+1 (415) 555-0123", "channel": "imessage", "direction": "outbound", "delivery_status": "delivered", "occurred_at": "2026-05-10T12:00:00-07:00"},
		{"to": "not a number", "channel": "imessage", "direction": "outbound", "delivery_status": "sent"},
		{"to": "+14155550123", "channel": "imessage", "direction": "outbound", "delivery_status": "sent", "occurred_at": "yesterday"},
		{"to": "jane@example.com", "channel": "fax", "direction": "outbound", "delivery_status": "sent"},
	}})
	if a.Status != http.StatusOK {
		t.Fatalf("status %d: %s", a.Status, a.Raw)
	}
	results := a.Body["results"].([]any)
	want := []struct{ field, code, to string }{
		{"", "", "+14155550123"},
		{"items[1].to", "invalid_identifier", "not a number"},
		{"items[2].occurred_at", "malformed_request", "+14155550123"},
		{"items[3].channel", "malformed_request", "jane@example.com"},
	}
	for i, w := range want {
		r := results[i].(map[string]any)
		if r["index"] != float64(i) || r["to"] != w.to {
			t.Errorf("result %d: %v", i, r)
		}
		if w.field == "" {
			if r["id"] == nil || r["contact_id"] == nil || r["error"] != nil {
				t.Errorf("result %d was not recorded: %v", i, r)
			}
			continue
		}
		if r["field"] != w.field || r["code"] != w.code || r["error"] == nil || r["id"] != nil {
			t.Errorf("result %d = %v, want an error on %s with code %s", i, r, w.field, w.code)
		}
	}
	if a.Body["recorded"] != float64(1) || a.Body["refused"] != float64(3) {
		t.Errorf("recorded %v refused %v, want 1 and 3", a.Body["recorded"], a.Body["refused"])
	}
	// The recorded item is in the contact's access data now.
	cs, err := app.db.ContactsByIdentifier(context.Background(), modeltest.Staff, acme.ID, "+14155550123", "US")
	if err != nil || len(cs) != 1 {
		t.Fatalf("contact of the recorded message: %v %v", cs, err)
	}
	var n int64
	app.db.Gorm.Model(&consent.Communication{}).Where("customer_id = ? AND contact_id = ?", acme.ID, cs[0].ID).Count(&n)
	if n != 1 {
		t.Errorf("%d records for the contact, want 1", n)
	}
}

func TestCommunicationsBatchRefusesAMalformedBatchAndACheckOnlyKey(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	item := map[string]any{"to": "+14155550123", "channel": "imessage", "direction": "outbound", "delivery_status": "sent"}
	many := make([]map[string]any, 1001)
	for i := range many {
		many[i] = item
	}
	write := app.apiKeyWithScope(t, acme, accounts.ScopeWrite)
	tests := []struct {
		name   string
		key    *apiClient
		body   any
		status int
		code   string
	}{
		{"no items", write, map[string]any{"items": []any{}}, 400, "malformed_request"},
		{"too many items", write, map[string]any{"items": many}, 400, "malformed_request"},
		{"an unknown field", write, map[string]any{"items": []any{item}, "colour": "red"}, 400, "malformed_request"},
		{"a check-only key", app.apiKeyWithScope(t, acme, accounts.ScopeCheck), map[string]any{"items": []any{item}}, 403, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.key.post("/api/v1/communications", tt.body)
			if a.Status != tt.status || a.Body["code"] != tt.code {
				t.Errorf("status %d code %v, want %d %s: %s", a.Status, a.Body["code"], tt.status, tt.code, a.Raw)
			}
		})
	}
	var n int64
	app.db.Gorm.Model(&consent.Communication{}).Count(&n)
	if n != 0 {
		t.Errorf("%d records written by refused calls", n)
	}
}

func TestSentAfterOptOutReportShowsATenantItsOwnExposureOnlyAsPageAndCSV(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	acme, other := app.customer("acme"), app.customer("other")
	optOut := time.Now().Add(-48 * time.Hour).UTC()
	for _, cust := range []*customers.Customer{acme, other} {
		if _, err := app.db.RecordConsent(ctx, modeltest.Staff, cust.ID, consent.ConsentInput{To: "+14155550123", Kind: consent.OptOut,
			Channel: "all", Source: "api", OccurredAt: optOut}, "US"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := app.db.RecordCommunications(ctx, modeltest.Staff, acme.ID, []registers.CommunicationItem{
		{To: "+14155550123", Channel: "imessage", Direction: "outbound", DeliveryStatus: "delivered", OccurredAt: optOut.Add(time.Hour)},
		{To: "+14155550123", Channel: "imessage", Direction: "outbound", DeliveryStatus: "delivered", OccurredAt: optOut.Add(-time.Hour)},
	}, "US"); err != nil {
		t.Fatal(err)
	}
	admin := app.client()
	admin.login(app.user(accounts.RoleCustomerAdmin, other, "admin@other.test"))
	// Another tenant's admin naming acme still sees only its own (empty) report.
	p := admin.get("/communications/sent-after-opt-out?customer=" + acme.ID)
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="sent-after-opt-out"] tbody tr`).Length() != 0 {
		t.Fatalf("other tenant: status %d, rows %d", p.Status, p.Doc.Find(`[data-testid="sent-after-opt-out"] tbody tr`).Length())
	}
	acmeAdmin := app.client()
	acmeAdmin.login(app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test"))
	before := len(app.auditEvents("communication.sent_after_opt_out"))
	p = acmeAdmin.get("/communications/sent-after-opt-out")
	if rows := p.Doc.Find(`[data-testid="sent-after-opt-out"] tbody tr`); rows.Length() != 1 || !strings.Contains(rows.Text(), "+14155550123") {
		t.Fatalf("acme's report: %d row(s): %s", rows.Length(), p.text(`[data-testid="sent-after-summary"]`))
	}
	csvPage := acmeAdmin.get("/communications/sent-after-opt-out.csv")
	recs, err := csv.NewReader(strings.NewReader(csvPage.Body)).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][5] != "+14155550123" || recs[1][10] != "false" {
		t.Fatalf("CSV: %v %q", err, recs)
	}
	if after := len(app.auditEvents("communication.sent_after_opt_out")); after != before+2 {
		t.Errorf("%d report events for a page and a CSV, want 2", after-before)
	}
	agent := app.client()
	agent.login(app.user(accounts.RoleCustomerAgent, acme, "agent@acme.test"))
	if p := agent.get("/communications/sent-after-opt-out"); p.Status != http.StatusForbidden {
		t.Errorf("agent: status %d, want 403", p.Status)
	}
}

// What the pipeline posts is what the person's access bundle lists and
// what their erasure deletes.
func TestPostedCommunicationsAreInTheAccessBundleAndGoneAfterErasure(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	acme := app.customer("acme")
	app.contact(t, acme, "Jane Doe", "+14155550123")
	api := app.apiKeyWithScope(t, acme, accounts.ScopeWrite)
	a := api.post("/api/v1/communications", map[string]any{"items": []map[string]any{
		{"to": "415-555-0123", "channel": "imessage", "direction": "outbound", "delivery_status": "delivered"},
		{"to": "+14155550123", "channel": "facetime", "direction": "inbound", "delivery_status": "answered"},
	}})
	if a.Status != http.StatusOK || a.Body["recorded"] != float64(2) {
		t.Fatalf("record: %d %s", a.Status, a.Raw)
	}
	access := app.instructedRequest(t, calendar.TypeAccess, "+14155550123")
	bundle, err := app.db.ExportBundle(ctx, modeltest.Staff, access.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bundle.Counts["communications"] != 2 {
		t.Errorf("the bundle lists %d communication records, want 2", bundle.Counts["communications"])
	}
	erasure := app.instructedRequest(t, calendar.TypeErasure, "+14155550123")
	res, err := app.db.EraseSubject(ctx, modeltest.Staff, erasure.ID)
	if err != nil {
		t.Fatal(err)
	}
	var left int64
	app.db.Gorm.Model(&consent.Communication{}).Where("customer_id = ?", acme.ID).Count(&left)
	if res.Deleted["communications"] != 2 || left != 0 {
		t.Errorf("erasure deleted %d communication records, %d left", res.Deleted["communications"], left)
	}
}
