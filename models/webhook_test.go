package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	errs "github.com/sendara/console/models/errs"

	hooks "github.com/sendara/console/models/hooks"

	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestCheckWebhookURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url      string
		loopback bool
		want     string // "" when refused
	}{
		{"https://crm.example.com/hooks/sendara", false, "https://crm.example.com/hooks/sendara"},
		{"  https://crm.example.com/h?x=1 ", false, "https://crm.example.com/h?x=1"},
		{"http://crm.example.com/hook", false, ""},
		{"http://crm.example.com/hook", true, ""},
		{"http://127.0.0.1:8081/hook", false, ""},
		{"http://127.0.0.1:8081/hook", true, "http://127.0.0.1:8081/hook"},
		{"http://localhost/hook", true, "http://localhost/hook"},
		{"http://[::1]:9/hook", true, "http://[::1]:9/hook"},
		{"https://user:pass@crm.example.com/", false, ""},
		{"https://crm.example.com/#frag", false, ""},
		{"ftp://crm.example.com/", false, ""},
		{"crm.example.com/hook", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		got, err := hooks.CheckWebhookURL(tt.url, tt.loopback)
		if tt.want == "" {
			if v, ok := errs.AsValidation(err); !ok || v.Field != "url" {
				t.Errorf("%q (loopback %v): %q, %v; want a url error", tt.url, tt.loopback, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q (loopback %v) = %q, %v; want %q", tt.url, tt.loopback, got, err, tt.want)
		}
	}
}

func TestWebhookRetryDelayDoublesUpToItsMax(t *testing.T) {
	t.Parallel()
	r := hooks.DefaultWebhookRetry
	tests := []struct {
		attempt int
		want    time.Duration
	}{{1, 30 * time.Second}, {2, time.Minute}, {3, 2 * time.Minute}, {10, 256 * time.Minute}, {11, 6 * time.Hour}, {40, 6 * time.Hour}}
	for _, tt := range tests {
		if got := r.Delay(tt.attempt); got != tt.want {
			t.Errorf("Delay(%d) = %v, want %v", tt.attempt, got, tt.want)
		}
	}
	// The schedule fills the three-day window with a bounded number of tries.
	var total time.Duration
	n := 0
	for ; total < r.Window; n++ {
		total += r.Delay(n + 1)
	}
	if n < 10 || n > 30 {
		t.Errorf("%d attempts in three days", n)
	}
}

func allEvents(t *testing.T, db *models.DB) []hooks.WebhookEvent {
	t.Helper()
	var evs []hooks.WebhookEvent
	if err := db.Gorm.Order("seq").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	return evs
}

func eventTypes(evs []hooks.WebhookEvent) string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return strings.Join(out, " ")
}

func TestEachChangeEmitsItsEventAndErasureLeavesNoIdentifierInThem(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	e, err := db.CreateWebhookEndpoint(ctx, modeltest.Staff, acme.ID, hooks.WebhookInput{URL: "https://crm.example.com/h",
		Enabled: true, EventTypes: hooks.WebhookEventTypes})
	if err != nil {
		t.Fatal(err)
	}
	subject(t, db, acme)
	if _, err := db.RecordInbound(ctx, modeltest.Staff, acme.ID, janePhone, "I can't stop laughing", time.Now(), "US",
		calendar.Business{Loc: time.UTC, Calendar: calendar.DefaultCalendar()}); err != nil {
		t.Fatal(err)
	}
	r := instructed(t, db, calendar.TypeErasure, []string{janePhone})
	want := "consent.opted_out consent.opted_in consent.opted_out reply.needs_review request.routed request.answered"
	if got := eventTypes(allEvents(t, db)); got != want {
		t.Fatalf("events before erasure:\n %s\nwant\n %s", got, want)
	}
	if _, err := db.EraseSubject(ctx, modeltest.Staff, r.ID); err != nil {
		t.Fatal(err)
	}
	evs := allEvents(t, db)
	if got := eventTypes(evs); got != "request.routed request.answered contact.erased" {
		t.Fatalf("events after erasure: %s", got)
	}
	for _, ev := range evs {
		if strings.Contains(ev.Payload, janePhone) || strings.Contains(ev.Payload, janeEmail) {
			t.Errorf("%s still names Jane: %s", ev.Type, ev.Payload)
		}
	}
	if !strings.Contains(evs[2].Payload, `"crm_id":"crm-42"`) {
		t.Errorf("contact.erased does not name the CRM record: %s", evs[2].Payload)
	}
	log, err := db.WebhookLog(ctx, modeltest.Staff, e.ID, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 {
		t.Errorf("%d deliveries after erasure, want the 3 events left", len(log))
	}
}

func TestAnEventIsWrittenOnlyWithTheChangeThatCausedIt(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	if _, err := db.CreateWebhookEndpoint(ctx, modeltest.Staff, acme.ID, hooks.WebhookInput{URL: "https://crm.example.com/h",
		Enabled: true, EventTypes: []string{hooks.EventOptedOut}}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("a later step of the same change failed")
	err := db.Tx(ctx, modeltest.Staff, func(tx *store.Tx) error {
		if _, err := consent.RecordConsent(tx, acme.ID, store.Identifier{Kind: store.KindPhone, Value: janePhone},
			consent.ConsentInput{Kind: consent.OptOut, Source: "api"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if evs := allEvents(t, db); len(evs) != 0 {
		t.Fatalf("a rolled-back opt-out left events: %s", eventTypes(evs))
	}
	var n int64
	if err := db.Gorm.Model(&hooks.WebhookDelivery{}).Count(&n).Error; err != nil || n != 0 {
		t.Fatalf("deliveries: %d, %v", n, err)
	}
}

// feedTypes reads the whole feed from after, a page of two at a time.
func feed(t *testing.T, db *models.DB, customerID, after string) ([]string, string) {
	t.Helper()
	var got []string
	for range 20 {
		page, err := db.EventsFeed(context.Background(), modeltest.Staff, customerID, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			got = append(got, e.ID)
		}
		after = page.Next
		if !page.HasMore {
			return got, after
		}
	}
	t.Fatal("the feed never ended")
	return nil, ""
}

func TestTheFeedNeverHandsOutAnEventBehindACursorAlreadyGiven(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	if db.Dialect != store.Postgres {
		t.Skip("SQLite has one writer: a transaction cannot commit while another holds an earlier id")
	}
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	record := func(tx *store.Tx, phone string) {
		if _, err := consent.RecordConsent(tx, acme.ID, store.Identifier{Kind: store.KindPhone, Value: phone},
			consent.ConsentInput{Kind: consent.OptOut, Source: "api"}); err != nil {
			t.Error(err)
		}
	}
	// The slow transaction writes its event first, then waits.
	written, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.Tx(ctx, modeltest.Staff, func(tx *store.Tx) error {
			record(tx, "+14155550101")
			close(written)
			<-release
			return nil
		})
	}()
	<-written
	if err := db.Tx(ctx, modeltest.Staff, func(tx *store.Tx) error { record(tx, "+14155550102"); return nil }); err != nil {
		t.Fatal(err)
	}
	early, cursor := feed(t, db, acme.ID, "")
	if len(early) != 0 {
		t.Fatalf("while an earlier writer runs, the feed gave %v", early)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, _ := feed(t, db, acme.ID, cursor)
	evs := allEvents(t, db)
	if len(got) != 2 || got[0] != evs[0].ID || got[1] != evs[1].ID {
		t.Fatalf("after both committed the feed gave %v, want both events in write order", got)
	}
}
