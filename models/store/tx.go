package store

import (
	"context"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// Tx is a database transaction that carries the actor and collects audit
// entries; they are chained and written just before the commit, so a change
// and its audit trail land together or not at all.
type Tx struct {
	G       *gorm.DB
	Actor   Actor
	Dialect Dialect
	Keys    *Keyring
	Audits  []Audit
	// StatusLink turns a requester status token into its URL (UseStatusLinks).
	StatusLink func(token string) string
}

// Audit records an audit entry to be written with this transaction.
func (t *Tx) Audit(a Audit) { t.Audits = append(t.Audits, a) }

// Tx runs fn in one transaction as actor. If fn returns an error nothing is
// written, audit entries included.
func (db *DB) Tx(ctx context.Context, actor Actor, fn func(tx *Tx) error) error {
	if err := db.RawTx(ctx, actor, fn); err != nil {
		return err
	}
	db.Committed(ctx)
	return nil
}

// RawTx is Tx without the after-commit hook: a caller that commits several
// transactions in a row calls Committed once, itself, after the last.
func (db *DB) RawTx(ctx context.Context, actor Actor, fn func(tx *Tx) error) error {
	return db.Gorm.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		t := &Tx{G: g, Actor: actor, Dialect: db.Dialect, Keys: db.Keys, StatusLink: db.StatusLink}
		if err := fn(t); err != nil {
			return err
		}
		return AppendAudit(g, db.Dialect, actor, t.Audits)
	})
}

// Committed runs the after-commit hook before the caller answers: the
// suppression index (package consent) sets one that replays the change, so a
// change acknowledged here is in every later check here. Writes outside Tx
// call it themselves.
func (db *DB) Committed(ctx context.Context) {
	if hook := db.afterCommit.Load(); hook != nil {
		(*hook)(context.WithoutCancel(ctx))
	}
}

// OnCommit sets the hook committed runs after every write (one per store).
func (db *DB) OnCommit(hook func(context.Context)) { db.afterCommit.Store(&hook) }

// Record writes audit entries for events that change nothing else (a
// failed login, a page view of personal data) and returns once they are
// committed. Concurrent calls share one transaction (group commit): every
// audited write takes the chain's head, so one commit per call would cap
// the log at one disk flush per entry. The suppression index has nothing
// to replay.
func (db *DB) Record(ctx context.Context, actor Actor, entries ...Audit) error {
	if len(entries) == 0 {
		return nil
	}
	call := &recordCall{entries: make([]Audit, len(entries)), done: make(chan error, 1)}
	for i, a := range entries {
		enc, err := a.detailsJSON() // a bad entry fails its own call only
		if err != nil {
			return err
		}
		a.actor, a.encoded = &actor, enc
		call.entries[i] = a
	}
	return db.records.add(ctx, db, call)
}

// recordBatch gathers concurrent Record calls. The first call to find no
// writer running starts one: it writes everything pending in one
// transaction, then whatever arrived meanwhile, until nothing is left, and
// each call returns as soon as its own transaction has committed.
type recordBatch struct {
	mu      sync.Mutex
	pending []*recordCall
	writing bool
}

type recordCall struct {
	entries []Audit
	done    chan error
}

// maxRecordBatch bounds one transaction: 500 calls of a few entries.
const maxRecordBatch = 500

func (b *recordBatch) add(ctx context.Context, db *DB, call *recordCall) error {
	b.mu.Lock()
	b.pending = append(b.pending, call)
	start := !b.writing
	b.writing = true
	b.mu.Unlock()
	if start {
		// The writer carries other callers' entries: it does not stop
		// when this caller's request ends.
		go b.write(context.WithoutCancel(ctx), db)
	}
	select {
	case err := <-call.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *recordBatch) write(ctx context.Context, db *DB) {
	for {
		b.mu.Lock()
		n := min(len(b.pending), maxRecordBatch)
		calls := b.pending[:n:n]
		b.pending = b.pending[n:]
		if n == 0 {
			b.writing = false
		}
		b.mu.Unlock()
		if n == 0 {
			return
		}
		var entries []Audit
		for _, c := range calls {
			entries = append(entries, c.entries...)
		}
		err := db.RawTx(ctx, SystemActor(""), func(tx *Tx) error {
			tx.Audits = entries
			return nil
		})
		for _, c := range calls {
			c.done <- err
		}
	}
}

func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
