package models_test

import (
	imports "github.com/sendara/console/models/imports"

	consent "github.com/sendara/console/models/consent"

	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/sendara/console/models"
	customers "github.com/sendara/console/models/customers"

	hooks "github.com/sendara/console/models/hooks"
	"github.com/sendara/console/models/modeltest"
)

// bulkFeed is the customer's changes feed as (type, data) pairs.
func bulkFeed(t *testing.T, db *models.DB, c *customers.Customer) []map[string]any {
	t.Helper()
	page, err := db.EventsFeed(context.Background(), modeltest.Staff, c.ID, "", 500)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, ev := range page.Events {
		var body struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(ev.Payload), &body); err != nil {
			t.Fatal(err)
		}
		body.Data["type"] = body.Type
		out = append(out, body.Data)
	}
	return out
}

// TestBulkOptOutsEmitOptedOutEvents: each opt-out a CSV batch appends is a
// consent.opted_out event in the feed and a delivery to every endpoint
// that wants it, with the payload a single opt-out's event has; rows that
// change nothing emit nothing. SQLite runs the Go path, PostgreSQL the
// set-based one.
func TestBulkOptOutsEmitOptedOutEvents(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	c, err := db.CreateCustomer(ctx, modeltest.Staff, customers.CustomerInput{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	for _, types := range [][]string{{hooks.EventOptedOut}, {hooks.EventOptedIn}} {
		if _, err := db.CreateWebhookEndpoint(ctx, modeltest.Staff, c.ID, hooks.WebhookInput{URL: "https://crm.example.com/hooks",
			Enabled: true, EventTypes: types}); err != nil {
			t.Fatal(err)
		}
	}
	known, err := db.CreateContact(ctx, modeltest.Staff, c.ID, consent.ContactInput{Identifiers: []string{bulkP1, bulkE1}, CRMID: "hs-42"}, "US")
	if err != nil {
		t.Fatal(err)
	}
	bulkRecord(t, db, c, bulkP3, consent.OptOut, 1) // already opted out: its row changes nothing
	single := bulkFeed(t, db, c)
	if len(single) != 1 {
		t.Fatalf("feed before the import: %v", single)
	}
	res := runBulk(t, db, c, []imports.BulkOptOut{
		bulkRow(bulkP1, "all", "k1", 2),
		bulkRow(bulkP2, "imessage", "k2", 3),
		bulkRow(bulkP2, "imessage", "k3", 4), // covered by k2
		bulkRow(bulkP3, "all", "k4", 5),
	})
	if res.Applied != 2 || res.Unchanged != 2 {
		t.Fatalf("result = %+v, want 2 applied, 2 unchanged", res)
	}
	feed := bulkFeed(t, db, c)
	if len(feed) != 3 {
		t.Fatalf("feed after the import has %d events, want 3: %v", len(feed), feed)
	}
	// The same fields as a single opt-out's event.
	if a, b := slices.Sorted(maps.Keys(single[0])), slices.Sorted(maps.Keys(feed[1])); !slices.Equal(a, b) {
		t.Errorf("an imported opt-out's event has fields %v, a single one's %v", b, a)
	}
	p1, p2 := feed[1], feed[2]
	if p1["type"] != hooks.EventOptedOut || p1["contact_id"] != known.ID || p1["crm_id"] != "hs-42" || p1["channel"] != "all" ||
		p1["source"] != "csv_import" || p1["reason"] != "opt_out" || p1["occurred_at"] != bulkAt(2).Format("2006-01-02T15:04:05Z07:00") {
		t.Errorf("first imported event = %v", p1)
	}
	if ids, _ := p1["identifiers"].([]any); len(ids) != 2 || ids[0] != bulkP1 || ids[1] != bulkE1 {
		t.Errorf("first imported event's identifiers = %v, want [%s %s]", p1["identifiers"], bulkP1, bulkE1)
	}
	if ids, _ := p2["identifiers"].([]any); p2["type"] != hooks.EventOptedOut || p2["channel"] != "imessage" || len(ids) != 1 || ids[0] != bulkP2 {
		t.Errorf("second imported event = %v", p2)
	}
	// Each event's consent_event_id is the ledger's event.
	for _, ev := range feed[1:] {
		var n int64
		if err := db.Gorm.Model(&consent.ConsentEvent{}).Where("customer_id = ? AND id = ? AND kind = ?", c.ID, ev["consent_event_id"], consent.OptOut).
			Count(&n).Error; err != nil || n != 1 {
			t.Errorf("consent_event_id %v names %d ledger events (%v)", ev["consent_event_id"], n, err)
		}
	}
	// One delivery per event to the endpoint that wants opt-outs, none to the other.
	var deliveries []struct {
		Types string
		N     int
	}
	if err := db.Gorm.Raw(`SELECT e.event_types AS types, count(d.id) AS n FROM webhook_endpoints e
		LEFT JOIN webhook_deliveries d ON d.endpoint_id = e.id WHERE e.customer_id = ? GROUP BY e.event_types ORDER BY e.event_types`, c.ID).
		Scan(&deliveries).Error; err != nil {
		t.Fatal(err)
	}
	if len(deliveries) != 2 || deliveries[0].Types != hooks.EventOptedIn || deliveries[0].N != 0 || deliveries[1].N != 3 {
		t.Errorf("deliveries per endpoint = %+v, want none for opt-ins and 3 for opt-outs", deliveries)
	}
	// A re-run of the same rows changes nothing and emits nothing.
	runBulk(t, db, c, []imports.BulkOptOut{bulkRow(bulkP1, "all", "k1", 2), bulkRow(bulkP2, "imessage", "k2", 3)})
	if got := bulkFeed(t, db, c); len(got) != 3 {
		t.Errorf("a re-run added events: %d in the feed", len(got))
	}
}
