package webhooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/sendara/console/models"
	hooks "github.com/sendara/console/models/hooks"
)

// Options tune a Sender; zero values take the defaults.
type Options struct {
	Log *slog.Logger
	// Poll is how often an idle sender looks for due deliveries (default 1s).
	Poll time.Duration
	// Lease is how long a claimed delivery is this sender's before another
	// may take it (default 2 minutes, well beyond Timeout).
	Lease time.Duration
	// Timeout bounds one attempt (default 15s).
	Timeout time.Duration
	// Batch is how many deliveries one round claims and sends at once
	// (default 16).
	Batch int
	// Retry is the retry schedule (default models.DefaultWebhookRetry).
	Retry hooks.WebhookRetry
	// AllowLoopback lets deliveries reach this machine and private
	// networks (tests, a local receiver). Off, the sender connects to
	// public addresses only, whatever a URL's name resolves to, so an
	// endpoint cannot be used to reach the console's own network.
	AllowLoopback bool
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
}

// Sender claims and sends webhook deliveries.
type Sender struct {
	db     *models.DB
	opt    Options
	log    *slog.Logger
	client *http.Client
}

// New prepares a sender; Run starts it.
func New(db *models.DB, opt Options) *Sender {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Lease <= 0 {
		opt.Lease = 2 * time.Minute
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 15 * time.Second
	}
	if opt.Batch <= 0 {
		opt.Batch = 16
	}
	if opt.Retry == (hooks.WebhookRetry{}) {
		opt.Retry = hooks.DefaultWebhookRetry
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	dialer := &net.Dialer{Timeout: opt.Timeout, Control: publicOnly(opt.AllowLoopback)}
	transport := &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: opt.Timeout,
		ResponseHeaderTimeout: opt.Timeout, MaxIdleConnsPerHost: 4, Proxy: nil}
	client := &http.Client{Transport: transport, Timeout: opt.Timeout,
		// A redirect is an answer, not a delivery: following it would send
		// the payload somewhere the admin did not name.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Sender{db: db, opt: opt, client: client,
		log: opt.Log.With("webhook_sender", fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b)))}
}

// publicOnly refuses connections to loopback, private, link-local and
// other non-public addresses, checked on the address actually dialled
// (after DNS), unless allow.
func publicOnly(allow bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if allow {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook: unexpected address %q", address)
		}
		a := ap.Addr().Unmap()
		if !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
			return fmt.Errorf("webhook: %s is not a public address", a)
		}
		return nil
	}
}

// Run sends due deliveries until ctx ends. A delivery in flight when ctx
// ends is recorded as a failed attempt and retried later, by this sender
// or another.
func (s *Sender) Run(ctx context.Context) {
	s.log.Info("webhook sender started")
	t := time.NewTicker(s.opt.Poll)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			n, err := s.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Error("webhook sender", "err", err)
			}
			if n == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			s.log.Info("webhook sender stopped")
			return
		case <-t.C:
		}
	}
}

// RunOnce claims one batch of due deliveries, sends them concurrently and
// records all their outcomes in one transaction (models.RecordWebhookRound).
// It returns how many it claimed.
func (s *Sender) RunOnce(ctx context.Context) (int, error) {
	jobs, err := s.db.ClaimWebhookDeliveries(ctx, s.opt.Now(), s.opt.Lease, s.opt.Batch)
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	var wg sync.WaitGroup
	results := make([]hooks.WebhookResult, len(jobs))
	for i := range jobs {
		wg.Go(func() { results[i] = hooks.WebhookResult{Job: &jobs[i], Outcome: s.post(ctx, &jobs[i])} })
	}
	wg.Wait()
	res, err := s.db.RecordWebhookRound(context.WithoutCancel(ctx), results, s.opt.Retry)
	if err != nil {
		return len(jobs), fmt.Errorf("record %d webhook deliveries: %w", len(jobs), err)
	}
	for _, id := range res.Lost {
		s.log.Warn("webhook delivery taken over by another sender", "delivery", id)
	}
	for _, id := range res.Disabled {
		s.log.Warn("webhook endpoint disabled after failing for the retry window", "endpoint", id)
	}
	return len(jobs), nil
}

// post makes one attempt. Anything but a 2xx answer is a failure.
func (s *Sender) post(ctx context.Context, job *hooks.WebhookJob) hooks.WebhookOutcome {
	now := s.opt.Now()
	out := hooks.WebhookOutcome{At: now}
	body := []byte(job.Event.Payload)
	sig, err := Sign(job.Endpoint.Secrets(now), job.Event.ID, now, body)
	if err != nil {
		out.Err = err.Error()
		return out
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, job.Endpoint.URL, bytes.NewReader(body))
	if err != nil {
		out.Err = err.Error()
		return out
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Sendara-Privacy-Console-Webhooks/1")
	req.Header.Set(HeaderID, job.Event.ID)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(now.Unix()))
	req.Header.Set(HeaderSignature, sig)
	start := time.Now()
	resp, err := s.client.Do(req)
	out.Duration = time.Since(start)
	if err != nil {
		out.Err = err.Error()
		return out
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	out.StatusCode, out.Body = resp.StatusCode, string(excerpt)
	return out
}
