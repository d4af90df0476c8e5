package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	hooks "github.com/sendara/console/models/hooks"
	store "github.com/sendara/console/models/store"
)

// benchWebhooks measures the p99 latency of opt-out writes through the API
// (POST /api/v1/opt-outs) with three webhook endpoints that want every
// event against none, same server, same run (issue 14: within 1.1×). The
// endpoints are real HTTP receivers on loopback (the server runs with
// CONSOLE_WEBHOOK_ALLOW_LOOPBACK=1), so the server's sender claims,
// posts and records deliveries beside the writes. The two are measured in
// alternating rounds (the endpoints enabled, then disabled), at a paced
// rate well below what the database absorbs, so the p99 is each write's
// own latency and other work on the machine weighs on both alike.
func (b *bench) benchWebhooks(ctx context.Context, t *target) error {
	key, err := b.console(ctx, t, false, "apikey", "add", "--customer", "seed-1", "--name", "bench-webhooks")
	if err != nil {
		return err
	}
	key = strings.TrimSpace(key)
	var delivered atomic.Int64
	actor := store.SystemActor("bench webhooks")
	for i := range 3 {
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			delivered.Add(1)
			w.WriteHeader(http.StatusNoContent)
		}))
		defer rc.Close()
		if _, err := t.db.CreateWebhookEndpoint(ctx, actor, t.seed1, hooks.WebhookInput{URL: fmt.Sprintf("%s/hooks/%d", rc.URL, i),
			Enabled: false, EventTypes: hooks.WebhookEventTypes, AllowLoopbackHTTP: true}); err != nil {
			return fmt.Errorf("create webhook endpoint: %w", err)
		}
	}
	enable := func(on bool) error {
		return t.db.Gorm.WithContext(ctx).Exec("UPDATE webhook_endpoints SET enabled = ? WHERE customer_id = ?", on, t.seed1).Error
	}
	srv, err := b.serve(ctx, t, "CONSOLE_WEBHOOK_ALLOW_LOOPBACK=1")
	if err != nil {
		return err
	}
	defer srv.stop()
	const conns = 4
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true},
		Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	var n atomic.Int64
	prefix := "bench-wh-" + randomHex(3)
	optOut := func(*rand.Rand) (*http.Request, func(int, []byte) error) {
		body := fmt.Sprintf(`{"to": "%s-%d@example.com", "source": "api"}`, prefix, n.Add(1))
		req, _ := http.NewRequest(http.MethodPost, srv.base+"/api/v1/opt-outs", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		return req, func(status int, body []byte) error {
			if status != http.StatusCreated {
				return fmt.Errorf("opt-out answered %d %q", status, clip(body))
			}
			return nil
		}
	}
	if err := probe(client, optOut); err != nil {
		return err
	}
	// 4 connections, each one write every 200 ms: 20 writes/s in all, a
	// pace a shared two-core machine keeps up with on both databases.
	const every = 200 * time.Millisecond
	rounds := 4
	slice := b.o.duration / 2
	b.logf("%s: opt-out writes with 0 and 3 webhook endpoints, %d alternating rounds of %s each", t.name, rounds, slice)
	var none, three loadResult
	var sent int64
	for range rounds {
		if err := enable(false); err != nil {
			return err
		}
		none.add(runPaced(ctx, client, conns, time.Second/2, slice, every, optOut))
		if err := enable(true); err != nil {
			return err
		}
		before := delivered.Load()
		three.add(runPaced(ctx, client, conns, time.Second/2, slice, every, optOut))
		sent += delivered.Load() - before
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	slices.Sort(none.lat)
	slices.Sort(three.lat)
	for _, r := range []struct {
		name string
		res  loadResult
	}{{"opt-out writes, no endpoint", none}, {"opt-out writes, three endpoints", three}} {
		if r.res.errors > 0 {
			b.fail("%s on %s: %d of %d answers were wrong; the first: %s", r.name, t.name, r.res.errors, r.res.requests, r.res.firstErr)
		}
	}
	ratio := float64(three.pct(99)) / float64(max(1, none.pct(99)))
	b.add(row{t.label("opt-out writes (POST /api/v1/opt-outs, 20/s paced) with three webhook endpoints on loopback, latency"),
		fmt.Sprintf("no endpoint: p50 %s, p99 %s", ms(none.pct(50)), ms(none.pct(99))),
		fmt.Sprintf("p50 %s, p99 %s", ms(three.pct(50)), ms(three.pct(99))),
		fmt.Sprintf("%.2f (p99)", ratio), "≤ 1.1× (p99)", yes(ratio <= 1.1 && none.errors == 0 && three.errors == 0)})
	b.notes = append(b.notes, fmt.Sprintf("%s: the server's webhook sender made %s deliveries during the three-endpoint rounds (%s writes in them, %s in the rounds with none).",
		t.name, num(int(sent)), num(three.requests), num(none.requests)))
	return nil
}
