package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/sendara/console/models/auditchain"
)

// AuditFilter narrows the audit log, for the page and for exports. Every
// field left empty matches everything.
type AuditFilter struct {
	// Action and Actions are prefixes, any of which matches: "user." lists
	// every user event, "contact.view" that one action.
	Action  string
	Actions []string
	Actor   string // actor label (email or key name), exact
	// Object is an object id, or a request reference (PR-2026-000042),
	// which matches the request's own events and every event naming it.
	Object string
	// Identifier is a contact's normalized phone or email: it matches the
	// events about every contact (the viewer may see) holding it.
	Identifier string
	Address    string    // the client's IP address, exact
	CustomerID string    // one tenant's events (a customer actor only ever sees its own)
	Text       string    // a piece of the details, literally
	Since      time.Time // occurred at or after
	Until      time.Time // occurred before
	Before     int64     // keyset for newest-first pages: entries with seq below this
	Limit      int
}

// Details is the filter as it is recorded on the audit event of a view or
// an export: what was looked at.
func (f AuditFilter) Details() map[string]any {
	d := map[string]any{}
	add := func(k string, v any, set bool) {
		if set {
			d[k] = v
		}
	}
	add("actions", f.actions(), len(f.actions()) > 0)
	add("actor", f.Actor, f.Actor != "")
	add("object", f.Object, f.Object != "")
	add("identifier", f.Identifier, f.Identifier != "")
	add("address", f.Address, f.Address != "")
	add("customer_id", f.CustomerID, f.CustomerID != "")
	add("text", f.Text, f.Text != "")
	add("since", f.Since.UTC().Format(time.RFC3339), !f.Since.IsZero())
	add("until", f.Until.UTC().Format(time.RFC3339), !f.Until.IsZero())
	add("before", f.Before, f.Before > 0)
	return d
}

// Filtered reports whether f leaves entries out (beyond the tenant scope).
func (f AuditFilter) Filtered() bool {
	return len(f.actions()) > 0 || f.Actor != "" || f.Object != "" || f.Identifier != "" || f.Address != "" || f.CustomerID != "" || f.Text != "" ||
		!f.Since.IsZero() || !f.Until.IsZero()
}

// actions lists the action prefixes asked for.
func (f AuditFilter) actions() []string {
	var as []string
	for _, a := range append([]string{f.Action}, f.Actions...) {
		if a != "" {
			as = append(as, a)
		}
	}
	return as
}

var requestReference = regexp.MustCompile(`^PR-[0-9]{4}-[0-9]{6}$`)

// scope applies f (but not its keyset or limit) within the actor's tenant.
func (f AuditFilter) scope(actor Actor) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		q = q.Scopes(actor.Tenant("customer_id"))
		if actions := f.actions(); len(actions) > 0 {
			var or []string
			var args []any
			for _, a := range actions {
				or = append(or, `action LIKE ? ESCAPE '\'`)
				args = append(args, EscapeLike(a)+"%")
			}
			q = q.Where("("+strings.Join(or, " OR ")+")", args...)
		}
		if f.Actor != "" {
			q = q.Where("actor_label = ?", f.Actor)
		}
		switch {
		case requestReference.MatchString(f.Object):
			q = q.Where(`(object_id IN (SELECT CAST(id AS TEXT) FROM privacy_requests WHERE reference = ?) OR details LIKE ? ESCAPE '\')`,
				f.Object, `%"reference":"`+EscapeLike(f.Object)+`"%`)
		case f.Object != "":
			q = q.Where("object_id = ?", f.Object)
		}
		if f.Identifier != "" {
			// The contacts holding the identifier, at the customers the
			// viewer may see; the rows themselves are tenant-scoped above.
			held := actor.Tenant("customer_id")(q.Session(&gorm.Session{NewDB: true}).Table("contact_identifiers").
				Select("CAST(contact_id AS TEXT)").Where("value = ?", f.Identifier))
			q = q.Where("object_type = ? AND object_id IN (?)", "contact", held)
		}
		if f.Address != "" {
			q = q.Where("ip = ?", f.Address)
		}
		if f.CustomerID != "" {
			q = q.Where("customer_id = ?", f.CustomerID)
		}
		if f.Text != "" {
			q = q.Where(`details LIKE ? ESCAPE '\'`, "%"+EscapeLike(f.Text)+"%")
		}
		if !f.Since.IsZero() {
			q = q.Where("occurred_at >= ?", f.Since.UTC())
		}
		if !f.Until.IsZero() {
			q = q.Where("occurred_at < ?", f.Until.UTC())
		}
		return q
	}
}

// ListAudit returns audit events newest first, within the actor's tenant
// (customer admins read their own tenant's events only).
func (db *DB) ListAudit(ctx context.Context, actor Actor, f AuditFilter) ([]AuditEvent, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := db.Gorm.WithContext(ctx).Scopes(f.scope(actor)).Order("seq DESC").Limit(f.Limit)
	if f.Before > 0 {
		q = q.Where("seq < ?", f.Before)
	}
	var events []AuditEvent
	if err := q.Find(&events).Error; err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return events, nil
}

// ExportPage is how many entries an export reads per query: the
// connection is held only for one page (SQLite has just one), never while
// the entries are written to a slow reader.
const ExportPage = 1000

// ExportAudit writes every entry that f selects, oldest first, to each as
// export lines, and returns how many. The export is itself recorded first
// (who exported what), and covers the chain up to the head as it was just
// before that record, so it is a snapshot however long it takes.
func (db *DB) ExportAudit(ctx context.Context, actor Actor, f AuditFilter, each func(*auditchain.Entry) error) (int64, error) {
	head, _, err := db.AuditHead(ctx)
	if err != nil {
		return 0, err
	}
	details := f.Details()
	details["up_to_seq"] = head
	if err := db.Record(ctx, actor, Audit{Action: "audit.export", ObjectType: "audit_log",
		CustomerID: FirstNonEmptyString(actor.CustomerID, f.CustomerID), Details: details}); err != nil {
		return 0, err
	}
	var (
		n     int64
		after int64
		page  []AuditEvent
		entry auditchain.Entry
		at    []byte
	)
	for {
		page = page[:0]
		err := db.Gorm.WithContext(ctx).Scopes(f.scope(actor)).Where("seq > ? AND seq <= ?", after, head).
			Order("seq").Limit(ExportPage).Find(&page).Error
		if err != nil {
			return n, fmt.Errorf("export audit events: %w", err)
		}
		for i := range page {
			e := &page[i]
			at = auditchain.AppendCanonicalTime(at[:0], e.OccurredAt)
			entry = auditchain.Entry{Seq: e.Seq, OccurredAt: string(at), ActorType: e.ActorType, ActorID: e.ActorID,
				ActorLabel: e.ActorLabel, IP: e.IP, Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID,
				CustomerID: e.CustomerID, Details: e.Details, PrevHash: e.PrevHash, Hash: e.Hash}
			if err := each(&entry); err != nil {
				return n, err
			}
			n++
		}
		if len(page) < ExportPage {
			return n, nil
		}
		after = page[len(page)-1].Seq
	}
}

// AuditHead returns the chain's newest seq and hash.
func (db *DB) AuditHead(ctx context.Context) (int64, string, error) {
	var head AuditHead
	if err := db.Gorm.WithContext(ctx).First(&head, 1).Error; err != nil {
		return 0, "", fmt.Errorf("read audit head: %w", err)
	}
	return head.Seq, head.Hash, nil
}
