package webhooks_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	consent "github.com/sendara/console/models/consent"
	hooks "github.com/sendara/console/models/hooks"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// TestOnlyPlainBookkeepingCommitsWithoutWaitingForTheDisk: on PostgreSQL
// the sender's claim and the record of a round in which every delivery
// succeeded or will be retried commit with synchronous_commit off (a crash
// can take them back; the deliveries are then sent again with the same
// webhook-id). A round that gives a delivery up writes audit entries, and
// an audit checkpoint must never name an entry a crash can take back: its
// transaction commits as every audited change does. Nothing of the
// setting outlives its transaction on the pool's connections.
func TestOnlyPlainBookkeepingCommitsWithoutWaitingForTheDisk(t *testing.T) {
	f := newFixture(t)
	if f.db.Dialect != store.Postgres {
		t.Skip("synchronous_commit is PostgreSQL's; SQLite commits are what its journal makes them")
	}
	// What each transaction's synchronous_commit was when it wrote: asked
	// on the transaction's own connection just before the statement (after
	// it, a query's rows still hold the connection).
	var mu sync.Mutex
	seen := map[string][]string{}
	probe := func(g *gorm.DB) {
		if g.Error != nil {
			return
		}
		q := g.Statement.SQL.String()
		var what string
		switch {
		case strings.HasPrefix(q, "UPDATE webhook_deliveries SET attempts"):
			what = "claim"
		case strings.HasPrefix(q, "UPDATE webhook_deliveries SET status"):
			what = "round"
		case g.Statement.Table == "audit_events":
			what = "audit"
		case g.Statement.Table == "consent_events":
			what = "opt-out"
		default:
			return
		}
		var setting string
		if err := g.Statement.ConnPool.QueryRowContext(g.Statement.Context, "SHOW synchronous_commit").Scan(&setting); err != nil {
			t.Errorf("%s: SHOW synchronous_commit: %v", what, err)
			return
		}
		mu.Lock()
		seen[what] = append(seen[what], setting)
		mu.Unlock()
	}
	cb := f.db.Gorm.Callback()
	for _, err := range []error{
		cb.Row().Before("gorm:row").Register("test:commit-mode", probe),
		cb.Raw().Before("gorm:raw").Register("test:commit-mode", probe),
		cb.Create().Before("gorm:create").Register("test:commit-mode", probe),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	take := func() map[string][]string {
		mu.Lock()
		defer mu.Unlock()
		got := seen
		seen = map[string][]string{}
		return got
	}
	want := func(stage string, got map[string][]string, what, setting string) {
		t.Helper()
		if len(got[what]) == 0 {
			t.Errorf("%s: no %s statement seen (seen: %v)", stage, what, got)
		}
		for _, s := range got[what] {
			if s != setting {
				t.Errorf("%s: the %s statement's transaction ran with synchronous_commit = %s, want %s", stage, what, s, setting)
			}
		}
	}

	f.endpoint(hooks.EventOptedOut)
	f.rc.fail = func(r received, _ int) bool {
		ids, _ := r.data["identifiers"].([]any)
		return len(ids) == 1 && ids[0] == "+14155550001"
	}
	f.consent(consent.OptOut, "+14155550000")
	f.consent(consent.OptOut, "+14155550001")
	got := take()
	want("opt-outs", got, "opt-out", "on")
	want("opt-outs", got, "audit", "on")

	// One delivered, one failed and due again: plain bookkeeping.
	if n, err := f.sender().RunOnce(f.ctx); err != nil || n != 2 {
		t.Fatalf("first round: %d, %v", n, err)
	}
	got = take()
	want("a plain round", got, "claim", "off")
	want("a plain round", got, "round", "off")
	if len(got["audit"]) != 0 {
		t.Errorf("a plain round wrote audit entries: %v", got)
	}

	// Past the retry window the failing delivery is given up: audited.
	f.clock.Advance(2 * time.Hour)
	if n, err := f.sender().RunOnce(f.ctx); err != nil || n != 1 {
		t.Fatalf("give-up round: %d, %v", n, err)
	}
	got = take()
	want("the give-up round", got, "claim", "off")
	want("the give-up round", got, "round", "on")
	want("the give-up round", got, "audit", "on")

	// SET LOCAL, not SET: every pooled connection is back to the server's
	// setting. Holding as many connections as the pool has open takes each
	// idle one.
	pool, err := f.db.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	open := pool.Stats().OpenConnections
	conns := make([]*sql.Conn, 0, open)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range open {
		c, err := pool.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var setting string
		if err := c.QueryRowContext(context.Background(), "SHOW synchronous_commit").Scan(&setting); err != nil {
			t.Fatal(err)
		}
		if setting != "on" {
			t.Errorf("a pooled connection kept synchronous_commit = %s after the sender's transactions", setting)
		}
	}
}
