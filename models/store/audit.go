package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/sendara/console/models/auditchain"
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

type AuditHead struct {
	ID   int `gorm:"primaryKey"`
	Seq  int64
	Hash string
}

func (AuditHead) TableName() string { return "audit_head" }

// Audit describes what an action did, for the log: the action's dotted name
// (user.login, customer.update), the object it touched, the tenant that
// object belongs to, and details without secrets.
type Audit struct {
	Action     string
	ObjectType string
	ObjectID   string
	CustomerID string
	Details    map[string]any

	// Set by Record, which writes many callers' entries in one
	// transaction: who acted, and the details already encoded.
	actor   *Actor
	encoded string
}

// ComputeHash returns the chain hash of e given its PrevHash.
func (e *AuditEvent) ComputeHash() string {
	var at [len(auditchain.CanonicalTime)]byte
	var buf [512]byte
	text := e.text()
	var sum [sha256.Size * 2]byte
	auditchain.HashInto(&sum, auditchain.AppendHashInput(buf[:0], e.PrevHash, e.Seq, auditchain.AppendCanonicalTime(at[:0], e.OccurredAt), &text))
	return string(sum[:])
}

// text returns e's hashed text fields in the order of auditchain.TextFields.
func (e *AuditEvent) text() [auditchain.NumText]string {
	return [...]string{e.ActorType, e.ActorID, e.ActorLabel, e.IP, e.Action, e.ObjectType, e.ObjectID, e.CustomerID, e.Details}
}

