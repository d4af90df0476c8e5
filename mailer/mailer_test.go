package mailer_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
	"github.com/sendara/console/mailbox"
	"github.com/sendara/console/mailer"
	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	outbox "github.com/sendara/console/models/outbox"
	store "github.com/sendara/console/models/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const from = "Sendara Privacy <privacy@sendara.example>"

// inbox is a privacy mailbox receiver standing in for the SMTP server: it
// refuses the next failures messages with a temporary error, then keeps
// what it is sent.
type inbox struct {
	mu       sync.Mutex
	reject   bool // refuse every message permanently (554)
	failures int
	got      []*mailbox.Message
	arrived  chan struct{}
}

func (in *inbox) Deliver(_ context.Context, m *mailbox.Message) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.reject {
		return mailbox.Reject(errors.New("content refused"))
	}
	if in.failures > 0 {
		in.failures--
		return errors.New("disk full")
	}
	in.got = append(in.got, m)
	select {
	case in.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (in *inbox) messages() []*mailbox.Message {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]*mailbox.Message(nil), in.got...)
}

// startInbox runs the mailbox's SMTP server on loopback; it returns the
// smtp:// URL to send to.
func startInbox(t *testing.T, failures int) (*inbox, string) {
	t.Helper()
	in := &inbox{failures: failures, arrived: make(chan struct{}, 16)}
	srv, err := mailbox.NewServer("127.0.0.1:0", in, mailbox.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	return in, "smtp://" + srv.Addr().String()
}

// clock is a test clock moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Microsecond)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func queueAck(t *testing.T, db *models.DB) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	err := db.Tx(t.Context(), modeltest.Staff, func(tx *store.Tx) error {
		return db.QueueMail(tx, outbox.OutboundMail{ID: id, Kind: outbox.MailAcknowledgement, To: "Jane.Doe@Example.com",
			Data: outbox.MailData{Reference: "PR-2026-000042", RequesterName: "Jane Doe", ReceivedOn: "2026-03-02", DueOn: "2026-04-02"}})
	})
	if err != nil {
		t.Fatalf("QueueMail: %v", err)
	}
	return id
}

