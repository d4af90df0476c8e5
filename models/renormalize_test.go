package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	requests "github.com/sendara/console/models/requests"

	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

const jorgCanonical = "jörg@xn--bcher-kva.example"

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// legacyContact stores a contact the way an older console did, which only
// lower-cased addresses: value is kept as given, and the ledger events and
// states are written as they stood.
func legacyContact(t *testing.T, db *models.DB, customerID, name string, created time.Time, values []string, events ...consent.ConsentEvent) string {
	t.Helper()
	g := db.Gorm
	id := uuid.Must(uuid.NewV7()).String()
	if err := g.Create(&consent.Contact{CustomerID: customerID, ID: id, Name: name, NameKey: strings.ToLower(name), CreatedAt: created, UpdatedAt: created}).Error; err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		kind := store.KindEmail
		if strings.HasPrefix(v, "+") {
			kind = store.KindPhone
		}
		if err := g.Create(&consent.ContactIdentifier{CustomerID: customerID, Value: v, Kind: kind, ContactID: id, CreatedAt: created}).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range events {
		e.CustomerID, e.ContactID, e.ID = customerID, id, uuid.Must(uuid.NewV7()).String()
		e.Channel, e.Source, e.ActorType, e.RecordedAt = consent.ChannelAll, "manual", store.ActorSystem, e.OccurredAt
		if err := g.Create(&e).Error; err != nil {
			t.Fatal(err)
		}
		for _, ch := range consent.Channels {
			s := consent.ConsentState{CustomerID: customerID, ContactID: id, Channel: ch, Suppressed: e.Kind == consent.OptOut, Reason: e.Reason, Since: e.OccurredAt, EventID: e.ID}
			if err := g.Save(&s).Error; err != nil {
				t.Fatal(err)
			}
		}
		if e.Kind == consent.OptOut {
			g.Model(&consent.Contact{}).Where("id = ?", id).Update("suppressed", true)
		}
	}
	return id
}

