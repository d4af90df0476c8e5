package webhooks_test

import (
	consent "github.com/sendara/console/models/consent"
	customers "github.com/sendara/console/models/customers"

	hooks "github.com/sendara/console/models/hooks"

	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	outbox "github.com/sendara/console/models/outbox"
	"github.com/sendara/console/webhooks"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// received is one message as the receiver saw it.
type received struct {
	header http.Header
	body   []byte
	typ    string
	data   map[string]any
}

// receiver is a real HTTP endpoint on loopback. fail decides, per message
// and the number of times that message arrived, whether to answer 500.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received // every request, in arrival order
	okIDs  []string   // webhook-ids answered 2xx, in order
	counts map[string]int
	fail   func(r received, n int) bool
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t, counts: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var msg struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(body, &msg); err != nil {
			t.Errorf("receiver: body is not JSON: %v", err)
		}
		m := received{header: r.Header.Clone(), body: body, typ: msg.Type, data: msg.Data}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		id := r.Header.Get(webhooks.HeaderID)
		rc.counts[id]++
		rc.got = append(rc.got, m)
		if rc.fail != nil && rc.fail(m, rc.counts[id]) {
			http.Error(w, "receiver is down for maintenance", http.StatusInternalServerError)
			return
		}
		rc.okIDs = append(rc.okIDs, id)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) snapshot() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// clock is the real time moved forward by the test: events are written
// at the real time, and senders see them due at once.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *models.DB
	acme  *customers.Customer
	clock *clock
	rc    *receiver
	retry hooks.WebhookRetry
}

