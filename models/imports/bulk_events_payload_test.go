package imports

import (
	"encoding/json"
	"testing"
	"time"

	consent "github.com/sendara/console/models/consent"

	hooks "github.com/sendara/console/models/hooks"
)

// TestBulkOptedOutPayloadBytes: the set-based path's event body is
// byte for byte the map newWebhookEvent marshals (keys in order, the same
// escaping), so a receiver cannot tell a bulk opt-out's event from a
// single one's.
func TestBulkOptedOutPayloadBytes(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 123000, time.UTC).Format(time.RFC3339Nano)
	tests := []struct {
		name   string
		crm    string
		values []string
	}{
		{"a new contact", "", []string{"+14155550123"}},
		{"a known contact, characters json escapes", `hs-<42>&"x"`, []string{"a&b@example.org", "+14155550123"}},
		{"no identifiers left", "crm-1", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := map[string]any{"contact_id": "c-1", "crm_id": tt.crm, "identifiers": tt.values, "channel": consent.ChannelAll,
				"source": "csv_import", "occurred_at": at, "consent_event_id": "e-1", "reason": consent.ReasonOptOut}
			want, err := json.Marshal(map[string]any{"type": hooks.EventOptedOut, "timestamp": at, "data": data})
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(optedOutBody{Type: hooks.EventOptedOut, Timestamp: at, Data: optedOutData{Channel: consent.ChannelAll,
				ConsentEventID: "e-1", ContactID: "c-1", CRMID: tt.crm, Identifiers: tt.values, OccurredAt: at,
				Reason: consent.ReasonOptOut, Source: "csv_import"}})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("payload\n got %s\nwant %s", got, want)
			}
		})
	}
}