// AppendAudit chains and inserts events. It runs as the last step of the
// transaction that made the change, so the head row is locked only for the
// moment between these inserts and the commit: writers queue there briefly
// instead of for their whole transaction, and the chain has no forks or gaps.
func AppendAudit(tx *gorm.DB, dialect Dialect, actor Actor, entries []Audit) error {
	if len(entries) == 0 {
		return nil
	}
	var head AuditHead
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
		details, err := a.detailsJSON()
		if err != nil {
			return err
		}
		by := actor
		if a.actor != nil {
			by = *a.actor
		}
		e := AuditEvent{
			Seq: head.Seq + 1, OccurredAt: now,
			ActorType: by.Type, ActorID: by.ID, ActorLabel: by.Label, IP: by.IP,
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
	if err := tx.Model(&AuditHead{}).Where("id = 1").Updates(map[string]any{"seq": head.Seq, "hash": head.Hash}).Error; err != nil {
		return fmt.Errorf("advance audit head: %w", err)
	}
	return nil
}

// detailsJSON is the stored form of the details: a JSON object.
func (a *Audit) detailsJSON() (string, error) {
	if a.encoded != "" {
		return a.encoded, nil
	}
	if len(a.Details) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(a.Details)
	if err != nil {
		return "", fmt.Errorf("encode audit details of %s: %w", a.Action, err)
	}
	return string(b), nil
}

// ChainReport is the outcome of walking the audit chain.
type ChainReport struct {
	Entries int64
	// HeadSeq and HeadHash are the chain's head when the walk began: what
	// a checkpoint signs and an auditor writes down.
	HeadSeq  int64
	HeadHash string
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
	framed := false
	if db.Dialect == SQLite {
		// Framed rows carry the stored bytes of each text, which are its
		// UTF-8 only in a UTF-8 database (the default, and all we create).
		var enc string
		if err := db.SQL().QueryRowContext(ctx, "PRAGMA encoding").Scan(&enc); err != nil {
			return ChainReport{}, fmt.Errorf("read database encoding: %w", err)
		}
		framed = enc == "UTF-8"
	}
	rep, err := db.verifyAudit(ctx, framed)
	if errors.Is(err, errUnusualRow) {
		// Walk again, reading every column as the driver converts it.
		rep, err = db.verifyAudit(ctx, false)
	}
	return rep, err
}

// auditColumns reads the chain column by column, as the driver converts
// each: PostgreSQL's walk, and SQLite's fallback.
const auditColumns = `SELECT seq, occurred_at, actor_type, actor_id, actor_label, ip, action,
	object_type, object_id, customer_id, details, prev_hash, hash FROM audit_events ORDER BY seq`

// auditFrames reads each SQLite row as one blob: seq and the byte length of
// each column, then ";" and the columns' stored bytes back to back. The
// SQLite driver's cost is per column (a declared-type lookup, two copies and
// mutex round trips for each), and one column instead of thirteen more than
// halves the walk. The bytes are exact: the text columns have TEXT affinity,
// so they hold text or blobs, never numbers, and a NULL anywhere makes the
// whole frame NULL.
const auditFrames = `SELECT CAST(printf('%d %d %d %d %d %d %d %d %d %d %d %d %d;', seq,
	octet_length(occurred_at), octet_length(actor_type), octet_length(actor_id), octet_length(actor_label),
	octet_length(ip), octet_length(action), octet_length(object_type), octet_length(object_id),
	octet_length(customer_id), octet_length(details), octet_length(prev_hash), octet_length(hash))
	|| occurred_at || actor_type || actor_id || actor_label || ip || action || object_type || object_id
	|| customer_id || details || prev_hash || hash AS BLOB) FROM audit_events ORDER BY seq`

// errUnusualRow ends a framed walk at a row it cannot read exactly as the
// driver would: a timestamp in any form but the one the driver writes, or a
// frame not as auditFrames builds it (a NULL).
var errUnusualRow = errors.New("audit row unusual for a framed read")

// auditRow is one entry as verifyAudit reads it, without copies: its byte
// slices are valid until the next row is read.
type auditRow struct {
	seq            int64
	occurredAt     []byte // canonical time text, in a buffer reused row to row
	text           [auditchain.NumText][]byte
	prevHash, hash []byte
}

// verifyAudit is one walk of the chain, framed (auditFrames) or column by
// column (auditColumns). It reuses its buffers and hashes without
// allocating: verification rehashes the whole log.
func (db *DB) verifyAudit(ctx context.Context, framed bool) (ChainReport, error) {
	var rep ChainReport
	var head AuditHead
	if err := db.Gorm.WithContext(ctx).First(&head, 1).Error; err != nil {
		return rep, fmt.Errorf("read audit head: %w", err)
	}
	rep.HeadSeq = head.Seq
	query, read := auditColumns, columnReader()
	if framed {
		query, read = auditFrames, frameReader()
	}
	rows, err := db.SQL().QueryContext(ctx, query)
	if err != nil {
		return rep, fmt.Errorf("read audit events: %w", err)
	}
	defer rows.Close()
	var (
		r      auditRow
		atHead []byte // the hash of the entry the head named when the walk began
		walk   = auditchain.Walk{FromGenesis: true}
	)
	for rows.Next() {
		if err := read(rows, &r); err != nil {
			if errors.Is(err, errUnusualRow) {
				return rep, err
			}
			return rep, fmt.Errorf("read audit event: %w", err)
		}
		if err := walk.Next(r.seq, r.occurredAt, &r.text, r.prevHash, r.hash); err != nil {
			var b *auditchain.Break
			if errors.As(err, &b) {
				return rep.fail(b.Seq, b.Problem), nil
			}
			return rep, err
		}
		if r.seq == head.Seq {
			atHead = append(atHead, walk.LastHash()...)
		}
		rep.Entries++
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("read audit events: %w", err)
	}
	last := walk.LastSeq
	switch {
	case head.Seq > last:
		return rep.fail(last+1, fmt.Sprintf("entries %d to %d are missing (the chain head records %d entries)", last+1, head.Seq, head.Seq)), nil
	case head.Hash != string(atHead):
		return rep.fail(head.Seq, fmt.Sprintf("entry %d does not match the chain head's hash", head.Seq)), nil
	case head.Seq < last:
		// The head was read before the walk: entries past it are either
		// appended while the walk ran, and the head has moved on to cover
		// them, or inserted behind the chain's back.
		var now AuditHead
		if err := db.Gorm.WithContext(ctx).First(&now, 1).Error; err != nil {
			return rep, fmt.Errorf("read audit head: %w", err)
		}
		if now.Seq < last {
			return rep.fail(now.Seq+1, fmt.Sprintf("entry %d was inserted after the chain head (%d)", now.Seq+1, now.Seq)), nil
		}
	}
	rep.HeadHash = head.Hash
	return rep, nil
}

// columnReader reads rows of auditColumns, scanning as VerifyAudit always
// has (NULL text is an error, as before) and copying the texts into
// buffers reused row to row.
func columnReader() func(*sql.Rows, *auditRow) error {
	var (
		seq  int64
		at   TimeScanner
		text [auditchain.NumText + 2]string // then prev_hash and hash
		bufs [len(text)][]byte
	)
	dest := []any{&seq, &at}
	for i := range text {
		dest = append(dest, &text[i])
	}
	return func(rows *sql.Rows, r *auditRow) error {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		for i, s := range text {
			bufs[i] = append(bufs[i][:0], s...)
		}
		r.seq, r.occurredAt = seq, auditchain.AppendCanonicalTime(r.occurredAt[:0], at.T)
		copy(r.text[:], bufs[:])
		r.prevHash, r.hash = bufs[len(bufs)-2], bufs[len(bufs)-1]
		return nil
	}
}

// frameReader reads rows of auditFrames.
func frameReader() func(*sql.Rows, *auditRow) error {
	var frame sql.RawBytes
	return func(rows *sql.Rows, r *auditRow) error {
		if err := rows.Scan(&frame); err != nil {
			return err
		}
		if !r.parseFrame(frame) {
			return errUnusualRow
		}
		return nil
	}
}

// parseFrame splits a row of auditFrames into r. It reports false if the
// frame is not as auditFrames builds it or the timestamp is not in the form
// the driver writes.
func (r *auditRow) parseFrame(frame []byte) bool {
	header, body, ok := bytes.Cut(frame, []byte(";"))
	if !ok {
		return false
	}
	num, header, _ := bytes.Cut(header, []byte(" "))
	seq, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		return false
	}
	// occurred_at, the texts, prev_hash and hash: lengths, then bytes.
	var cols [1 + auditchain.NumText + 2][]byte
	var lens [len(cols)]int
	total := 0
	for i := range lens {
		num, header, _ = bytes.Cut(header, []byte(" "))
		if lens[i], err = strconv.Atoi(string(num)); err != nil || lens[i] < 0 || lens[i] > len(body) {
			return false
		}
		total += lens[i]
	}
	if len(header) != 0 || total != len(body) {
		return false
	}
	for i, n := range lens {
		cols[i], body = body[:n], body[n:]
	}
	if r.occurredAt, ok = auditchain.AppendStoredUTCTime(r.occurredAt[:0], cols[0]); !ok {
		return false
	}
	r.seq = seq
	copy(r.text[:], cols[1:])
	r.prevHash, r.hash = cols[len(cols)-2], cols[len(cols)-1]
	return true
}

func (r ChainReport) fail(seq int64, problem string) ChainReport {
	r.BadSeq, r.Problem = seq, problem
	return r
}

// TimeScanner reads a timestamp from either driver: PostgreSQL returns a
// time.Time, SQLite may return the stored text.
type TimeScanner struct{ T time.Time }

func (s *TimeScanner) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		s.T = x.UTC()
		return nil
	case string:
		return s.parse(x)
	case []byte:
		return s.parse(string(x))
	case nil:
		s.T = time.Time{}
		return nil
	}
	return fmt.Errorf("unexpected timestamp type %T", v)
}

func (s *TimeScanner) parse(v string) error {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			s.T = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("unreadable timestamp %q", v)
}

var _ sql.Scanner = (*TimeScanner)(nil)
