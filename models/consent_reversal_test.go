package models_test

import (
	accounts "github.com/sendara/console/models/accounts"
	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	"context"
	"testing"
	"time"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// reversalOptIn is an opt-in of to by actor with structured evidence (or
// only free text, when structured is false).
func reversalOptIn(db *models.DB, actor store.Actor, c *customers.Customer, to, source string, structured bool) (*consent.ConsentResult, error) {
	in := consent.ConsentInput{To: to, Kind: consent.OptIn, Source: source, Evidence: "said yes on the phone"}
	if structured {
		in.EvidenceKind, in.EvidenceRef, in.CapturedBy = "call_recording", "calls/2026-12-05/0042.wav", "Agent Alex"
	}
	return db.RecordConsent(context.Background(), actor, c.ID, in, "US")
}

// TestReversingAPersonsOwnOptOutNeedsEvidenceAndAnAdmin: after a person's
// own opt-out (a keyword reply), an agent's or an API key's opt-in is kept
// pending and the person stays opted out until a customer admin approves
// it; a denial leaves them opted out; an admin recording it directly
// still needs structured evidence; the person's own START and the
// reversal of an opt-out that did not come from the person apply at once.
func TestReversingAPersonsOwnOptOutNeedsEvidenceAndAnAdmin(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := newCustomer(t, db, "acme")
	adminUser := newUser(t, db, "admin@acme.example", accounts.RoleCustomerAdmin, acme.ID, "")
	agentUser := newUser(t, db, "agent@acme.example", accounts.RoleCustomerAgent, acme.ID, "")
	admin := store.CustomerUser(adminUser.ID, adminUser.Email, acme.ID, testIP)
	agent := store.CustomerUser(agentUser.ID, agentUser.Email, acme.ID, testIP)
	key := store.CustomerKey("key-1", "crm sync", acme.ID, testIP)
	replies := store.SystemProcess("inbound", "inbound replies")
	past := time.Now().Add(-time.Hour)
	for _, to := range []string{"+14155550201", "+14155550202", "+14155550203", "+14155550204"} {
		if _, err := db.RecordConsent(ctx, replies, acme.ID, consent.ConsentInput{To: to, Kind: consent.OptOut, Source: "inbound_reply",
			Evidence: "replied STOP", OccurredAt: past}, "US"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: "+14155550205", Kind: consent.OptOut, Source: "crm",
		OccurredAt: past}, "US"); err != nil {
		t.Fatal(err)
	}

	// An agent without structured evidence is refused outright.
	if _, err := reversalOptIn(db, agent, acme, "+14155550201", "manual", false); !isInvalid(err, "evidence_kind") {
		t.Fatalf("agent without structured evidence: %v, want 400 on evidence_kind", err)
	}
	// With it, the opt-in waits for an admin; the person stays opted out.
	res, err := reversalOptIn(db, agent, acme, "+14155550201", "manual", true)
	if err != nil || res.Pending == nil || res.Changed {
		t.Fatalf("agent's reversal: %+v, %v; want pending", res, err)
	}
	if got := optInCheck(t, db, acme, "+14155550201"); got != "opted_out" {
		t.Errorf("while pending the check says %s, want opted_out", got)
	}
	// An API key's too.
	keyRes, err := reversalOptIn(db, key, acme, "+14155550202", "api", true)
	if err != nil || keyRes.Pending == nil {
		t.Fatalf("API key's reversal: %+v, %v; want pending", keyRes, err)
	}
	if got := optInCheck(t, db, acme, "+14155550202"); got != "opted_out" {
		t.Errorf("while pending the check says %s, want opted_out", got)
	}
	if n := len(auditEvents(t, db, "consent.reversal_request")); n != 2 {
		t.Errorf("%d consent.reversal_request entries, want 2", n)
	}
	// The agent cannot decide; the admin sees both and decides.
	if _, err := db.DecideConsentReversal(ctx, agent, res.Pending.ID, true, ""); err == nil {
		t.Error("an agent approved a reversal")
	}
	pending, err := db.ConsentReversals(ctx, admin, acme.ID, consent.ReversalPending)
	if err != nil || len(pending) != 2 || pending[0].ID != res.Pending.ID || pending[0].EvidenceRef != "calls/2026-12-05/0042.wav" ||
		pending[0].RequestedByLabel != agentUser.Email || pending[0].OptOutSource != "inbound_reply" {
		t.Fatalf("pending reversals = %+v, %v", pending, err)
	}
	if _, err := db.DecideConsentReversal(ctx, admin, res.Pending.ID, true, "recording checked"); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if got := optInCheck(t, db, acme, "+14155550201"); got != "opted_in" {
		t.Errorf("after approval the check says %s, want opted_in", got)
	}
	var ev consent.ConsentEvent
	if err := db.Gorm.Where("customer_id = ? AND kind = ? AND evidence_ref = ?", acme.ID, consent.OptIn, "calls/2026-12-05/0042.wav").
		Order("recorded_at").First(&ev).Error; err != nil || ev.ActorID != adminUser.ID || ev.EvidenceKind != "call_recording" {
		t.Errorf("approved ledger event = %+v, %v; want the admin's, with the evidence", ev, err)
	}
	if _, err := db.DecideConsentReversal(ctx, admin, res.Pending.ID, false, ""); err == nil {
		t.Error("a decided reversal was decided again")
	}
	if _, err := db.DecideConsentReversal(ctx, admin, keyRes.Pending.ID, false, "no proof on file"); err != nil {
		t.Fatalf("deny: %v", err)
	}
	if got := optInCheck(t, db, acme, "+14155550202"); got != "opted_out" {
		t.Errorf("after a denial the check says %s, want opted_out", got)
	}
	if n, m := len(auditEvents(t, db, "consent.reversal_approve")), len(auditEvents(t, db, "consent.reversal_deny")); n != 1 || m != 1 {
		t.Errorf("approve/deny audit entries: %d, %d; want 1 and 1", n, m)
	}
	// An admin directly: structured evidence still required, then applied at once.
	if _, err := reversalOptIn(db, admin, acme, "+14155550203", "manual", false); !isInvalid(err, "evidence_kind") {
		t.Errorf("admin without structured evidence: %v, want 400 on evidence_kind", err)
	}
	if r, err := reversalOptIn(db, admin, acme, "+14155550203", "manual", true); err != nil || r.Pending != nil || !r.Changed {
		t.Errorf("admin with evidence: %+v, %v; want applied", r, err)
	}
	// The person's own START, through the API key, needs nobody.
	if r, err := reversalOptIn(db, key, acme, "+14155550204", "inbound_reply", false); err != nil || r.Pending != nil || !r.Changed {
		t.Errorf("the person's own opt-in: %+v, %v; want applied", r, err)
	}
	// An opt-out that did not come from the person (the CRM's) is not theirs to protect.
	if r, err := reversalOptIn(db, agent, acme, "+14155550205", "manual", false); err != nil || r.Pending != nil || !r.Changed {
		t.Errorf("agent reversing a CRM opt-out: %+v, %v; want applied", r, err)
	}
	for to, want := range map[string]string{"+14155550203": "opted_in", "+14155550204": "opted_in", "+14155550205": "opted_in"} {
		if got := optInCheck(t, db, acme, to); got != want {
			t.Errorf("%s: %s, want %s", to, got, want)
		}
	}
}

func isInvalid(err error, field string) bool {
	v, ok := errs.AsValidation(err)
	return ok && v.Field == field
}
