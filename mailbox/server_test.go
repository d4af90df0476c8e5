package mailbox_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendara/console/mailbox"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeSink records what it is given; when fail is set it refuses.
type fakeSink struct {
	mu   sync.Mutex
	got  []*mailbox.Message
	fail error
}

func (s *fakeSink) Deliver(_ context.Context, m *mailbox.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.got = append(s.got, m)
	return nil
}

func (s *fakeSink) messages() []*mailbox.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*mailbox.Message(nil), s.got...)
}

// startServer runs a receiver on a free loopback port until the test ends.
func startServer(t *testing.T, sink mailbox.Sink, opts ...mailbox.Option) *mailbox.Server {
	t.Helper()
	srv, err := mailbox.NewServer("127.0.0.1:0", sink, append([]mailbox.Option{mailbox.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv
}

// smtpCode returns the reply code of a net/smtp error, 0 for success.
func smtpCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var tpErr *textproto.Error
	if !errors.As(err, &tpErr) {
		t.Fatalf("not an SMTP reply: %v", err)
	}
	return tpErr.Code
}

func TestServerDeliversAParsedMessageToTheSink(t *testing.T) {
	sink := &fakeSink{}
	srv := startServer(t, sink)
	raw := readSample(t, "plain_erasure.eml")

	err := smtp.SendMail(srv.Addr().String(), nil, "bounce@example.com", []string{"privacy@sendara.example", "dpo@sendara.example"}, raw)
	if err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	// SendMail returned after the server's 250, which comes only after the
	// sink returned: the message is there now.
	got := sink.messages()
	if len(got) != 1 {
		t.Fatalf("sink got %d messages, want 1", len(got))
	}
	m := got[0]
	if m.Subject != "Please delete my data" || m.From.Address != "jane.doe@example.com" || m.SuggestedType != "erasure" {
		t.Errorf("got subject %q from %q suggested %q", m.Subject, m.From.Address, m.SuggestedType)
	}
	if !strings.Contains(m.TextBody, "Please delete all my personal data") {
		t.Errorf("body = %q", m.TextBody)
	}
	if m.EnvelopeFrom != "bounce@example.com" || len(m.EnvelopeTo) != 2 {
		t.Errorf("envelope = %q → %q", m.EnvelopeFrom, m.EnvelopeTo)
	}
	if m.ReceivedAt.IsZero() || m.ReceivedAt.Before(m.Date) {
		t.Errorf("ReceivedAt = %v, want the time of receipt (the sample's Date is %v)", m.ReceivedAt, m.Date)
	}
	if string(m.Raw) != string(raw) {
		t.Error("Raw differs from the bytes sent")
	}
}

func TestServerFindsTheReferenceOfAReply(t *testing.T) {
	sink := &fakeSink{}
	srv := startServer(t, sink)
	if err := smtp.SendMail(srv.Addr().String(), nil, "jane.doe@example.com", []string{"privacy@sendara.example"},
		readSample(t, "reply_with_attachment.eml")); err != nil {
		t.Fatal(err)
	}
	got := sink.messages()
	if len(got) != 1 || got[0].Reference != "PR-2026-000042" || len(got[0].Attachments) != 2 {
		t.Fatalf("got %+v", got)
	}
}

func TestServerAnswersWithTheRightCode(t *testing.T) {
	tests := []struct {
		name     string
		sinkErr  error
		raw      string
		maxBytes int64
		want     int
	}{
		{name: "a stored message is accepted", raw: "From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n", want: 0},
		{name: "a failing sink asks the MTA to retry", sinkErr: errors.New("database down"),
			raw: "From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n", want: 451},
		{name: "a message the sink rejects is refused", sinkErr: mailbox.Reject(errors.New("from: not an address we can answer")),
			raw: "From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n", want: 554},
		{name: "a message without a sender is refused", raw: "Subject: hi\r\n\r\nhello\r\n", want: 554},
		{name: "a message that is not a message is refused", raw: "hello, this is not an email\r\n", want: 554},
		{name: "a message over the size limit is refused", maxBytes: 64,
			raw: "From: a@example.com\r\nSubject: big\r\n\r\n" + strings.Repeat("x", 200) + "\r\n", want: 552},
		{name: "a header over its limit is refused for good",
			raw: "From: a@example.com\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 900)+"\r\n", mailbox.MaxHeaderBytes/900+1) + "\r\nhello\r\n", want: 552},
		{name: "a header that never ends is refused for good",
			raw: "From: a@example.com\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 900)+"\r\n", mailbox.MaxHeaderBytes/900+1), want: 552},
		{name: "a line longer than SMTP allows is refused for good",
			raw: "From: a@example.com\r\nSubject: hi\r\n\r\n" + strings.Repeat("x", 5000) + "\r\n", want: 554},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &fakeSink{fail: tt.sinkErr}
			var opts []mailbox.Option
			if tt.maxBytes > 0 {
				opts = append(opts, mailbox.WithMaxMessageBytes(tt.maxBytes))
			}
			srv := startServer(t, sink, opts...)
			err := smtp.SendMail(srv.Addr().String(), nil, "a@example.com", []string{"privacy@sendara.example"}, []byte(tt.raw))
			if got := smtpCode(t, err); got != tt.want {
				t.Fatalf("reply code = %d (%v), want %d", got, err, tt.want)
			}
			if stored := len(sink.messages()); (tt.want == 0) != (stored == 1) {
				t.Errorf("sink holds %d messages after a %d answer", stored, tt.want)
			}
		})
	}
}

func TestServerRefusalSaysWhatIsWrong(t *testing.T) {
	srv := startServer(t, &fakeSink{})
	err := smtp.SendMail(srv.Addr().String(), nil, "a@example.com", []string{"privacy@sendara.example"}, []byte("Subject: hi\r\n\r\nhello\r\n"))
	if err == nil || !strings.Contains(err.Error(), "no sender address") {
		t.Errorf("error = %v, want the reason in the reply", err)
	}
}

// sendData sends one message and returns the server's answer to the
// message itself (the reply after DATA), ignoring what happens after it.
func sendData(addr, raw string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail("a@example.com"); err != nil {
		return err
	}
	if err := c.Rcpt("privacy@sendara.example"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, raw); err != nil {
		return err
	}
	return w.Close()
}

// blockingSink holds a delivery until released, to observe shutdown.
type blockingSink struct {
	entered chan struct{}
	release chan struct{}
}

func (s *blockingSink) Deliver(ctx context.Context, _ *mailbox.Message) error {
	close(s.entered)
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestCloseWaitsForADeliveryInProgress(t *testing.T) {
	sink := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	srv, err := mailbox.NewServer("127.0.0.1:0", sink, mailbox.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve() }()
	sent := make(chan error, 1)
	go func() { sent <- sendData(srv.Addr().String(), "From: a@example.com\r\n\r\nhi\r\n") }()
	<-sink.entered

	closed := make(chan error, 1)
	go func() { closed <- srv.Close(context.Background()) }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a delivery was running", err)
	case err := <-sent:
		t.Fatalf("the client got an answer (%v) before the sink returned", err)
	default:
	}
	close(sink.release)
	if err := <-sent; err != nil {
		t.Errorf("the delivery in progress failed: %v", err)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := smtp.Dial(srv.Addr().String()); err == nil {
		t.Error("the server still accepts connections after Close")
	}
}

func TestServerDefersMailBeyondItsConcurrencyLimit(t *testing.T) {
	sink := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	srv := startServer(t, sink, mailbox.WithMaxConcurrent(1))
	first := make(chan error, 1)
	go func() { first <- sendData(srv.Addr().String(), "From: a@example.com\r\n\r\nfirst\r\n") }()
	<-sink.entered

	err := sendData(srv.Addr().String(), "From: b@example.com\r\n\r\nsecond\r\n")
	if got := smtpCode(t, err); got != 451 {
		t.Errorf("the second message while the first is stored = %d (%v), want 451", got, err)
	}
	close(sink.release)
	if err := <-first; err != nil {
		t.Errorf("the first message: %v", err)
	}
}

func TestCloseGivesUpOnASlowSinkAndTheSenderRetries(t *testing.T) {
	sink := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	srv, err := mailbox.NewServer("127.0.0.1:0", sink, mailbox.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve() }()
	sent := make(chan error, 1)
	go func() { sent <- sendData(srv.Addr().String(), "From: a@example.com\r\n\r\nhi\r\n") }()
	<-sink.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.Close(ctx); err == nil {
		t.Error("Close reported success although a delivery was cut off")
	}
	if err := <-sent; err == nil {
		t.Error("the cut-off message was acknowledged; it would be lost")
	}
}

func TestServerDefersASenderOrEveryoneSendingTooMuch(t *testing.T) {
	sink := &fakeSink{}
	srv := startServer(t, sink, mailbox.WithLimits(mailbox.Limits{SenderEvery: time.Hour, SenderBurst: 2, GlobalEvery: time.Hour, GlobalBurst: 4}))
	send := func(envelope, from string) error {
		return smtp.SendMail(srv.Addr().String(), nil, envelope, []string{"privacy@sendara.example"},
			[]byte("From: "+from+"\r\nSubject: hi\r\n\r\nhello\r\n"))
	}
	steps := []struct {
		name, envelope, from string
		want                 int
		says                 string
	}{
		{"a sender's first message", "a@example.com", "a@example.com", 0, ""},
		{"its second", "a@example.com", "A@Example.com", 0, ""},
		{"its third, within the hour", "a@example.com", "a@example.com", 451, "this sender sent more"},
		{"the same From under another envelope sender", "bounce@relay.example", "a@example.com", 451, "this sender sent more"},
		{"another sender", "b@example.com", "b@example.com", 0, ""},
		{"a third sender takes the last of the global allowance", "c@example.com", "c@example.com", 0, ""},
		{"a fourth sender past the global allowance", "d@example.com", "d@example.com", 451, "the privacy mailbox receives more"},
	}
	for _, st := range steps {
		err := send(st.envelope, st.from)
		if got := smtpCode(t, err); got != st.want {
			t.Fatalf("%s: reply %d (%v), want %d", st.name, got, err, st.want)
		}
		if err != nil && (!strings.Contains(err.Error(), st.says) || !strings.Contains(err.Error(), "try again in")) {
			t.Errorf("%s: reply %q does not say %q and when to retry", st.name, err, st.says)
		}
	}
	if n := len(sink.messages()); n != 4 {
		t.Errorf("the sink holds %d messages, want the 4 accepted", n)
	}
}
