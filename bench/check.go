package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// known is an identifier of seed-1 and whether its contact is suppressed,
// read from the database, so every answer can be checked.
type known struct {
	Value      string
	Suppressed bool
}

// sampleIdentifiers reads n random identifiers of the customer.
func sampleIdentifiers(ctx context.Context, t *target, n int) ([]known, error) {
	var out []known
	err := t.db.Gorm.WithContext(ctx).Raw(`SELECT i.value, c.suppressed FROM contact_identifiers i
		JOIN contacts c ON c.customer_id = i.customer_id AND c.id = i.contact_id
		WHERE i.customer_id = ? ORDER BY random() LIMIT ?`, t.seed1, n).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("sample identifiers: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("seed-1 has no identifiers")
	}
	return out, nil
}

// benchCheck compares suppression checks through the API with /healthz on
// the same server, same connections, same duration.
func (b *bench) benchCheck(ctx context.Context, t *target) error {
	sample, err := sampleIdentifiers(ctx, t, 20_000)
	if err != nil {
		return err
	}
	key, err := b.console(ctx, t, false, "apikey", "add", "--customer", "seed-1", "--name", "bench")
	if err != nil {
		return err
	}
	key = strings.TrimSpace(key)
	srv, err := b.serve(ctx, t)
	if err != nil {
		return err
	}
	defer srv.stop()
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: b.o.conns, MaxIdleConnsPerHost: b.o.conns, MaxConnsPerHost: b.o.conns,
		DisableCompression: true, IdleConnTimeout: time.Minute,
	}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	label := fmt.Sprintf("suppression check, %d conns, %s contacts", b.o.conns, count(b.o.contacts))

	healthz := func(*rand.Rand) (*http.Request, func(int, []byte) error) {
		req, _ := http.NewRequest(http.MethodGet, srv.base+"/healthz", nil)
		return req, func(status int, body []byte) error {
			if status != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
				return fmt.Errorf("/healthz answered %d %q", status, clip(body))
			}
			return nil
		}
	}
	checkURLs := make([]string, len(sample))
	for i, k := range sample {
		checkURLs[i] = srv.base + "/api/v1/suppressions/check?to=" + url.QueryEscape(k.Value)
	}
	bearer := "Bearer " + key
	checkRequest := func(i int) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, checkURLs[i], nil)
		req.Header.Set("Authorization", bearer)
		return req
	}
	// Every sample's answer is first checked in full against the database
	// (checkAnswer decodes it); under load each answer must then be that
	// very answer, byte for byte. So every answer is still checked, and the
	// load generator, which shares the two cores with the console, spends no
	// more on checking a check's answer than on checking /healthz's: the
	// ratio measures the console, not the bench's JSON decoding.
	want, err := verifySamples(ctx, client, sample, checkRequest)
	if err != nil {
		b.add(row{t.label(label), "/healthz", "not measured", "—", "≥ 0.85 of /healthz, p99 ≤ 1.2× its p99", "**FAILED**"})
		return err
	}
	check := func(r *rand.Rand) (*http.Request, func(int, []byte) error) {
		i := r.IntN(len(sample))
		return checkRequest(i), func(status int, body []byte) error {
			if status == http.StatusOK && bytes.Equal(body, want[i]) {
				return nil
			}
			if err := checkAnswer(sample[i], status, body); err != nil {
				return err
			}
			return fmt.Errorf("answer for %s changed under load: %s, first %s", sample[i].Value, clip(body), clip(want[i]))
		}
	}
	// The two are measured in alternating slices, so that other work on the
	// machine weighs on both alike; the server's CPU time per request is
	// counted too, which does not depend on that other work.
	rounds := 5
	slice := b.o.duration / time.Duration(rounds)
	b.logf("%s: /healthz and suppression checks, %d connections, %d alternating rounds of %s each", t.name, b.o.conns, rounds, slice)
	runLoad(ctx, client, b.o.conns, b.o.warmup, 0, healthz)
	runLoad(ctx, client, b.o.conns, b.o.warmup, 0, check)
	var base, got loadResult
	for range rounds {
		base.add(b.measure(ctx, t, srv, client, slice, healthz))
		got.add(b.measure(ctx, t, srv, client, slice, check))
	}
	slices.Sort(base.lat)
	slices.Sort(got.lat)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	for _, r := range []struct {
		name string
		res  loadResult
	}{{"/healthz", base}, {"suppression check", got}} {
		if r.res.errors > 0 {
			b.fail("%s on %s: %d of %d answers were wrong; the first: %s", r.name, t.name, r.res.errors, r.res.requests, r.res.firstErr)
		}
	}
	cpu := fmt.Sprintf("%s: server CPU per request: /healthz %s, suppression check %s (console %s",
		t.name, us(base.cpuPerRequest()), us(got.cpuPerRequest()), us(got.serverCPU/time.Duration(max(1, got.requests))))
	if t.dialect == "postgres" {
		cpu += fmt.Sprintf(" + PostgreSQL backends %s", us(got.dbCPU/time.Duration(max(1, got.requests))))
	}
	b.notes = append(b.notes, cpu+fmt.Sprintf("); the load generator's own CPU per request: /healthz %s, suppression check %s.",
		us(base.benchCPU/time.Duration(max(1, base.requests))), us(got.benchCPU/time.Duration(max(1, got.requests)))))
	// The console answers checks from an in-memory index of the suppressed
	// identifiers: its memory is part of the price.
	b.notes = append(b.notes, fmt.Sprintf("%s: the console's peak resident memory after the load (VmHWM): %.0f MB.",
		t.name, vmHWM(strconv.Itoa(srv.cmd.Process.Pid))))
	// Under 64 connections kept busy the two cores queue every request, so
	// the p99 above is mostly waiting, /healthz's too. The same load at half
	// /healthz's throughput, paced, shows each request's own latency.
	every := time.Duration(float64(b.o.conns) / (base.rps() / 2) * float64(time.Second))
	paced := func(next func(*rand.Rand) (*http.Request, func(int, []byte) error)) loadResult {
		return runPaced(ctx, client, b.o.conns, b.o.warmup/2, slice*2, every, next)
	}
	pacedBase, pacedGot := paced(healthz), paced(check)
	if pacedGot.errors > 0 {
		b.fail("paced suppression checks on %s: %d of %d answers were wrong; the first: %s", t.name, pacedGot.errors, pacedGot.requests, pacedGot.firstErr)
	}
	pacedRow := row{t.label(fmt.Sprintf("suppression check, %d conns paced to %s req/s in all (half the /healthz throughput), latency", b.o.conns, num(int(base.rps()/2)))),
		fmt.Sprintf("/healthz p50 %s, p99 %s", ms(pacedBase.pct(50)), ms(pacedBase.pct(99))),
		fmt.Sprintf("p50 %s, p99 %s (%s req/s)", ms(pacedGot.pct(50)), ms(pacedGot.pct(99)), num(int(pacedGot.rps()))),
		fmt.Sprintf("%.3f (p99)", float64(pacedGot.pct(99))/float64(max(1, pacedBase.pct(99)))),
		"p99 ≤ 1.2× /healthz's", yes(float64(pacedGot.pct(99)) <= 1.2*float64(pacedBase.pct(99)) && pacedGot.errors == 0)}
	// Three decimals: at two, a p99 ratio of 1.204 read "1.20" beside "no".
	ratio := got.rps() / base.rps()
	b.add(row{t.label(label + ", throughput"), fmt.Sprintf("/healthz %s req/s", num(int(base.rps()))),
		fmt.Sprintf("%s req/s", num(int(got.rps()))), fmt.Sprintf("%.3f", ratio), "≥ 0.85", yes(ratio >= 0.85 && got.errors == 0)})
	p99 := got.pct(99)
	b.add(row{t.label(label + ", latency"), fmt.Sprintf("/healthz p50 %s, p99 %s", ms(base.pct(50)), ms(base.pct(99))),
		fmt.Sprintf("p50 %s, p99 %s", ms(got.pct(50)), ms(p99)), fmt.Sprintf("%.3f (p99)", float64(p99)/float64(base.pct(99))),
		"p99 ≤ 1.2× /healthz's", yes(float64(p99) <= 1.2*float64(base.pct(99)) && got.errors == 0)})
	b.add(pacedRow)
	return nil
}

