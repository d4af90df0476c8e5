package models

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// AuditEvent is one entry of the tamper-evident log. Seq is the chain
// order; Hash = sha256(PrevHash + canonical encoding of the event).
type AuditEvent struct {
	Seq        int64 `gorm:"primaryKey;autoIncrement:false"`
	OccurredAt time.Time
	ActorType  string
	ActorID    string
	ActorLabel string
	IP         string
	Action     string
	ObjectType string
	ObjectID   string
	CustomerID string
	Details    string
	PrevHash   string
	Hash       string
}

// TableName keeps the table's name stable for outside checks.
func (AuditEvent) TableName() string { return "audit_events" }

type auditHead struct {
	ID   int `gorm:"primaryKey"`
	Seq  int64
	Hash string
}

func (auditHead) TableName() string { return "audit_head" }

// Audit describes what an action did, for the log: the action's dotted name
// (user.login, customer.update), the object it touched, the tenant that
// object belongs to, and details without secrets.
type Audit struct {
	Action     string
	ObjectType string
	ObjectID   string
	CustomerID string
	Details    map[string]any
}

// canonical is the hashed form of an event: fixed field order, UTC times
// with microseconds, details as the exact stored text.
type canonical struct {
	Seq        int64  `json:"seq"`
	OccurredAt string `json:"occurred_at"`
	ActorType  string `json:"actor_type"`
	ActorID    string `json:"actor_id"`
	ActorLabel string `json:"actor_label"`
	IP         string `json:"ip"`
	Action     string `json:"action"`
	ObjectType string `json:"object_type"`
	ObjectID   string `json:"object_id"`
	CustomerID string `json:"customer_id"`
	Details    string `json:"details"`
}

const canonicalTime = "2006-01-02T15:04:05.000000Z"

