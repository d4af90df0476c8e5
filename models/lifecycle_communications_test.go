package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	errs "github.com/sendara/console/models/errs"

	registers "github.com/sendara/console/models/registers"

	"context"
	"testing"
	"time"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestRecordCommunicationsAnswersEachItemOnItsOwn(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	at := time.Now().Add(-time.Hour).UTC()
	items := []registers.CommunicationItem{
		{To: "+1 (415) 555-0101", Channel: "imessage", Direction: "outbound", DeliveryStatus: "delivered", OccurredAt: at},
		{To: "not a number", Channel: "imessage", Direction: "outbound", DeliveryStatus: "sent"},
		{To: "Jane.Doe@Example.COM", Channel: "sms", Direction: "outbound", DeliveryStatus: "sent"},
		{To: "415.555.0101", Channel: "facetime", Direction: "inbound", DeliveryStatus: "answered"},
		{To: "+14155550102", Channel: "imessage", Direction: "sideways", DeliveryStatus: "sent"},
		{To: "+14155550102", Channel: "imessage", Direction: "outbound", DeliveryStatus: "bounced"},
		{To: "+14155550102", Channel: "imessage", Direction: "outbound", DeliveryStatus: "sent", OccurredAt: time.Now().Add(48 * time.Hour)},
	}
	res, err := db.RecordCommunications(context.Background(), modeltest.Staff, acme.ID, items, "US")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		i         int
		wantField string // "" : recorded
		wantTo    string
	}{
		{0, "", "+14155550101"},
		{1, "items[1].to", "not a number"},
		{2, "items[2].channel", "Jane.Doe@Example.COM"},
		{3, "", "+14155550101"},
		{4, "items[4].direction", "+14155550102"},
		{5, "items[5].delivery_status", "+14155550102"},
		{6, "items[6].occurred_at", "+14155550102"},
	}
	for _, tt := range tests {
		r := res[tt.i]
		switch {
		case tt.wantField == "" && (r.Err != nil || r.ID == ""):
			t.Errorf("item %d refused: %v", tt.i, r.Err)
		case tt.wantField != "" && (r.Err == nil || r.Err.Field != tt.wantField):
			t.Errorf("item %d: error %v, want one on %s", tt.i, r.Err, tt.wantField)
		case r.To != tt.wantTo:
			t.Errorf("item %d answers to %q, want %q", tt.i, r.To, tt.wantTo)
		}
	}
	if res[0].ContactID == "" || res[0].ContactID != res[3].ContactID {
		t.Errorf("two spellings of one number made contacts %q and %q, want one", res[0].ContactID, res[3].ContactID)
	}
	var n int64
	db.Gorm.Model(&consent.Communication{}).Where("customer_id = ?", acme.ID).Count(&n)
	if n != 2 {
		t.Errorf("%d communication records stored, want 2", n)
	}
	ev := auditEvents(t, db, "communication.record")
	if len(ev) != 1 {
		t.Fatalf("%d communication.record events, want 1", len(ev))
	}
}

func TestRecordCommunicationsRefusesAnEmptyOrOversizedBatch(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	for _, n := range []int{0, registers.MaxCommunicationBatch + 1} {
		_, err := db.RecordCommunications(context.Background(), modeltest.Staff, acme.ID, make([]registers.CommunicationItem, n), "US")
		if v, ok := errs.AsValidation(err); !ok || v.Field != "items" {
			t.Errorf("%d items: %v, want a validation error on items", n, err)
		}
	}
}

func TestRecordCommunicationsStaysInItsTenant(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme, other := newCustomer(t, db, "acme"), newCustomer(t, db, "other")
	agent := store.CustomerUser("u", "a@acme.test", acme.ID, "")
	_, err := db.RecordCommunications(context.Background(), agent, other.ID,
		[]registers.CommunicationItem{{To: "+14155550101", Channel: "imessage", Direction: "outbound", DeliveryStatus: "sent"}}, "US")
	if err != store.ErrNotFound {
		t.Errorf("recording for another tenant: %v, want ErrNotFound", err)
	}
}