func mailRow(t *testing.T, db *models.DB, id string) *outbox.OutboxMail {
	t.Helper()
	m, err := db.OutboxEntry(t.Context(), modeltest.Staff, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func deliverOnce(t *testing.T, s *mailer.Sender) mailer.Report {
	t.Helper()
	r, err := s.DeliverOnce(t.Context())
	if err != nil {
		t.Fatalf("DeliverOnce: %v", err)
	}
	return r
}

func TestSenderDeliversQueuedMailOverSMTP(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	in, url := startInbox(t, 0)
	id := queueAck(t, db)
	s, err := mailer.New(db, url, from, quiet)
	if err != nil {
		t.Fatal(err)
	}

	if r := deliverOnce(t, s); r.Claimed != 1 || r.Sent != 1 {
		t.Fatalf("report = %+v, want one mail sent", r)
	}
	got := in.messages()
	if len(got) != 1 {
		t.Fatalf("the server received %d messages", len(got))
	}
	m := got[0]
	if m.Subject != "We received your privacy request PR-2026-000042" || m.From.Address != "privacy@sendara.example" ||
		len(m.To) != 1 || m.To[0].Address != "jane.doe@example.com" || m.Reference != "PR-2026-000042" {
		t.Errorf("received %q from %+v to %+v (reference %q)", m.Subject, m.From, m.To, m.Reference)
	}
	if !strings.Contains(m.TextBody, "Dear Jane Doe,") || !strings.Contains(m.TextBody, "by 2026-04-02") {
		t.Errorf("body = %q", m.TextBody)
	}
	if !strings.Contains(string(m.Raw), "Auto-Submitted: auto-generated") {
		t.Error("the mail is not marked as automatic (RFC 3834 Auto-Submitted)")
	}
	row := mailRow(t, db, id)
	if row.Status != outbox.MailSent || row.SentAt == nil || row.MessageID != m.MessageID || row.MessageID != id+"@sendara.example" {
		t.Errorf("outbox row = %+v; received Message-ID %q", row, m.MessageID)
	}
	if r := deliverOnce(t, s); r.Claimed != 0 {
		t.Errorf("a sent mail was claimed again: %+v", r)
	}
}

func TestSenderRetriesWithBackoffThenSucceeds(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	in, url := startInbox(t, 2) // the server answers 451 twice
	id := queueAck(t, db)
	clk := newClock()
	s, err := mailer.New(db, url, from, quiet, mailer.WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}

	for attempt, wait := range []time.Duration{time.Minute, 2 * time.Minute} {
		if r := deliverOnce(t, s); r.Retried != 1 {
			t.Fatalf("attempt %d: report = %+v, want a retry", attempt+1, r)
		}
		row := mailRow(t, db, id)
		if row.Status != outbox.MailQueued || row.Attempts != attempt+1 || !row.NextAttemptAt.Equal(clk.now().Add(wait)) ||
			!strings.Contains(row.LastError, "451") {
			t.Fatalf("after attempt %d: %+v, want queued for %v later with the error kept", attempt+1, row, wait)
		}
		if r := deliverOnce(t, s); r.Claimed != 0 {
			t.Fatalf("the mail was tried again before its backoff ended: %+v", r)
		}
		clk.advance(wait)
	}
	if r := deliverOnce(t, s); r.Sent != 1 {
		t.Fatalf("third attempt: report = %+v, want it sent", r)
	}
	if row := mailRow(t, db, id); row.Status != outbox.MailSent || row.Attempts != 3 || row.LastError != "" {
		t.Errorf("after success: %+v", row)
	}
	if len(in.messages()) != 1 {
		t.Errorf("the server kept %d messages, want 1", len(in.messages()))
	}
}

func TestSenderGivesUpAfterTheLastAttemptAndKeepsTheMailVisible(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	_, url := startInbox(t, 100)
	id := queueAck(t, db)
	clk := newClock()
	s, err := mailer.New(db, url, from, quiet, mailer.WithClock(clk.now), mailer.WithMaxAttempts(3))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if r := deliverOnce(t, s); r.Retried != 1 {
			t.Fatalf("report = %+v, want a retry", r)
		}
		clk.advance(time.Hour)
	}
	if r := deliverOnce(t, s); r.Failed != 1 {
		t.Fatalf("last attempt: report = %+v, want it given up", r)
	}
	failed, err := db.Outbox(t.Context(), modeltest.Staff, outbox.OutboxFilter{Status: outbox.MailFailed})
	if err != nil || len(failed) != 1 || failed[0].ID != id || failed[0].Attempts != 3 || !strings.Contains(failed[0].LastError, "451") {
		t.Fatalf("failed mail in the outbox = %+v, %v", failed, err)
	}
	clk.advance(24 * time.Hour)
	if r := deliverOnce(t, s); r.Claimed != 0 {
		t.Errorf("a failed mail was tried again: %+v", r)
	}
}

// refusingBackend is an SMTP server that refuses one recipient with 550.
type refusingBackend struct{}

func (refusingBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return refusingSession{}, nil }

type refusingSession struct{}

func (refusingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (refusingSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
}
func (refusingSession) Data(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }
func (refusingSession) Reset()                 {}
func (refusingSession) Logout() error          { return nil }

func TestSenderFailsAtOnceWhenTheServerRefusesTheRecipient(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(refusingBackend{})
	srv.ErrorLog = slog.NewLogLogger(quiet.Handler(), slog.LevelWarn)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	id := queueAck(t, db)
	s, err := mailer.New(db, "smtp://"+ln.Addr().String(), from, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if r := deliverOnce(t, s); r.Failed != 1 {
		t.Fatalf("report = %+v, want the mail given up", r)
	}
	if row := mailRow(t, db, id); row.Status != outbox.MailFailed || row.Attempts != 1 || !strings.Contains(row.LastError, "No such user") {
		t.Errorf("outbox row = %+v", row)
	}
}

func TestSenderFailsAtOnceWhenTheServerRefusesTheContent(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	in, url := startInbox(t, 0)
	in.mu.Lock()
	in.reject = true
	in.mu.Unlock()
	id := queueAck(t, db)
	s, err := mailer.New(db, url, from, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if r := deliverOnce(t, s); r.Failed != 1 {
		t.Fatalf("report = %+v, want the mail given up", r)
	}
	if row := mailRow(t, db, id); row.Status != outbox.MailFailed || !strings.Contains(row.LastError, "554") {
		t.Errorf("outbox row = %+v", row)
	}
}

func TestSenderRetriesWhenTheServerCannotBeReached(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	id := queueAck(t, db)
	clk := newClock()
	s, err := mailer.New(db, "smtp://"+addr+"?timeout=5s", from, quiet, mailer.WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	if r := deliverOnce(t, s); r.Retried != 1 {
		t.Fatalf("report = %+v, want a retry", r)
	}
	if row := mailRow(t, db, id); row.Status != outbox.MailQueued || !row.NextAttemptAt.Equal(clk.now().Add(time.Minute)) || row.LastError == "" {
		t.Errorf("outbox row = %+v", row)
	}
}

func TestSenderWithoutAServerHoldsMailInTheOutbox(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	id := queueAck(t, db)
	s, err := mailer.New(db, "", from, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if s.Configured() {
		t.Error("a sender without a URL says it is configured")
	}
	if r := deliverOnce(t, s); r.Held != 1 || r.Claimed != 0 {
		t.Fatalf("report = %+v, want one mail held", r)
	}
	if row := mailRow(t, db, id); row.Status != outbox.MailHeld || row.LastError != mailer.HeldReason {
		t.Errorf("outbox row = %+v", row)
	}
}

func TestRunSendsWhenWokenAndStopsWithItsContext(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	in, url := startInbox(t, 0)
	s, err := mailer.New(db, url, from, quiet, mailer.WithInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	queueAck(t, db)
	s.Wake()
	select {
	case <-in.arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not send the mail after Wake")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil after its context ended", err)
	}
}

func TestBackoffDoublesFromAMinuteUpToAnHour(t *testing.T) {
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{0, time.Minute}, {1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute}, {6, 32 * time.Minute},
		{7, time.Hour}, {10, time.Hour}, {1000, time.Hour},
	}
	for _, tt := range tests {
		if got := mailer.Backoff(tt.attempt); got != tt.want {
			t.Errorf("Backoff(%d) = %v, want %v", tt.attempt, got, tt.want)
		}
	}
}

func TestNewRefusesABadSenderAddressOrURL(t *testing.T) {
	if _, err := mailer.New(nil, "", "not an address", quiet); err == nil {
		t.Error("New accepted a sender that is not an address")
	}
	if _, err := mailer.New(nil, "http://mail.example.com", from, quiet); err == nil {
		t.Error("New accepted an http:// URL")
	}
}

// stopOnDelivery is an inbox that ends the sender's context once the
// server has accepted a message: the sender stops between the server's
// answer and recording it, as a crash would stop it.
type stopOnDelivery struct {
	*inbox
	stop context.CancelFunc
}

func (s stopOnDelivery) Deliver(ctx context.Context, m *mailbox.Message) error {
	err := s.inbox.Deliver(ctx, m)
	s.stop()
	return err
}

func TestAMailSentAgainAfterASenderStoppedKeepsItsMessageID(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	id := queueAck(t, db)
	clk := newClock()
	ctx, stop := context.WithCancel(t.Context())
	in := &inbox{arrived: make(chan struct{}, 16)}
	srv, err := mailbox.NewServer("127.0.0.1:0", stopOnDelivery{inbox: in, stop: stop}, mailbox.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	url := "smtp://" + srv.Addr().String()

	first, err := mailer.New(db, url, from, quiet, mailer.WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.DeliverOnce(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("the stopped sender's pass = %v, want it cancelled", err)
	}
	row := mailRow(t, db, id)
	if row.Status != outbox.MailQueued || row.MessageID != id+"@sendara.example" || row.LastAttemptAt == nil || row.Attempts != 1 {
		t.Fatalf("after a sender stopped mid-attempt: %+v, want still queued with the attempt and its Message-ID recorded", row)
	}

	// After the lease another sender, configured with another sender
	// domain, sends it again: under the Message-ID the first one recorded.
	clk.advance(11 * time.Minute)
	second, err := mailer.New(db, url, "Privacy <privacy@other.example>", quiet, mailer.WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := second.DeliverOnce(t.Context()); err != nil || r.Sent != 1 {
		t.Fatalf("the next sender's pass = %+v, %v; want the mail sent", r, err)
	}
	got := in.messages()
	if len(got) != 2 || got[0].MessageID != got[1].MessageID || got[1].MessageID != id+"@sendara.example" {
		t.Errorf("the server received %d copies; Message-IDs %v; want 2 copies under one Message-ID", len(got), messageIDs(got))
	}
	if row := mailRow(t, db, id); row.Status != outbox.MailSent || row.MessageID != id+"@sendara.example" || row.Attempts != 2 {
		t.Errorf("after the second attempt: %+v", row)
	}
}

func messageIDs(ms []*mailbox.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.MessageID
	}
	return out
}
