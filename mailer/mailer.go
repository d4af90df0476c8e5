// Package mailer sends the outbox: it claims the mail that models.QueueMail
// put there, hands it to the SMTP server named by CONSOLE_SMTP_URL with
// go-mail, and records the outcome. Failed attempts are retried with
// exponential backoff (1, 2, 4 … minutes, at most an hour apart); after
// the last attempt, or when the server refuses a mail outright (a 5xx to
// the recipient or the content), the mail is marked failed and stays in
// the outbox for staff to see and send again.
//
// Without CONSOLE_SMTP_URL nothing leaves the console: due mail is marked
// held ("no SMTP server configured: shown in the outbox only"). Held mail
// is not sent later on its own — a notice days late can mislead — but
// models.RequeueMail queues it again once a server is configured.
//
// Several console instances may run senders on one PostgreSQL database:
// each claims different rows (FOR UPDATE SKIP LOCKED) under a lease, so a
// mail is sent once unless a sender dies between the server's answer and
// the record of it. Then the mail goes out again after the lease (mail is
// delivered at least once), but under the Message-ID recorded before the
// first attempt, so the duplicate can be recognised and dropped.
package mailer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	outbox "github.com/sendara/console/models/outbox"

	"github.com/sendara/console/models"
	gomail "github.com/wneessen/go-mail"
)

// Defaults of a Sender.
const (
	DefaultInterval    = 15 * time.Second
	DefaultBatch       = 20
	DefaultMaxAttempts = 10
	// lease is how long a claimed mail is kept from other senders; it
	// outlasts one send (connect, TLS, auth, DATA) by far.
	lease = 10 * time.Minute
)

// HeldReason is the last_error of held mail.
const HeldReason = "no SMTP server is configured (CONSOLE_SMTP_URL is empty): this mail is shown in the outbox only"

// Backoff is the wait after the attempt-th failed attempt: 1 minute, then
// doubling, at most an hour.
func Backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 7 { // 2^6 minutes already exceeds the cap
		return time.Hour
	}
	return min(time.Minute<<(attempt-1), time.Hour)
}

// Sender delivers the outbox.
type Sender struct {
	db          *models.DB
	smtp        *SMTPConfig // nil: no server, mail is held
	from        *mail.Address
	msgIDDomain string
	log         *slog.Logger

	now         func() time.Time
	interval    time.Duration
	batch       int
	maxAttempts int
	clientOpts  []gomail.Option
	wake        chan struct{}
}

// Option adjusts a Sender.
type Option func(*Sender)

// WithClock replaces the clock (tests move time instead of sleeping).
func WithClock(now func() time.Time) Option { return func(s *Sender) { s.now = now } }

// WithInterval sets how often Run looks for due mail (default 15s).
func WithInterval(d time.Duration) Option { return func(s *Sender) { s.interval = d } }

// WithBatch sets how many mails one pass claims (default 20).
func WithBatch(n int) Option { return func(s *Sender) { s.batch = n } }

// WithMaxAttempts sets after how many failed attempts a mail is given up
// (default 10: about four hours of retries).
func WithMaxAttempts(n int) Option { return func(s *Sender) { s.maxAttempts = n } }

// WithClientOptions adds go-mail client options (a TLS config trusting a
// test server's certificate, for instance).
func WithClientOptions(opts ...gomail.Option) Option {
	return func(s *Sender) { s.clientOpts = append(s.clientOpts, opts...) }
}

// New returns a sender of db's outbox through the server smtpURL (see
// ParseSMTPURL; empty: no server, mail is held) with from as the sender
// ("Sendara Privacy <privacy@sendara.example>").
func New(db *models.DB, smtpURL, from string, log *slog.Logger, opts ...Option) (*Sender, error) {
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("the mail sender address %q is not an email address: %w", from, err)
	}
	at := strings.LastIndexByte(addr.Address, '@')
	if log == nil {
		log = slog.Default()
	}
	s := &Sender{db: db, from: addr, msgIDDomain: addr.Address[at+1:], log: log.With("component", "mailer"),
		now: time.Now, interval: DefaultInterval, batch: DefaultBatch, maxAttempts: DefaultMaxAttempts,
		wake: make(chan struct{}, 1)}
	if strings.TrimSpace(smtpURL) != "" {
		cfg, err := ParseSMTPURL(smtpURL)
		if err != nil {
			return nil, err
		}
		s.smtp = &cfg
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Configured reports whether an SMTP server is configured.
func (s *Sender) Configured() bool { return s.smtp != nil }

// Wake asks Run for a pass now rather than at its next tick (after mail
// was queued, say). It never blocks.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers due mail until ctx ends, then returns nil. A pass that
// claimed a full batch is followed at once by another.
func (s *Sender) Run(ctx context.Context) error {
	if s.smtp == nil {
		s.log.Warn("no SMTP server configured (CONSOLE_SMTP_URL): outbound mail is held in the outbox")
	} else {
		s.log.Info("sending the outbox", "smtp", s.smtp.String())
	}
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		r, err := s.DeliverOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.log.Error("outbox pass failed", "err", err)
		}
		if err == nil && r.Claimed == s.batch {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-t.C:
		}
	}
}

