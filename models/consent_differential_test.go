package models_test

import (
	imports "github.com/sendara/console/models/imports"

	consent "github.com/sendara/console/models/consent"

	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	errs "github.com/sendara/console/models/errs"
	"github.com/sendara/console/models/modeltest"

	store "github.com/sendara/console/models/store"
)

// diffModel is the consent rule played out in memory with the pure
// functions alone (DecideConsent on ConsentStanding): the oracle the
// database's paths are compared with.
type diffModel struct {
	contactOf map[string]int // identifier → contact
	ledgers   [][]consent.ConsentEvent
	keys      map[string]bool
	rec       int // recorded order
}

func (m *diffModel) contact(value string, create bool) (int, bool) {
	if c, ok := m.contactOf[value]; ok {
		return c, true
	}
	if !create {
		return -1, false
	}
	m.ledgers = append(m.ledgers, nil)
	m.contactOf[value] = len(m.ledgers) - 1
	return len(m.ledgers) - 1, false
}

func (m *diffModel) ledger(value string) []consent.ConsentEvent {
	if c, ok := m.contactOf[value]; ok {
		return m.ledgers[c]
	}
	return nil
}

// diffOp is one generated consent event: through RecordConsent before the
// batch, or a row of the batch.
type diffOp struct {
	value, kind, reason, channel, key string
	hour                              int
}

func (o diffOp) String() string {
	return fmt.Sprintf("%s %s/%s %s h%d key=%q", o.value, o.kind, o.reason, o.channel, o.hour, o.key)
}

// diffStanding writes a standing per channel as the lookup holds it.
func diffStanding(s map[string]consent.ConsentState, t0 time.Time) string {
	var out []string
	for _, ch := range consent.Channels {
		st, ok := s[ch]
		if !ok {
			continue
		}
		state := "reachable"
		if st.Suppressed {
			state = "suppressed/" + st.Reason
		}
		out = append(out, fmt.Sprintf("%s:%s@%g", ch, state, st.Since.Sub(t0).Hours()))
	}
	return strings.Join(out, " ")
}