func TestSentAfterOptOutListsWhatWentOutWhileSuppressed(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := newCustomer(t, db, "acme")
	biz := calendar.DefaultBusiness()
	// Monday 2 March 2026, 10:00 in Los Angeles.
	optOut := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	record := func(to, kind, channel string, at time.Time, evidence string) {
		t.Helper()
		if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: to, Kind: kind, Channel: channel,
			Source: "api", Evidence: evidence, OccurredAt: at}, "US"); err != nil {
			t.Fatal(err)
		}
	}
	record("+14155550101", consent.OptOut, "imessage", optOut, "")
	record("+14155550102", consent.OptOut, "all", optOut, "")
	record("+14155550102", consent.OptIn, "all", optOut.Add(72*time.Hour), "signed form 7")
	send := func(to, channel, dir string, at time.Time) {
		t.Helper()
		res, err := db.RecordCommunications(ctx, modeltest.Staff, acme.ID, []registers.CommunicationItem{{To: to, Channel: channel,
			Direction: dir, DeliveryStatus: "delivered", OccurredAt: at}}, "US")
		if err != nil || res[0].Err != nil {
			t.Fatalf("record: %v %v", err, res[0].Err)
		}
	}
	tests := []struct {
		name     string
		to       string
		channel  string
		dir      string
		at       time.Time
		listed   bool
		wantLate bool
	}{
		{"before the opt-out", "+14155550101", "imessage", "outbound", optOut.Add(-time.Hour), false, false},
		{"on the opted-out channel, next day", "+14155550101", "imessage", "outbound", optOut.Add(24 * time.Hour), true, false},
		{"on another channel", "+14155550101", "facetime", "outbound", optOut.Add(24 * time.Hour), false, false},
		{"an inbound reply", "+14155550101", "imessage", "inbound", optOut.Add(25 * time.Hour), false, false},
		{"three weeks after (past 10 business days)", "+14155550101", "imessage", "outbound", optOut.Add(21 * 24 * time.Hour), true, true},
		{"between an opt-out of all and the opt-in", "+14155550102", "facetime", "outbound", optOut.Add(24 * time.Hour), true, false},
		{"after the opt-in with evidence", "+14155550102", "facetime", "outbound", optOut.Add(96 * time.Hour), false, false},
	}
	for _, tt := range tests {
		send(tt.to, tt.channel, tt.dir, tt.at)
	}
	rep, err := db.SentAfterOptOutFor(ctx, modeltest.Staff, acme.ID, calendar.Date{Year: 2026, Month: 1, Day: 1}, calendar.Date{Year: 2026, Month: 12, Day: 31}, biz)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var found *registers.SentAfterOptOut
			for i, r := range rep.Rows {
				if r.Identifiers[0] == tt.to && r.Channel == tt.channel && r.OccurredAt.Equal(tt.at) {
					found = &rep.Rows[i]
				}
			}
			if (found != nil) != tt.listed {
				t.Fatalf("listed %v, want %v", found != nil, tt.listed)
			}
			if found != nil && found.Late != tt.wantLate {
				t.Errorf("late %v, want %v (honour by %s)", found.Late, tt.wantLate, found.HonourBy)
			}
			if found != nil && !found.OptOutAt.Equal(optOut) {
				t.Errorf("suppressed since %s, want %s", found.OptOutAt, optOut)
			}
		})
	}
	if rep.Late != 1 {
		t.Errorf("%d late, want 1", rep.Late)
	}
	// Monday 2 March + 10 business days is Monday 16 March.
	if got := rep.Rows[0].HonourBy.String(); got != "2026-03-16" {
		t.Errorf("honour by %s, want 2026-03-16", got)
	}
	other := newCustomer(t, db, "other")
	if _, err := db.SentAfterOptOutFor(ctx, store.CustomerUser("u", "a@other.test", other.ID, ""), acme.ID,
		calendar.Date{Year: 2026, Month: 1, Day: 1}, calendar.Date{Year: 2026, Month: 12, Day: 31}, biz); err != store.ErrNotFound {
		t.Errorf("another tenant's report: %v, want ErrNotFound", err)
	}
}
