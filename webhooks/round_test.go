package webhooks_test

import (
	consent "github.com/sendara/console/models/consent"
	hooks "github.com/sendara/console/models/hooks"

	"fmt"
	"testing"
	"time"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// TestARoundIsRecordedInOneTransactionOutsideTheAuditChain: a round of
// deliveries that succeed and fail writes no audit entry and records
// every attempt; a round that gives a delivery up audits exactly the
// give-up and the disabling, and a delivery another sender took over is
// reported lost and not recorded twice.
func TestARoundIsRecordedInOneTransactionOutsideTheAuditChain(t *testing.T) {
	f := newFixture(t)
	e := f.endpoint(hooks.EventOptedOut)
	for i := range 4 {
		f.consent(consent.OptOut, fmt.Sprintf("+1415555%04d", i))
	}
	// Even-numbered people's messages fail.
	f.rc.fail = func(r received, _ int) bool {
		ids, _ := r.data["identifiers"].([]any)
		return len(ids) == 1 && (ids[0] == "+14155550000" || ids[0] == "+14155550002")
	}
	seq0, _, err := f.db.AuditHead(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.sender().RunOnce(f.ctx)
	if err != nil || n != 4 {
		t.Fatalf("round: %d, %v", n, err)
	}
	if seq, _, _ := f.db.AuditHead(f.ctx); seq != seq0 {
		t.Errorf("a round of deliveries wrote %d audit entries, want none", seq-seq0)
	}
	log := f.log(e)
	statuses := map[string]int{}
	for _, l := range log {
		statuses[l.Status]++
		if l.Attempts != 1 {
			t.Errorf("delivery %s: %d attempts", l.ID, l.Attempts)
		}
	}
	if statuses[hooks.DeliveryDelivered] != 2 || statuses[hooks.DeliveryPending] != 2 {
		t.Fatalf("after one round: %v, want 2 delivered and 2 pending", statuses)
	}
	ids := []string{}
	for _, l := range log {
		ids = append(ids, l.ID)
	}
	atts, err := f.db.WebhookAttempts(f.ctx, modeltest.Staff, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range log {
		a := atts[l.ID]
		if len(a) != 1 || a[0].Attempt != 1 || (a[0].StatusCode != 204 && a[0].StatusCode != 500) {
			t.Errorf("attempts of %s = %+v", l.ID, a)
		}
	}

	// Past the retry window: the two failing deliveries are given up and
	// the endpoint disabled, audited in the round's transaction.
	f.clock.Advance(2 * time.Hour)
	claimed, err := f.db.ClaimWebhookDeliveries(f.ctx, f.clock.Now(), time.Minute, 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %d, %v; want the 2 failing deliveries", len(claimed), err)
	}
	// A job as a sender that lost its claim would report it: one of the
	// delivered ones, long since recorded.
	stale := claimed[0]
	for _, l := range log {
		if l.Status == hooks.DeliveryDelivered {
			stale.Delivery = l.WebhookDelivery
			break
		}
	}
	seq0, _, _ = f.db.AuditHead(f.ctx)
	res, err := f.db.RecordWebhookRound(f.ctx, []hooks.WebhookResult{
		{Job: &claimed[0], Outcome: hooks.WebhookOutcome{At: f.clock.Now(), StatusCode: 500}},
		{Job: &claimed[1], Outcome: hooks.WebhookOutcome{At: f.clock.Now(), Err: "connection refused"}},
		{Job: &stale, Outcome: hooks.WebhookOutcome{At: f.clock.Now(), StatusCode: 200}},
	}, f.retry)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Lost) != 1 || res.Lost[0] != stale.Delivery.ID || len(res.Disabled) != 1 || res.Disabled[0] != e.ID {
		t.Fatalf("round outcome = %+v", res)
	}
	var actions []string
	if err := f.db.Gorm.Model(&store.AuditEvent{}).Where("seq > ?", seq0).Order("seq").Pluck("action", &actions).Error; err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, a := range actions {
		counts[a]++
	}
	// The admins' mail is audited as it is queued (mail.queue).
	if counts["webhook.give_up"] != 2 || counts["webhook.disable"] != 1 || len(actions) != 3+counts["mail.queue"] {
		t.Errorf("audit entries of the give-up round = %v", actions)
	}
	for _, l := range f.log(e) {
		if l.Status == hooks.DeliveryPending {
			t.Errorf("delivery %s still pending after being given up", l.ID)
		}
	}
}