// Report counts what one pass did.
type Report struct {
	Claimed int // mails taken for an attempt
	Sent    int
	Retried int   // failed now, scheduled again
	Failed  int   // given up
	Held    int64 // kept back: no SMTP server
}

// DeliverOnce makes one pass: it claims due mail (at most a batch), sends
// each, and records sent, retry or failed. Without an SMTP server it marks
// due mail held instead. The error is about the outbox itself (database);
// a mail's own failure is recorded on it.
func (s *Sender) DeliverOnce(ctx context.Context) (Report, error) {
	var r Report
	now := s.now().UTC()
	if s.smtp == nil {
		n, err := s.db.HoldQueuedMail(ctx, now, HeldReason)
		r.Held = n
		return r, err
	}
	mails, err := s.db.ClaimOutbox(ctx, now, lease, s.batch)
	if err != nil {
		return r, err
	}
	r.Claimed = len(mails)
	for i := range mails {
		m := &mails[i]
		outcome, err := s.deliver(ctx, m)
		if err != nil {
			return r, err
		}
		switch outcome {
		case outbox.MailSent:
			r.Sent++
		case outbox.MailFailed:
			r.Failed++
		default:
			r.Retried++
		}
	}
	return r, nil
}

// deliver sends one claimed mail and records the outcome: sent, queued
// (retry) or failed.
func (s *Sender) deliver(ctx context.Context, m *outbox.OutboxMail) (string, error) {
	log := s.log.With("mail", m.ID, "kind", m.Kind, "attempt", m.Attempts)
	if m.LastAttemptAt != nil && m.LastError == "" {
		log.Warn("the previous attempt recorded no outcome (its sender stopped); sending again under the same Message-ID",
			"message_id", m.MessageID, "previous_attempt_at", m.LastAttemptAt)
	}
	if err := s.db.StartMailAttempt(ctx, m, m.ID+"@"+s.msgIDDomain, s.now()); err != nil {
		if errors.Is(err, outbox.ErrMailClaimLost) {
			return outbox.MailQueued, nil
		}
		return outbox.MailQueued, err
	}
	messageID := m.MessageID
	sendErr := s.send(ctx, m, messageID)
	if ctx.Err() != nil {
		// Shutting down: the attempt is not the mail's fault. The lease
		// brings it back after a while.
		return outbox.MailQueued, ctx.Err()
	}
	var err error
	outcome := outbox.MailSent
	switch {
	case sendErr == nil:
		err = s.db.MarkMailSent(ctx, m, messageID, s.now())
		if err == nil {
			log.Info("mail sent", "message_id", messageID)
		}
	case permanent(sendErr) || m.Attempts >= s.maxAttempts:
		outcome = outbox.MailFailed
		err = s.db.MarkMailFailed(ctx, m, sendErr.Error())
		log.Warn("mail given up", "err", sendErr)
	default:
		outcome = outbox.MailQueued
		next := s.now().Add(Backoff(m.Attempts))
		err = s.db.MarkMailRetry(ctx, m, next, sendErr.Error())
		log.Warn("mail not sent; will retry", "err", sendErr, "next_attempt_at", next)
	}
	if errors.Is(err, outbox.ErrMailClaimLost) {
		log.Warn("mail was taken over by another sender; its outcome is theirs to record")
		return outcome, nil
	}
	return outcome, err
}

// send hands one mail to the SMTP server.
func (s *Sender) send(ctx context.Context, m *outbox.OutboxMail, messageID string) error {
	msg := gomail.NewMsg()
	msg.FromMailAddress(s.from)
	if err := msg.To(m.ToAddr); err != nil {
		return permanentError{fmt.Errorf("the recipient %q is not usable: %w", m.ToAddr, err)}
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(s.now())
	msg.SetMessageIDWithValue(messageID)
	// RFC 3834: an automatic message; auto-responders should not answer it.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.BodyText)

	c := s.smtp
	opts := []gomail.Option{gomail.WithPort(c.Port), gomail.WithTimeout(c.Timeout), gomail.WithTLSPolicy(c.TLS)}
	if c.ImplicitTLS {
		opts = append(opts, gomail.WithSSL())
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(c.Auth), gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	if c.HELO != "" {
		opts = append(opts, gomail.WithHELO(c.HELO))
	}
	client, err := gomail.NewClient(c.Host, append(opts, s.clientOpts...)...)
	if err != nil {
		return fmt.Errorf("set up the SMTP client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*c.Timeout)
	defer cancel()
	return client.DialAndSendWithContext(ctx, msg)
}

// permanentError is a failure that no retry can fix.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// permanent reports whether the server refused the mail itself: a 5xx to
// its recipient or its content. Connection, TLS, authentication and sender
// problems are the console's configuration or the server's state, and are
// retried.
func permanent(err error) bool {
	var p permanentError
	if errors.As(err, &p) {
		return true
	}
	var se *gomail.SendError
	if !errors.As(err, &se) || se.IsTemp() || se.ErrorCode() < 500 || se.ErrorCode() > 599 {
		return false
	}
	switch se.Reason {
	case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
		return true
	}
	return false
}
