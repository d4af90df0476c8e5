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
	return db.Gorm.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		t := &Tx{G: g, Actor: actor, dialect: db.Dialect}
		if err := fn(t); err != nil {
			return err
		}
		return appendAudit(g, db.Dialect, actor, t.audits)
	})
}

// Record writes audit entries in a transaction of their own: for events
// that change nothing else (a failed login, a page view of personal data).
func (db *DB) Record(ctx context.Context, actor Actor, entries ...Audit) error {
	return db.Tx(ctx, actor, func(tx *Tx) error {
		for _, a := range entries {
			tx.Audit(a)
		}
		return nil
	})
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