func newFixture(t *testing.T) *fixture {
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, err := db.CreateCustomer(ctx, modeltest.Staff, customers.CustomerInput{Slug: "acme", Name: "Acme", ContactEmail: "privacy@acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, ctx: ctx, db: db, acme: acme, clock: &clock{}, rc: newReceiver(t),
		retry: hooks.WebhookRetry{Base: time.Minute, Max: 10 * time.Minute, Window: time.Hour}}
}

func (f *fixture) endpoint(types ...string) *hooks.WebhookEndpoint {
	f.t.Helper()
	e, err := f.db.CreateWebhookEndpoint(f.ctx, modeltest.Staff, f.acme.ID, hooks.WebhookInput{URL: f.rc.srv.URL + "/hooks",
		Enabled: true, EventTypes: types, AllowLoopbackHTTP: true})
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

func (f *fixture) sender() *webhooks.Sender {
	return webhooks.New(f.db, webhooks.Options{Log: quiet(), AllowLoopback: true, Now: f.clock.Now, Retry: f.retry, Lease: 5 * time.Minute})
}

func (f *fixture) consent(kind, to string) {
	f.t.Helper()
	in := consent.ConsentInput{To: to, Kind: kind, Source: "api"}
	if kind == consent.OptIn {
		in.Evidence = "web form"
	}
	if _, err := f.db.RecordConsent(f.ctx, modeltest.Staff, f.acme.ID, in, "US"); err != nil {
		f.t.Fatal(err)
	}
}

// drain runs s until a round claims nothing.
func (f *fixture) drain(s *webhooks.Sender) {
	f.t.Helper()
	for range 50 {
		n, err := s.RunOnce(f.ctx)
		if err != nil {
			f.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	f.t.Fatal("the sender never ran out of due deliveries")
}

func (f *fixture) log(e *hooks.WebhookEndpoint) []hooks.WebhookLogEntry {
	f.t.Helper()
	entries, err := f.db.WebhookLog(f.ctx, modeltest.Staff, e.ID, "", 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return entries
}

func TestAnOptOutReachesTheEndpointSignedWithItsSecret(t *testing.T) {
	f := newFixture(t)
	e := f.endpoint(hooks.EventOptedOut)
	f.consent(consent.OptOut, "Jane.Doe@Example.com")
	f.drain(f.sender())

	got := f.rc.snapshot()
	if len(got) != 1 {
		t.Fatalf("receiver got %d messages, want 1", len(got))
	}
	m := got[0]
	if err := webhooks.Verify(e.Secret, m.header, m.body, time.Now(), 5*time.Minute); err != nil {
		t.Errorf("signature: %v (headers %v)", err, m.header)
	}
	if err := webhooks.Verify("whsec_"+strings.Repeat("A", 32), m.header, m.body, time.Now(), 5*time.Minute); err == nil {
		t.Error("the signature verifies under another secret")
	}
	if m.typ != hooks.EventOptedOut || m.data["channel"] != "all" || m.data["reason"] != "opt_out" {
		t.Errorf("message = %s %v", m.typ, m.data)
	}
	if ids, _ := m.data["identifiers"].([]any); len(ids) != 1 || ids[0] != "jane.doe@example.com" {
		t.Errorf("identifiers = %v", m.data["identifiers"])
	}
	log := f.log(e)
	if len(log) != 1 || log[0].Status != hooks.DeliveryDelivered || log[0].Attempts != 1 || log[0].LastStatus != 204 {
		t.Fatalf("delivery log = %+v", log)
	}
}

func TestAnEndpointGetsOnlyTheTypesItWants(t *testing.T) {
	f := newFixture(t)
	f.endpoint(hooks.EventOptedIn)
	f.consent(consent.OptOut, "+14155550100")
	f.drain(f.sender())
	if got := f.rc.snapshot(); len(got) != 0 {
		t.Fatalf("an endpoint for opt-ins got %d messages about an opt-out", len(got))
	}
}

func TestFailedDeliveriesAreRetriedAndOneContactsEventsArriveInOrder(t *testing.T) {
	f := newFixture(t)
	e := f.endpoint(hooks.EventOptedOut, hooks.EventOptedIn)
	// The receiver refuses the first two tries of every message.
	f.rc.fail = func(_ received, n int) bool { return n <= 2 }
	f.consent(consent.OptOut, "+14155550100")
	f.consent(consent.OptOut, "+14155550199")
	f.clock.Advance(time.Second)
	f.consent(consent.OptIn, "+14155550100")
	s := f.sender()

	f.drain(s)
	if got := len(f.rc.snapshot()); got != 2 {
		t.Fatalf("first round: %d requests, want 2 (the opt-in waits for its contact's opt-out)", got)
	}
	for range 6 {
		f.clock.Advance(f.retry.Max)
		f.drain(s)
	}
	var first, second []string // the two contacts' event types in the order they were accepted
	got := f.rc.snapshot()
	f.rc.mu.Lock()
	ok := append([]string(nil), f.rc.okIDs...)
	f.rc.mu.Unlock()
	byID := map[string]received{}
	for _, m := range got {
		byID[m.header.Get(webhooks.HeaderID)] = m
	}
	for _, id := range ok {
		m := byID[id]
		if ids, _ := m.data["identifiers"].([]any); len(ids) == 1 && ids[0] == "+14155550100" {
			first = append(first, m.typ)
		} else {
			second = append(second, m.typ)
		}
	}
	if strings.Join(first, ",") != "consent.opted_out,consent.opted_in" || strings.Join(second, ",") != "consent.opted_out" {
		t.Fatalf("accepted in order: contact 1 %v, contact 2 %v", first, second)
	}
	if len(got) != 9 {
		t.Errorf("%d requests, want 9 (three tries of each of three events)", len(got))
	}
	for _, entry := range f.log(e) {
		if entry.Status != hooks.DeliveryDelivered || entry.Attempts != 3 {
			t.Errorf("delivery %s: %s after %d attempts", entry.EventType, entry.Status, entry.Attempts)
		}
	}
}

func TestASecondSenderPicksUpADeliveryWhoseSenderStopped(t *testing.T) {
	f := newFixture(t)
	e := f.endpoint(hooks.EventOptedOut)
	f.consent(consent.OptOut, "+14155550100")
	// The first instance claims the delivery and dies before sending it.
	claimed, err := f.db.ClaimWebhookDeliveries(f.ctx, f.clock.Now(), 5*time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %d", err, len(claimed))
	}
	second := f.sender()
	f.drain(second)
	if got := len(f.rc.snapshot()); got != 0 {
		t.Fatalf("the delivery was sent again within the first sender's lease (%d requests)", got)
	}
	f.clock.Advance(5*time.Minute + time.Second)
	f.drain(second)
	if got := len(f.rc.snapshot()); got != 1 {
		t.Fatalf("after the lease: %d requests, want 1", got)
	}
	log := f.log(e)
	if len(log) != 1 || log[0].Status != hooks.DeliveryDelivered || log[0].Attempts != 2 {
		t.Fatalf("delivery log = %+v", log)
	}
	// The first instance comes back and reports its claim: it is told it lost it.
	if _, err := f.db.RecordWebhookAttempt(f.ctx, &claimed[0], hooks.WebhookOutcome{At: f.clock.Now(), StatusCode: 200}, f.retry); err != hooks.ErrWebhookClaimLost {
		t.Fatalf("late report of the first claim: %v, want ErrWebhookClaimLost", err)
	}
}

func TestConcurrentSendersDeliverEachEventOnce(t *testing.T) {
	f := newFixture(t)
	f.endpoint(hooks.EventOptedOut)
	for i := range 12 {
		f.consent(consent.OptOut, fmt.Sprintf("+1415555%04d", i))
	}
	var wg sync.WaitGroup
	for range 3 {
		s := f.sender()
		wg.Go(func() { f.drain(s) })
	}
	wg.Wait()
	seen := map[string]int{}
	for _, m := range f.rc.snapshot() {
		seen[m.header.Get(webhooks.HeaderID)]++
	}
	if len(seen) != 12 {
		t.Fatalf("%d distinct events delivered, want 12", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
}

func TestAnEndpointFailingForTheWholeWindowIsDisabledAndItsAdminsMailed(t *testing.T) {
	f := newFixture(t)
	e := f.endpoint(hooks.EventOptedOut)
	f.rc.fail = func(received, int) bool { return true }
	f.consent(consent.OptOut, "+14155550100")
	s := f.sender()
	for range 20 {
		f.drain(s)
		f.clock.Advance(f.retry.Max)
	}
	e, err := f.db.WebhookEndpoint(f.ctx, modeltest.Staff, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Enabled || !strings.Contains(e.DisabledReason, "three days") {
		t.Fatalf("endpoint enabled=%v reason=%q", e.Enabled, e.DisabledReason)
	}
	log := f.log(e)
	if len(log) != 1 || log[0].Status != hooks.DeliveryFailed || log[0].LastStatus != 500 {
		t.Fatalf("delivery log = %+v", log)
	}
	attempts, err := f.db.WebhookAttempts(f.ctx, modeltest.Staff, []string{log[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(attempts[log[0].ID]); n != log[0].Attempts || n < 3 || !strings.Contains(attempts[log[0].ID][0].ResponseBody, "maintenance") {
		t.Errorf("attempts logged: %d (delivery says %d): %+v", n, log[0].Attempts, attempts[log[0].ID])
	}
	mails, err := f.db.Outbox(f.ctx, modeltest.Staff, outbox.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(mails) != 1 || mails[0].ToAddr != "privacy@acme.example" || !strings.Contains(mails[0].BodyText, e.URL) {
		t.Fatalf("outbox = %+v", mails)
	}
	// Nothing more is sent to a disabled endpoint.
	before := len(f.rc.snapshot())
	f.consent(consent.OptOut, "+14155550101")
	f.drain(s)
	if after := len(f.rc.snapshot()); after != before {
		t.Errorf("a disabled endpoint got %d more requests", after-before)
	}
}

func TestDuringARotationBothSecretsSign(t *testing.T) {
	f := newFixture(t)
	old := f.endpoint(hooks.EventOptedOut)
	rotated, err := f.db.RotateWebhookSecret(f.ctx, modeltest.Staff, old.ID, hooks.WebhookSecretOverlap)
	if err != nil {
		t.Fatal(err)
	}
	f.consent(consent.OptOut, "+14155550100")
	f.drain(f.sender())
	got := f.rc.snapshot()
	if len(got) != 1 {
		t.Fatalf("%d requests", len(got))
	}
	if sigs := strings.Fields(got[0].header.Get(webhooks.HeaderSignature)); len(sigs) != 2 {
		t.Errorf("webhook-signature = %q, want two signatures", got[0].header.Get(webhooks.HeaderSignature))
	}
	for name, secret := range map[string]string{"old": old.Secret, "new": rotated.Secret} {
		if err := webhooks.Verify(secret, got[0].header, got[0].body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("%s secret: %v", name, err)
		}
	}
	// After the overlap only the new secret signs.
	f.clock.Advance(hooks.WebhookSecretOverlap + time.Minute)
	f.consent(consent.OptOut, "+14155550101")
	f.drain(f.sender())
	got = f.rc.snapshot()
	if len(got) != 2 || len(strings.Fields(got[1].header.Get(webhooks.HeaderSignature))) != 1 {
		t.Fatalf("after the overlap: %d requests, signature %q", len(got), got[len(got)-1].header.Get(webhooks.HeaderSignature))
	}
}

func TestATestEventGoesToItsEndpointOnly(t *testing.T) {
	f := newFixture(t)
	e := f.endpoint(hooks.EventRequestRouted)
	other := f.endpoint(hooks.EventOptedOut)
	if _, err := f.db.SendWebhookTest(f.ctx, modeltest.Staff, e.ID); err != nil {
		t.Fatal(err)
	}
	f.drain(f.sender())
	got := f.rc.snapshot()
	if len(got) != 1 || got[0].typ != hooks.EventTest || got[0].data["endpoint_id"] != e.ID {
		t.Fatalf("received %+v", got)
	}
	if len(f.log(other)) != 0 {
		t.Error("the other endpoint got the test event")
	}
}

func TestTheSenderRefusesPrivateAddressesUnlessAllowed(t *testing.T) {
	f := newFixture(t)
	e := f.endpoint(hooks.EventOptedOut)
	f.consent(consent.OptOut, "+14155550100")
	s := webhooks.New(f.db, webhooks.Options{Log: quiet(), Now: f.clock.Now, Retry: f.retry})
	f.drain(s)
	if got := len(f.rc.snapshot()); got != 0 {
		t.Fatalf("a sender without AllowLoopback reached the loopback receiver (%d requests)", got)
	}
	log := f.log(e)
	attempts, _ := f.db.WebhookAttempts(f.ctx, modeltest.Staff, []string{log[0].ID})
	if a := attempts[log[0].ID]; len(a) != 1 || !strings.Contains(a[0].Error, "not a public address") {
		t.Fatalf("attempts = %+v", a)
	}
}
