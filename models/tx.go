package models

import (
	"context"
	"strings"

	"gorm.io/gorm"
)

// Tx is a database transaction that carries the actor and collects audit
// entries; they are chained and written just before the commit, so a change
// and its audit trail land together or not at all.
type Tx struct {
	G       *gorm.DB
	Actor   Actor
	dialect Dialect
	audits  []Audit
}

// Audit records an audit entry to be written with this transaction.
func (t *Tx) Audit(a Audit) { t.audits = append(t.audits, a) }

// Tx runs fn in one transaction as actor. If fn returns an error nothing is
// written, audit entries included.
func (db *DB) Tx(ctx context.Context, actor Actor, fn func(tx *Tx) error) error {
	if err := db.tx(ctx, actor, fn); err != nil {
		return err
	}
	db.Committed(ctx)
	return nil
}

func (db *DB) tx(ctx context.Context, actor Actor, fn func(tx *Tx) error) error {
	return db.Gorm.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		t := &Tx{G: g, Actor: actor, dialect: db.Dialect}
		if err := fn(t); err != nil {
			return err
		}
		return appendAudit(g, db.Dialect, actor, t.audits)
	})
}

// Committed brings this process's suppression index up to date after a
// write committed, before the caller answers: a change acknowledged here is
// in every later check here. Writes outside Tx call it themselves. A failed
// replay is logged by the index, which then defers to the database.
func (db *DB) Committed(ctx context.Context) {
	if ix := db.index(); ix != nil {
		if err := ix.catchUp(context.WithoutCancel(ctx)); err != nil {
			ix.log.Error("suppression index: replay after commit failed; checks read the database until it succeeds", "err", err)
		}
	}
}

// Record writes audit entries in a transaction of their own: for events
// that change nothing else (a failed login, a page view of personal data),
// so the suppression index has nothing to replay.
func (db *DB) Record(ctx context.Context, actor Actor, entries ...Audit) error {
	return db.tx(ctx, actor, func(tx *Tx) error {
		for _, a := range entries {
			tx.Audit(a)
		}
		return nil
	})
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