// TestConsentDecisionDifferential generates ledgers (opt-outs, opt-ins and
// restrictions through RecordConsent, some sharing identifiers' contacts
// or idempotency keys) and then a batch of opt-outs (repeated keys and
// identifiers, equal times), and compares what the database did with the
// pure rule: each RecordConsent's outcome, the batch's counts, and every
// identifier's standing, flags and ledger length. On SQLite the batch runs
// BulkOptOuts' Go path; with CONSOLE_TEST_DB naming PostgreSQL, its
// set-based path.
func TestConsentDecisionDifferential(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	path := "Go path (SQLite)"
	if db.Dialect == store.Postgres {
		path = "set-based path (PostgreSQL)"
	}
	pool := []string{bulkP1, bulkP2, bulkE1}
	channels := []string{consent.ChannelIMessage, consent.ChannelFaceTime, consent.ChannelAll}
	cases := 60
	if testing.Short() {
		cases = 15
	}
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-10 * 24 * time.Hour)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	for seed := 1; seed <= cases; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 0x5e1da7a))
		key := func(p float64, n int) string {
			if rng.Float64() >= p {
				return ""
			}
			return fmt.Sprintf("k%d", rng.IntN(n)+1)
		}
		c := mustCustomer(t, db, fmt.Sprintf("diff-%d", seed))
		m := &diffModel{contactOf: map[string]int{}, keys: map[string]bool{}}
		var log []string
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d, %s: %s\nafter:\n  %s", seed, path, fmt.Sprintf(format, args...), strings.Join(log, "\n  "))
		}

		// One person known by a phone and an email, sometimes.
		if rng.IntN(3) == 0 {
			bulkContact(t, db, c, bulkP1, bulkE1)
			ci, _ := m.contact(bulkP1, true)
			m.contactOf[bulkE1] = ci
			log = append(log, "contact "+bulkP1+" + "+bulkE1)
		}

		// The ledger before the batch, event by event (the row path).
		for range rng.IntN(5) {
			op := diffOp{value: pool[rng.IntN(len(pool))], channel: channels[rng.IntN(3)], hour: rng.IntN(12), key: key(0.3, 4)}
			switch r := rng.IntN(20); {
			case r < 10:
				op.kind, op.reason = consent.OptOut, consent.ReasonOptOut
			case r < 17:
				op.kind = consent.OptIn
			default:
				op.kind, op.reason = consent.OptOut, consent.ReasonRestriction
			}
			log = append(log, "record "+op.String())
			in := consent.ConsentInput{To: op.value, Kind: op.kind, Reason: op.reason, Channel: op.channel, OccurredAt: at(op.hour), IdempotencyKey: op.key}
			if op.kind == consent.OptIn {
				in.Evidence = "web form"
			}
			res, err := db.RecordConsent(ctx, modeltest.Staff, c.ID, in, "US")

			var wantErr error
			wantChanged := false
			if op.key == "" || !m.keys[op.key] {
				appends, derr := consent.DecideConsent(consent.ConsentStanding(m.ledger(op.value)), consent.ConsentChange{
					Kind: op.kind, Reason: op.reason, Channel: op.channel, OccurredAt: at(op.hour)})
				wantErr, wantChanged = derr, appends
				if derr == nil {
					ci, _ := m.contact(op.value, true)
					if appends {
						m.rec++
						m.ledgers[ci] = append(m.ledgers[ci], consent.ConsentEvent{ID: fmt.Sprintf("r%d", m.rec), Kind: op.kind, Reason: op.reason,
							Channel: op.channel, OccurredAt: at(op.hour), RecordedAt: t0.Add(time.Duration(m.rec) * time.Second)})
						if op.key != "" {
							m.keys[op.key] = true
						}
					}
				}
			}
			var gotCE, wantCE *errs.ConflictError
			switch {
			case wantErr != nil && (!errors.As(err, &gotCE) || !errors.As(wantErr, &wantCE) || gotCE.Field != wantCE.Field):
				fail("RecordConsent: error %v, the rule says %v", err, wantErr)
			case wantErr == nil && err != nil:
				fail("RecordConsent: error %v, the rule says it is recorded or a no-op", err)
			case err == nil && res.Changed != wantChanged:
				fail("RecordConsent: changed %v, the rule says %v", res.Changed, wantChanged)
			}
		}

		// The batch: opt-outs only, as an import sends them.
		var rows []imports.BulkOptOut
		var ops []diffOp
		for range 1 + rng.IntN(8) {
			op := diffOp{value: pool[rng.IntN(len(pool))], kind: consent.OptOut, reason: consent.ReasonOptOut,
				channel: channels[rng.IntN(3)], hour: rng.IntN(12), key: key(0.6, 5)}
			ops = append(ops, op)
			rows = append(rows, imports.BulkOptOut{Identifier: bulkIdent(op.value), Channel: op.channel, Evidence: "list.csv",
				OccurredAt: at(op.hour), IdempotencyKey: op.key})
			log = append(log, "batch "+op.String())
		}
		got := runBulk(t, db, c, rows)

		var want imports.BulkResult
		batchKeys := map[string]bool{}
		batchAt := t0.Add(time.Duration(m.rec+1) * time.Second)
		for i, op := range ops {
			if op.key != "" && (batchKeys[op.key] || m.keys[op.key]) {
				want.Unchanged++
				continue
			}
			if op.key != "" {
				batchKeys[op.key] = true
			}
			ci, known := m.contact(op.value, true)
			if !known {
				want.ContactsCreated++
			}
			appends, err := consent.DecideConsent(consent.ConsentStanding(m.ledgers[ci]), consent.ConsentChange{
				Kind: op.kind, Reason: op.reason, Channel: op.channel, OccurredAt: at(op.hour)})
			if err != nil {
				fail("the rule refused batch row %d: %v", i+1, err)
			}
			if !appends {
				want.Unchanged++
				continue
			}
			want.Applied++
			m.ledgers[ci] = append(m.ledgers[ci], consent.ConsentEvent{ID: fmt.Sprintf("b%d", i), Kind: op.kind, Reason: op.reason,
				Channel: op.channel, OccurredAt: at(op.hour), RecordedAt: batchAt})
		}
		if got != want {
			fail("batch %+v, the rule says %+v", got, want)
		}

		// Every identifier's standing, flags and ledger.
		for _, value := range pool {
			var rows []struct {
				ContactID  string
				Channel    string
				Suppressed bool
				Reason     string
				Since      time.Time
			}
			err := db.Gorm.Raw(`SELECT i.contact_id, s.channel, s.suppressed, s.reason, s.since
				FROM contact_identifiers i
				LEFT JOIN consent_states s ON s.customer_id = i.customer_id AND s.contact_id = i.contact_id
				WHERE i.customer_id = ? AND i.value = ?`, c.ID, value).Scan(&rows).Error
			if err != nil {
				t.Fatal(err)
			}
			ci, known := m.contact(value, false)
			if len(rows) == 0 {
				if known {
					fail("%s has no contact, the rule made one", value)
				}
				continue
			}
			if !known {
				fail("%s has a contact, the rule made none", value)
			}
			gotStates := map[string]consent.ConsentState{}
			for _, r := range rows {
				if r.Channel != "" {
					gotStates[r.Channel] = consent.ConsentState{Channel: r.Channel, Suppressed: r.Suppressed, Reason: r.Reason, Since: r.Since}
				}
			}
			wantStates := consent.ConsentStanding(m.ledgers[ci])
			if g, w := diffStanding(gotStates, t0), diffStanding(wantStates, t0); g != w {
				fail("standing of %s: %q, the rule says %q", value, g, w)
			}
			wantSuppressed, wantRestricted := false, false
			for _, s := range wantStates {
				wantSuppressed = wantSuppressed || s.Suppressed
				wantRestricted = wantRestricted || (s.Suppressed && s.Reason == consent.ReasonRestriction)
			}
			if g, w := bulkContactRow(t, db, c, value), fmt.Sprintf("suppressed=%v restricted=%v events=%d", wantSuppressed, wantRestricted, len(m.ledgers[ci])); g != w {
				fail("contact of %s: %s, the rule says %s", value, g, w)
			}
			// The check answers from the same standing.
			for _, ch := range channels {
				s, err := db.CheckSuppression(ctx, c.ID, bulkIdent(value), ch)
				if err != nil {
					t.Fatal(err)
				}
				asked := []string{ch}
				if ch == consent.ChannelAll {
					asked = consent.Channels
				}
				wantS := slices.ContainsFunc(asked, func(a string) bool { return wantStates[a].Suppressed })
				if s.Suppressed != wantS {
					fail("check of %s on %s: suppressed %v, the rule says %v", value, ch, s.Suppressed, wantS)
				}
			}
		}
	}
}