// checkAnswer checks one suppression check's answer against the database.
func checkAnswer(k known, status int, body []byte) error {
	if status != http.StatusOK {
		return fmt.Errorf("GET /api/v1/suppressions/check?to=%s answered %d %s", k.Value, status, clip(body))
	}
	var a struct {
		To         string  `json:"to"`
		Suppressed *bool   `json:"suppressed"`
		Reason     *string `json:"reason"`
		Since      *string `json:"since"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return fmt.Errorf("answer for %s is not JSON: %v: %s", k.Value, err, clip(body))
	}
	switch {
	case a.To != k.Value:
		return fmt.Errorf("answer for %s names %q", k.Value, a.To)
	case a.Suppressed == nil || *a.Suppressed != k.Suppressed:
		return fmt.Errorf("answer for %s says suppressed=%v, the database %v: %s", k.Value, a.Suppressed, k.Suppressed, clip(body))
	case k.Suppressed && (a.Reason == nil || *a.Reason != "opt_out" || a.Since == nil):
		return fmt.Errorf("answer for suppressed %s lacks reason opt_out or since: %s", k.Value, clip(body))
	case !k.Suppressed && (a.Reason != nil || a.Since != nil):
		return fmt.Errorf("answer for unsuppressed %s has a reason or since: %s", k.Value, clip(body))
	}
	return nil
}

// verifySamples asks for every sample once, sixteen at a time, checks each
// answer in full (checkAnswer) and returns the answers. The first fails
// loudly if the endpoint is missing or broken, instead of as a million
// errors.
func verifySamples(ctx context.Context, client *http.Client, sample []known, request func(int) *http.Request) ([][]byte, error) {
	if err := verifySample(ctx, client, sample, request, 0, nil); err != nil {
		return nil, err
	}
	want := make([][]byte, len(sample))
	var next atomic.Int64
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(sample) {
					errs <- nil
					return
				}
				if err := verifySample(ctx, client, sample, request, i, &want[i]); err != nil {
					next.Store(int64(len(sample)))
					errs <- err
					return
				}
			}
		}()
	}
	var first error
	for range 16 {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return want, first
}

func verifySample(ctx context.Context, client *http.Client, sample []known, request func(int) *http.Request, i int, keep *[]byte) error {
	resp, err := client.Do(request(i).WithContext(ctx))
	if err != nil {
		return fmt.Errorf("suppression check: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("suppression check: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return fmt.Errorf("%w: GET /api/v1/suppressions/check answered %d %s — the API endpoint of DESIGN §5 is not built yet "+
			"(grep -n suppressions handlers/*.go); only /healthz could be measured", errEndpointMissing, resp.StatusCode, clip(body))
	}
	if err := checkAnswer(sample[i], resp.StatusCode, body); err != nil {
		return err
	}
	if keep != nil {
		*keep = body
	}
	return nil
}

// loadResult is one closed-loop load phase, or the sum of several.
type loadResult struct {
	requests  int
	errors    int
	firstErr  string
	elapsed   time.Duration
	lat       []time.Duration // sorted
	serverCPU time.Duration   // CPU time of the console process
	benchCPU  time.Duration   // CPU time of this process: the load generator
	dbCPU     time.Duration   // CPU time of the PostgreSQL backends serving the bench database
}

func (r *loadResult) add(o loadResult) {
	r.requests += o.requests
	r.errors += o.errors
	if r.firstErr == "" {
		r.firstErr = o.firstErr
	}
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
	r.serverCPU += o.serverCPU
	r.benchCPU += o.benchCPU
	r.dbCPU += o.dbCPU
}

func (r loadResult) cpuPerRequest() time.Duration {
	return (r.serverCPU + r.dbCPU) / time.Duration(max(1, r.requests))
}

// measure runs one slice of load and counts the server's CPU time over it.
func (b *bench) measure(ctx context.Context, t *target, srv *server, client *http.Client, d time.Duration,
	next func(*rand.Rand) (*http.Request, func(int, []byte) error)) loadResult {
	pid := srv.cmd.Process.Pid
	db0, s0, l0 := b.backendCPU(ctx, t), procCPU(pid), selfCPU()
	r := runLoad(ctx, client, b.o.conns, 0, d, next)
	r.serverCPU, r.benchCPU = procCPU(pid)-s0, selfCPU()-l0
	db1 := b.backendCPU(ctx, t)
	for p, c := range db1 {
		r.dbCPU += c - db0[p]
	}
	return r
}

func (r loadResult) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func (r loadResult) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p/100))]
}

// runLoad keeps conns requests in flight (each worker sends its next
// request when the last one is answered) for warmup, then records every
// request that starts and ends within the next dur.
func runLoad(ctx context.Context, client *http.Client, conns int, warmup, dur time.Duration,
	next func(*rand.Rand) (*http.Request, func(int, []byte) error)) loadResult {
	return runPaced(ctx, client, conns, warmup, dur, 0, next)
}

// runPaced is runLoad with each connection sending at most one request per
// every (0: as fast as answers come). Paced, a request's latency counts
// from when it was due, not when it went out, so a slow answer that delays
// the next request is not hidden (coordinated omission).
func runPaced(ctx context.Context, client *http.Client, conns int, warmup, dur, every time.Duration,
	next func(*rand.Rand) (*http.Request, func(int, []byte) error)) loadResult {
	const (
		warming = iota
		measuring
		stopped
	)
	var phase atomic.Int32
	type worker struct {
		lat      []time.Duration
		errors   int
		firstErr string
	}
	workers := make([]worker, conns)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			var buf bytes.Buffer
			me := &workers[w]
			me.lat = make([]time.Duration, 0, 1<<16)
			// Connections start spread over one interval.
			due := time.Now().Add(time.Duration(rng.Int64N(int64(max(every, 1)))))
			for phase.Load() != stopped && ctx.Err() == nil {
				req, check := next(rng)
				inWindow := phase.Load() == measuring
				start := time.Now()
				if every > 0 {
					if wait := time.Until(due); wait > 0 {
						time.Sleep(wait)
					}
					start, due = due, due.Add(every)
				}
				resp, err := client.Do(req.WithContext(ctx))
				if err == nil {
					buf.Reset()
					_, err = buf.ReadFrom(resp.Body)
					resp.Body.Close()
				}
				took := time.Since(start)
				if !inWindow || phase.Load() != measuring {
					continue
				}
				if err == nil {
					err = check(resp.StatusCode, buf.Bytes())
				}
				if err != nil {
					if me.errors == 0 {
						me.firstErr = err.Error()
					}
					me.errors++
				}
				me.lat = append(me.lat, took)
			}
		}()
	}
	sleep(ctx, warmup)
	if dur <= 0 {
		phase.Store(stopped)
		wg.Wait()
		return loadResult{}
	}
	phase.Store(measuring)
	start := time.Now()
	sleep(ctx, dur)
	phase.Store(stopped)
	res := loadResult{elapsed: time.Since(start)}
	wg.Wait()
	for _, w := range workers {
		res.lat = append(res.lat, w.lat...)
		res.errors += w.errors
		if res.firstErr == "" {
			res.firstErr = w.firstErr
		}
	}
	res.requests = len(res.lat)
	slices.Sort(res.lat)
	return res
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// us formats a duration in microseconds.
func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// count formats a round size as 1M or 100k, any other with separators.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 10_000 && n%1_000 == 0:
		return fmt.Sprintf("%dk", n/1_000)
	}
	return num(n)
}

// num formats an integer with thousands separators.
func num(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// probe sends one request first, so a missing or broken endpoint fails
// loudly at once instead of as a million errors.
func probe(client *http.Client, next func(*rand.Rand) (*http.Request, func(int, []byte) error)) error {
	req, check := next(rand.New(rand.NewPCG(1, 2)))
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return fmt.Errorf("%w: %s %s answered %d %s — the API endpoint of DESIGN §5 is not built yet",
			errEndpointMissing, req.Method, req.URL.Path, resp.StatusCode, clip(body))
	}
	return check(resp.StatusCode, body)
}

// selfCPU is the CPU time (user and system) this process has used: the
// load generator shares the machine's cores with the console.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