func TestRenormalizingMergesSpellingsOfOneAddressAndKeepsEveryOptOut(t *testing.T) {
	t.Parallel()
	db := modeltest.OpenWithoutIndex(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	other := mustCustomer(t, db, "other")
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	// One person, stored twice: composed with a Unicode domain (opted out),
	// then decomposed with the ASCII domain and a phone (opted in later).
	first := legacyContact(t, db, acme.ID, "Jörg", t0, []string{"jörg@bücher.example"},
		consent.ConsentEvent{Kind: consent.OptOut, Reason: consent.ReasonOptOut, OccurredAt: t0.Add(time.Hour), Evidence: "STOP"})
	second := legacyContact(t, db, acme.ID, "", t0.Add(24*time.Hour), []string{"jo\u0308rg@xn--bcher-kva.example", "+14155550123"},
		consent.ConsentEvent{Kind: consent.OptIn, OccurredAt: t0.Add(48 * time.Hour), Evidence: "web form"})
	// Another spelling that is alone stays one contact, rewritten.
	alone := legacyContact(t, db, acme.ID, "Ann", t0, []string{"ann@ｅｘａｍｐｌｅ.com"})
	// The same address at another customer is another customer's person.
	elsewhere := legacyContact(t, db, other.ID, "Jörg", t0, []string{"JÖRG@bücher.example"})

	if err := db.ForgetEmailNormalization(ctx); err != nil {
		t.Fatal(err)
	}
	if err := consent.RenormalizeEmails(ctx, db.ConsentStore, quietLog); err != nil {
		t.Fatalf("RenormalizeEmails: %v", err)
	}

	merged, err := db.Contact(ctx, modeltest.Staff, first)
	if err != nil {
		t.Fatalf("the older contact should survive: %v", err)
	}
	if got := merged.Values(); !slices.Equal(sorted(got), []string{"+14155550123", jorgCanonical}) {
		t.Errorf("merged identifiers = %q", got)
	}
	if _, err := db.Contact(ctx, modeltest.Staff, second); err == nil {
		t.Error("the newer contact still exists after the merge")
	}
	var events []consent.ConsentEvent
	db.Gorm.Where("customer_id = ? AND contact_id = ?", acme.ID, first).Order("occurred_at").Find(&events)
	if len(events) != 3 || events[0].Evidence != "STOP" || events[1].Evidence != "web form" || events[2].Kind != consent.OptOut || events[2].Channel != consent.ChannelAll {
		t.Errorf("merged ledger = %+v, want both contacts' events and an opt-out kept through the merge", events)
	}
	for _, to := range []string{jorgCanonical} {
		for _, ch := range consent.Channels {
			s, err := db.CheckSuppression(ctx, acme.ID, store.Identifier{Kind: store.KindEmail, Value: to}, ch)
			if err != nil || !s.Suppressed || s.Reason != consent.ReasonOptOut {
				t.Errorf("check %s on %s after the merge: %+v, %v; want opted out", to, ch, s, err)
			}
		}
	}
	if s, _ := db.CheckSuppression(ctx, acme.ID, store.Identifier{Kind: store.KindPhone, Value: "+14155550123"}, ""); !s.Suppressed {
		t.Error("the merged person's phone is not suppressed")
	}
	if a, err := db.Contact(ctx, modeltest.Staff, alone); err != nil || !slices.Equal(a.Values(), []string{"ann@example.com"}) {
		t.Errorf("a lone spelling: %+v, %v; want rewritten to ann@example.com", a, err)
	}
	if e, err := db.Contact(ctx, modeltest.Staff, elsewhere); err != nil || !slices.Equal(e.Values(), []string{jorgCanonical}) {
		t.Errorf("the other customer's contact: %+v, %v; want its own, rewritten", e, err)
	}
	var audits []store.AuditEvent
	db.Gorm.Where("action = ?", "contact.merge").Find(&audits)
	if len(audits) != 1 || audits[0].ObjectID != first || !strings.Contains(audits[0].Details, second) || audits[0].CustomerID != acme.ID {
		t.Errorf("merge audit = %+v, want one contact.merge naming both contacts", audits)
	}

	// It runs once: a second call changes nothing.
	var before, after int64
	db.Gorm.Model(&store.AuditEvent{}).Count(&before)
	if err := consent.RenormalizeEmails(ctx, db.ConsentStore, quietLog); err != nil {
		t.Fatal(err)
	}
	db.Gorm.Model(&store.AuditEvent{}).Count(&after)
	if after != before {
		t.Errorf("a second run wrote %d audit entries", after-before)
	}
}

func TestAnErasedPersonStoredUnderAnOldSpellingStaysSuppressed(t *testing.T) {
	t.Parallel()
	db := modeltest.OpenWithoutIndex(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	// Erased by an older console, which hashed the composed spelling with
	// the Unicode domain, as typed.
	hash, err := db.ErasedHash(ctx, acme.ID, "jörg@bücher.example")
	if err != nil {
		t.Fatal(err)
	}
	r := newRequest(t, db, requests.RequestInput{Type: calendar.TypeErasure, Regime: "gdpr", Identifiers: []string{"jörg@bücher.example"}, Requester: requests.Requester{Email: "jorg@example.com"}})
	if err := db.Gorm.Create(&consent.ErasedIdentifier{CustomerID: acme.ID, Hash: hash, Reason: consent.ReasonErasure, Since: time.Now().UTC(), RequestID: r.ID}).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := db.LoadSuppressionIndex(ctx); err != nil {
		t.Fatal(err)
	}
	for _, spelling := range []string{"jo\u0308rg@bu\u0308cher.example", "jörg@xn--bcher-kva.example", "JÖRG@BÜCHER.EXAMPLE"} {
		id, err := store.NormalizeIdentifier("to", spelling, "US")
		if err != nil {
			t.Fatal(err)
		}
		for name, check := range map[string]func() (consent.Suppression, error){
			"through the index": func() (consent.Suppression, error) { return db.CheckSuppression(ctx, acme.ID, id, "") },
			"in the database":   func() (consent.Suppression, error) { return db.CheckSuppressionInDB(ctx, acme.ID, id, "") },
		} {
			if s, err := check(); err != nil || !s.Suppressed || s.Reason != consent.ReasonErasure {
				t.Errorf("check %+q %s: %+v, %v; want suppressed for erasure", spelling, name, s, err)
			}
		}
	}
	// The CRM syncs the person back in under the decomposed spelling.
	again, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"jo\u0308rg@bu\u0308cher.example"}}, "US")
	if err != nil || !again.Suppressed {
		t.Errorf("re-created under another spelling: %+v, %v; want suppressed at once", again, err)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