// ComputeHash returns the chain hash of e given its PrevHash.
func (e *AuditEvent) ComputeHash() string {
	b, _ := json.Marshal(canonical{
		Seq: e.Seq, OccurredAt: e.OccurredAt.UTC().Format(canonicalTime),
		ActorType: e.ActorType, ActorID: e.ActorID, ActorLabel: e.ActorLabel, IP: e.IP,
		Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID,
		CustomerID: e.CustomerID, Details: e.Details,
	})
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// appendAudit chains and inserts events. It runs as the last step of the
// transaction that made the change, so the head row is locked only for the
// moment between these inserts and the commit: writers queue there briefly
// instead of for their whole transaction, and the chain has no forks or gaps.
func appendAudit(tx *gorm.DB, dialect Dialect, actor Actor, entries []Audit) error {
	if len(entries) == 0 {
		return nil
	}
	var head auditHead
	q := tx
	if dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.First(&head, 1).Error; err != nil {
		return fmt.Errorf("lock audit head: %w", err)
	}
	now := Now()
	events := make([]AuditEvent, len(entries))
	for i, a := range entries {
		details := "{}"
		if len(a.Details) > 0 {
			b, err := json.Marshal(a.Details)
			if err != nil {
				return fmt.Errorf("encode audit details of %s: %w", a.Action, err)
			}
			details = string(b)
		}
		e := AuditEvent{
			Seq: head.Seq + 1, OccurredAt: now,
			ActorType: actor.Type, ActorID: actor.ID, ActorLabel: actor.Label, IP: actor.IP,
			Action: a.Action, ObjectType: a.ObjectType, ObjectID: a.ObjectID, CustomerID: a.CustomerID,
			Details: details, PrevHash: head.Hash,
		}
		e.Hash = e.ComputeHash()
		head.Seq, head.Hash = e.Seq, e.Hash
		events[i] = e
	}
	if err := tx.Create(&events).Error; err != nil {
		return fmt.Errorf("write audit events: %w", err)
	}
	if err := tx.Model(&auditHead{}).Where("id = 1").Updates(map[string]any{"seq": head.Seq, "hash": head.Hash}).Error; err != nil {
		return fmt.Errorf("advance audit head: %w", err)
	}
	return nil
}

// ChainReport is the outcome of walking the audit chain.
type ChainReport struct {
	Entries int64
	HeadSeq int64
	// BadSeq is the first entry that is edited, inserted or missing (0 when
	// the chain is intact); Problem says which.
	BadSeq  int64
	Problem string
}

// Intact reports whether the chain verified.
func (r ChainReport) Intact() bool { return r.Problem == "" }

// VerifyAudit walks every entry in seq order, newest included, recomputing
// each hash and checking each link and the head.
func (db *DB) VerifyAudit(ctx context.Context) (ChainReport, error) {
	var rep ChainReport
	var head auditHead
	if err := db.Gorm.WithContext(ctx).First(&head, 1).Error; err != nil {
		return rep, fmt.Errorf("read audit head: %w", err)
	}
	rep.HeadSeq = head.Seq
	rows, err := db.SQL().QueryContext(ctx, `SELECT seq, occurred_at, actor_type, actor_id, actor_label, ip, action,
		object_type, object_id, customer_id, details, prev_hash, hash FROM audit_events ORDER BY seq`)
	if err != nil {
		return rep, fmt.Errorf("read audit events: %w", err)
	}
	defer rows.Close()
	var (
		e        AuditEvent
		prevHash string
		expected int64 = 1
		at       timeScanner
	)
	for rows.Next() {
		if err := rows.Scan(&e.Seq, &at, &e.ActorType, &e.ActorID, &e.ActorLabel, &e.IP, &e.Action,
			&e.ObjectType, &e.ObjectID, &e.CustomerID, &e.Details, &e.PrevHash, &e.Hash); err != nil {
			return rep, fmt.Errorf("read audit event: %w", err)
		}
		e.OccurredAt = at.t
		switch {
		case e.Seq > expected:
			return rep.fail(expected, fmt.Sprintf("entry %d is missing (the next entry is %d)", expected, e.Seq)), nil
		case e.PrevHash != prevHash:
			return rep.fail(e.Seq, fmt.Sprintf("entry %d does not link to entry %d: inserted, reordered or the previous entry was edited", e.Seq, e.Seq-1)), nil
		case e.ComputeHash() != e.Hash:
			return rep.fail(e.Seq, fmt.Sprintf("entry %d was edited: its content does not match its hash", e.Seq)), nil
		}
		prevHash = e.Hash
		expected = e.Seq + 1
		rep.Entries++
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("read audit events: %w", err)
	}
	last := expected - 1
	switch {
	case head.Seq > last:
		return rep.fail(last+1, fmt.Sprintf("entries %d to %d are missing (the chain head records %d entries)", last+1, head.Seq, head.Seq)), nil
	case head.Seq < last:
		return rep.fail(head.Seq+1, fmt.Sprintf("entry %d was inserted after the chain head (%d)", head.Seq+1, head.Seq)), nil
	case head.Hash != prevHash:
		return rep.fail(last, fmt.Sprintf("entry %d does not match the chain head's hash", last)), nil
	}
	return rep, nil
}

func (r ChainReport) fail(seq int64, problem string) ChainReport {
	r.BadSeq, r.Problem = seq, problem
	return r
}

// timeScanner reads a timestamp from either driver: PostgreSQL returns a
// time.Time, SQLite may return the stored text.
type timeScanner struct{ t time.Time }

func (s *timeScanner) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		s.t = x.UTC()
		return nil
	case string:
		return s.parse(x)
	case []byte:
		return s.parse(string(x))
	case nil:
		s.t = time.Time{}
		return nil
	}
	return fmt.Errorf("unexpected timestamp type %T", v)
}

func (s *timeScanner) parse(v string) error {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			s.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("unreadable timestamp %q", v)
}

var _ sql.Scanner = (*timeScanner)(nil)

// AuditFilter narrows the audit log view.
type AuditFilter struct {
	Action string // prefix match: "user." lists every user event
	Actor  string // actor label, exact
	Object string // object id, exact
	Before int64  // keyset: entries with seq below this; 0 for the newest
	Limit  int
}

// ListAudit returns audit events newest first, within the actor's tenant
// (customer admins read their own tenant's events only).
func (db *DB) ListAudit(ctx context.Context, actor Actor, f AuditFilter) ([]AuditEvent, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).Order("seq DESC").Limit(f.Limit)
	if f.Action != "" {
		q = q.Where("action LIKE ? ESCAPE '\\'", escapeLike(f.Action)+"%")
	}
	if f.Actor != "" {
		q = q.Where("actor_label = ?", f.Actor)
	}
	if f.Object != "" {
		q = q.Where("object_id = ?", f.Object)
	}
	if f.Before > 0 {
		q = q.Where("seq < ?", f.Before)
	}
	var events []AuditEvent
	if err := q.Find(&events).Error; err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return events, nil
}
