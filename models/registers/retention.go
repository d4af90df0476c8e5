package registers

import (
	consent "github.com/sendara/console/models/consent"
	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	fulfilment "github.com/sendara/console/models/fulfilment"

	requests "github.com/sendara/console/models/requests"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// Retention categories.
const (
	RetainCommunications = "communications"
	RetainInboundMail    = "inbound_mail"
	RetainOutboxBodies   = "outbox_bodies"
	RetainClosedRequests = "closed_requests"
	RetainImportFiles    = "import_files"
	RetainBundles        = "bundles"
	RetainSessions       = "sessions"
	// RetainCancelledAccounts is the reactivation window of a cancelled
	// customer: once it ends, the account's data is deleted (cancellation.go).
	RetainCancelledAccounts = "cancelled_accounts"
)

// RetentionCategory describes one kind of data a rule applies to: what the
// sweeper does with it once its age passes the rule, and the shortest rule
// the law allows.
type RetentionCategory struct {
	Key     string
	Label   string
	Age     string // what the age is counted from
	Effect  string // what a sweep does to a row that is due
	MinDays int
	// MinReason is the message when a shorter rule is refused.
	MinReason string
}

// RetentionCategories lists the categories in the order the page shows them.
var RetentionCategories = []RetentionCategory{
	{Key: RetainCommunications, Label: "Communication records", Age: "when the message or call happened",
		Effect: "deleted", MinDays: 1},
	{Key: RetainInboundMail, Label: "Raw inbound mail", Age: "when it was received",
		Effect: "deleted, unless its request is still open", MinDays: 1},
	{Key: RetainOutboxBodies, Label: "Outbox bodies", Age: "when the mail was queued",
		Effect: "the text of sent, failed or held mail is cleared; who it went to and when stay", MinDays: 1},
	{Key: RetainClosedRequests, Label: "Closed privacy requests", Age: "when the request was closed",
		Effect:  "the requester's details, subject identifiers, timeline, verification links, bundles and mail are removed; reference, type, dates and outcome stay for the yearly metrics",
		MinDays: 730, MinReason: "must be at least 730 days (24 months): CCPA §7101 requires the request log to be kept that long"},
	{Key: RetainImportFiles, Label: "Uploaded import files", Age: "when the import finished",
		Effect: "the stored file and its bad-row list are deleted; the import's counts stay", MinDays: 1},
	{Key: RetainBundles, Label: "Access and portability bundles", Age: "when the bundle was made",
		Effect: "the bundle's data is cleared; its size and checksum stay", MinDays: 1},
	{Key: RetainSessions, Label: "Sign-in sessions", Age: "when the session expired",
		Effect: "deleted", MinDays: 1},
	{Key: RetainCancelledAccounts, Label: "Cancelled customers' accounts", Age: "when the customer cancelled (the reactivation window)",
		Effect: "the account is closed: contacts, consent history, replies, communication records, import files and users are deleted, keys revoked; opted-out identifiers stay as keyed hashes", MinDays: 1},
}

// KeptForever names what no rule sweeps, and why; the page says so.
var KeptForever = []struct{ Label, Why string }{
	{"Audit log", "append-only hash chain: removing entries would break the proof that the log is complete (triggers refuse deletes)"},
	{"Suppression list (erased identifiers)", "keyed hashes only, kept so an erased person is never messaged again, also after a CRM re-import"},
}

// maxRetentionDays bounds a rule: ten years covers tax and limitation
// periods; a longer need is a hold.
const maxRetentionDays = 3650

// sweepBatch is the most rows one sweep transaction removes.
const sweepBatch = 1000

// RetentionCategoryOf returns the category with key.
func RetentionCategoryOf(key string) (RetentionCategory, bool) {
	i := slices.IndexFunc(RetentionCategories, func(c RetentionCategory) bool { return c.Key == key })
	if i < 0 {
		return RetentionCategory{}, false
	}
	return RetentionCategories[i], true
}

// RetentionRule is how many days a category is kept.
type RetentionRule struct {
	Category  string `gorm:"primaryKey"`
	Days      int
	UpdatedAt time.Time
	UpdatedBy string
}

// TableName is retention_rules.
func (RetentionRule) TableName() string { return "retention_rules" }

// RetentionRules returns every rule in the page's order. Only staff read
// them.
func (db *RegisterStore) RetentionRules(ctx context.Context, actor store.Actor) ([]RetentionRule, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	return retentionRules(db.Gorm.WithContext(ctx))
}

func retentionRules(g *gorm.DB) ([]RetentionRule, error) {
	var rs []RetentionRule
	if err := g.Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("read retention rules: %w", err)
	}
	order := func(key string) int {
		return slices.IndexFunc(RetentionCategories, func(c RetentionCategory) bool { return c.Key == key })
	}
	slices.SortFunc(rs, func(a, b RetentionRule) int { return order(a.Category) - order(b.Category) })
	return rs, nil
}

// SetRetentionDays changes how long a category is kept, as typed on the
// page. A rule below the category's legal minimum is refused with the
// reason. The change is audited with the days before and after.
func (db *RegisterStore) SetRetentionDays(ctx context.Context, actor store.Actor, category, days string) (*RetentionRule, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	cat, ok := RetentionCategoryOf(category)
	if !ok {
		return nil, errs.Invalid("category", "is not a retention category")
	}
	n, err := strconv.Atoi(strings.TrimSpace(days))
	switch {
	case err != nil:
		return nil, errs.Invalid("days", "must be a whole number of days")
	case n < cat.MinDays && cat.MinReason != "":
		return nil, errs.Invalid("days", "%s", cat.MinReason)
	case n < cat.MinDays:
		return nil, errs.Invalid("days", "must be at least %d", cat.MinDays)
	case n > maxRetentionDays:
		return nil, errs.Invalid("days", "must be at most %d (ten years); place a hold to keep data longer", maxRetentionDays)
	}
	var r RetentionRule
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := tx.G.First(&r, "category = ?", cat.Key).Error; err != nil {
			return fmt.Errorf("read retention rule: %w", err)
		}
		before := r.Days
		r.Days, r.UpdatedAt, r.UpdatedBy = n, store.Now(), actor.Label
		if err := tx.G.Save(&r).Error; err != nil {
			return fmt.Errorf("save retention rule: %w", err)
		}
		tx.Audit(store.Audit{Action: "retention.rule_change", ObjectType: "retention_rule", ObjectID: cat.Key,
			Details: map[string]any{"days": map[string]any{"before": before, "after": n}}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// RetentionHold stops the sweeper for all of a customer's data, or for one
// privacy request (its record, mail and bundles). Holds on a contact or an
// identifier are LegalHolds, which the sweeper respects as well.
type RetentionHold struct {
	ID         string `gorm:"primaryKey"`
	CustomerID *string
	RequestID  *string
	Reason     string
	CreatedBy  string
	CreatedAt  time.Time
	ReleasedAt *time.Time
	ReleasedBy string
}

// TableName is retention_holds.
func (RetentionHold) TableName() string { return "retention_holds" }

// RetentionHoldView is a hold with the names the page shows.
type RetentionHoldView struct {
	RetentionHold
	CustomerName string // the customer held, or the request's
	Reference    string // the request held
}

// RetentionHoldInput places a hold on a customer (by id) or a request (by
// its reference); exactly one is given.
type RetentionHoldInput struct {
	CustomerID string
	Reference  string
	Reason     string
}

// PlaceRetentionHold stops the sweeper for a customer or a request until
// the hold is released. Audited as retention_hold.place.
func (db *RegisterStore) PlaceRetentionHold(ctx context.Context, actor store.Actor, in RetentionHoldInput) (*RetentionHold, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	reason, err := fulfilment.HoldReason(in.Reason)
	if err != nil {
		return nil, err
	}
	in.CustomerID, in.Reference = strings.TrimSpace(in.CustomerID), strings.ToUpper(strings.TrimSpace(in.Reference))
	if (in.CustomerID == "") == (in.Reference == "") {
		return nil, errs.Invalid("customer", "choose a customer or give a request reference (one of the two)")
	}
	h := &RetentionHold{ID: uuid.Must(uuid.NewV7()).String(), Reason: reason, CreatedBy: actor.Label, CreatedAt: store.Now()}
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		details := map[string]any{"reason": reason}
		tenant := ""
		if in.CustomerID != "" {
			if !store.ValidID(in.CustomerID) {
				return errs.Invalid("customer", "choose a customer")
			}
			if err := customers.RequireCustomer(tx, in.CustomerID); err != nil {
				return errs.Invalid("customer", "choose a customer")
			}
			h.CustomerID, tenant = &in.CustomerID, in.CustomerID
		} else {
			var r requests.PrivacyRequest
			if err := tx.G.Select("id", "reference", "customer_id").First(&r, "reference = ?", in.Reference).Error; err != nil {
				if errors.Is(err, gorm.ErrRecordNotFound) {
					return errs.Invalid("reference", "no request has the reference %s", in.Reference)
				}
				return fmt.Errorf("find request: %w", err)
			}
			h.RequestID, details["request"] = &r.ID, r.Reference
			tenant = store.DerefString(r.CustomerID)
		}
		if err := tx.G.Create(h).Error; err != nil {
			return fmt.Errorf("place retention hold: %w", err)
		}
		tx.Audit(store.Audit{Action: "retention_hold.place", ObjectType: "retention_hold", ObjectID: h.ID, CustomerID: tenant, Details: details})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// ReleaseRetentionHold ends a hold: what it kept is swept by the next run
// if its rule says so. Audited as retention_hold.release.
func (db *RegisterStore) ReleaseRetentionHold(ctx context.Context, actor store.Actor, id string) error {
	if !actor.Staff() || !store.ValidID(id) {
		return store.ErrNotFound
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		var h RetentionHold
		if err := tx.G.First(&h, "id = ?", id).Error; err != nil {
			return store.NotFound(err)
		}
		if h.ReleasedAt != nil {
			return &errs.ConflictError{Field: "hold", Message: "this hold was already released by " + h.ReleasedBy}
		}
		if err := tx.G.Model(&h).Where("released_at IS NULL").
			Updates(map[string]any{"released_at": store.Now(), "released_by": actor.Label}).Error; err != nil {
			return fmt.Errorf("release retention hold: %w", err)
		}
		tx.Audit(store.Audit{Action: "retention_hold.release", ObjectType: "retention_hold", ObjectID: h.ID,
			CustomerID: store.DerefString(h.CustomerID), Details: map[string]any{"reason": h.Reason, "placed_by": h.CreatedBy}})
		return nil
	})
}

// RetentionHolds lists the active holds on customers and requests, newest
// first, with the names the page shows.
func (db *RegisterStore) RetentionHolds(ctx context.Context, actor store.Actor) ([]RetentionHoldView, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	var out []RetentionHoldView
	err := db.Gorm.WithContext(ctx).Table("retention_holds h").
		Select("h.*, COALESCE(c.name, rc.name, '') AS customer_name, COALESCE(r.reference, '') AS reference").
		Joins("LEFT JOIN privacy_requests r ON r.id = h.request_id").
		Joins("LEFT JOIN customers c ON c.id = h.customer_id").
		Joins("LEFT JOIN customers rc ON rc.id = r.customer_id").
		Where("h.released_at IS NULL").Order("h.created_at DESC").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list retention holds: %w", err)
	}
	return out, nil
}

// ActiveLegalHolds counts the holds on contacts and identifiers, which the
// sweeper respects as well (they are placed from a request's page).
func (db *RegisterStore) ActiveLegalHolds(ctx context.Context, actor store.Actor) (int64, error) {
	var n int64
	if err := db.Gorm.WithContext(ctx).Model(&consent.LegalHold{}).Scopes(actor.Tenant("customer_id")).
		Where("released_at IS NULL").Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count legal holds: %w", err)
	}
	return n, nil
}

// What a hold keeps, as SQL: a customer under hold, a request under hold.
const (
	heldCustomers = "SELECT customer_id FROM retention_holds WHERE customer_id IS NOT NULL AND released_at IS NULL"
	heldRequests  = "SELECT request_id FROM retention_holds WHERE request_id IS NOT NULL AND released_at IS NULL"
	closedStatus  = "('completed', 'denied', 'withdrawn')"
)

// sweepTarget is how the sweeper finds and removes one category's due rows.
type sweepTarget struct {
	table  string
	id     string // the key column
	tenant string // the customer column; "" when rows belong to no customer
	// where selects the due rows (the table is unaliased); args follow.
	where func(s *sweepScope) (string, []any)
	// apply removes the rows with these keys inside tx.
	apply func(tx *store.Tx, s *sweepScope, ids []string) error
}

// sweepScope is what every category's query needs: the cutoffs and the
// contacts held by an identifier hash (computed in Go: only the hash is
// stored).
type sweepScope struct {
	cutoff       map[string]time.Time
	hashHeld     []string // contact ids held through an identifier hash
	retentionFor map[string]int
	key          []byte // the keyed hash's key (identifierHash)
}

func notHeldCustomer(column string) string {
	return "(" + column + " IS NULL OR " + column + " NOT IN (" + heldCustomers + "))"
}

func notHeldRequest(column string) string {
	return "(" + column + " IS NULL OR " + column + " NOT IN (" + heldRequests + "))"
}

var sweepTargets = map[string]sweepTarget{
	RetainCommunications: {table: "communications", id: "id", tenant: "customer_id",
		where: func(s *sweepScope) (string, []any) {
			w := "occurred_at < ? AND " + notHeldCustomer("customer_id") +
				" AND contact_id NOT IN (SELECT contact_id FROM legal_holds WHERE released_at IS NULL AND contact_id IS NOT NULL)"
			args := []any{s.cutoff[RetainCommunications]}
			if len(s.hashHeld) > 0 {
				w += " AND contact_id NOT IN ?"
				args = append(args, s.hashHeld)
			}
			return w, args
		},
		apply: func(tx *store.Tx, _ *sweepScope, ids []string) error {
			return tx.G.Exec("DELETE FROM communications WHERE id IN ?", ids).Error
		}},
	RetainInboundMail: {table: "inbound_mail", id: "id", tenant: "customer_id",
		where: func(s *sweepScope) (string, []any) {
			return "received_at < ? AND " + notHeldCustomer("customer_id") + " AND " + notHeldRequest("request_id") +
					" AND (request_id IS NULL OR request_id IN (SELECT id FROM privacy_requests WHERE status IN " + closedStatus + "))",
				[]any{s.cutoff[RetainInboundMail]}
		},
		apply: func(tx *store.Tx, _ *sweepScope, ids []string) error {
			return tx.G.Exec("DELETE FROM inbound_mail WHERE id IN ?", ids).Error
		}},
	RetainOutboxBodies: {table: "outbox", id: "id", tenant: "customer_id",
		where: func(s *sweepScope) (string, []any) {
			return "created_at < ? AND status IN ('sent', 'failed', 'held') AND body_text <> '' AND " +
				notHeldCustomer("customer_id") + " AND " + notHeldRequest("request_id"), []any{s.cutoff[RetainOutboxBodies]}
		},
		apply: func(tx *store.Tx, _ *sweepScope, ids []string) error {
			return tx.G.Exec("UPDATE outbox SET body_text = '' WHERE id IN ?", ids).Error
		}},
	RetainClosedRequests: {table: "privacy_requests", id: "id", tenant: "customer_id",
		where: func(s *sweepScope) (string, []any) {
			return "status IN " + closedStatus + " AND COALESCE(completed_at, updated_at) < ?" +
					" AND id NOT IN (SELECT request_id FROM swept_requests) AND id NOT IN (" + heldRequests + ") AND " +
					notHeldCustomer("customer_id") +
					" AND id NOT IN (SELECT request_id FROM routed_tasks WHERE customer_id IN (" + heldCustomers + "))",
				[]any{s.cutoff[RetainClosedRequests]}
		},
		apply: sweepRequests},
	RetainImportFiles: {table: "import_jobs", id: "id", tenant: "customer_id",
		where: func(s *sweepScope) (string, []any) {
			return "status IN ('done', 'failed', 'cancelled') AND COALESCE(finished_at, created_at) < ? AND " +
					notHeldCustomer("customer_id") +
					" AND (id IN (SELECT job_id FROM import_chunks) OR id IN (SELECT job_id FROM import_bad_rows))",
				[]any{s.cutoff[RetainImportFiles]}
		},
		apply: func(tx *store.Tx, _ *sweepScope, ids []string) error {
			if err := tx.G.Exec("DELETE FROM import_chunks WHERE job_id IN ?", ids).Error; err != nil {
				return err
			}
			return tx.G.Exec("DELETE FROM import_bad_rows WHERE job_id IN ?", ids).Error
		}},
	RetainBundles: {table: "request_exports", id: "id", tenant: "customer_id",
		where: func(s *sweepScope) (string, []any) {
			return "data IS NOT NULL AND created_at < ? AND " + notHeldCustomer("customer_id") + " AND " + notHeldRequest("request_id"),
				[]any{s.cutoff[RetainBundles]}
		},
		apply: func(tx *store.Tx, _ *sweepScope, ids []string) error {
			return tx.G.Exec("UPDATE request_exports SET data = NULL WHERE id IN ?", ids).Error
		}},
	RetainSessions: {table: "sessions", id: "id_hash",
		where: func(s *sweepScope) (string, []any) {
			return "expires_at < ?", []any{s.cutoff[RetainSessions]}
		},
		apply: func(tx *store.Tx, _ *sweepScope, ids []string) error {
			return tx.G.Exec("DELETE FROM sessions WHERE id_hash IN ?", ids).Error
		}},
	RetainCancelledAccounts: {table: "customers", id: "id", tenant: "id",
		where: func(s *sweepScope) (string, []any) {
			return "status = 'cancelled' AND cancelled_at < ? AND id NOT IN (" + heldCustomers + ")", []any{s.cutoff[RetainCancelledAccounts]}
		},
		apply: closeCustomers},
}

// sweepRequests removes the personal data of closed requests: requester
// details, subject identifiers, timeline, verification links, bundles,
// received mail and the text and address of mail sent about them. The
// row stays (reference, type, regime, dates, outcome) for the metrics, and
// its timeline says what the sweep removed.
func sweepRequests(tx *store.Tx, _ *sweepScope, ids []string) error {
	now := store.Now()
	steps := []struct{ what, sql string }{
		{"request details", "UPDATE privacy_requests SET requester_name = '', requester_email = '', requester_phone = '', proof = '', " +
			"subject_identifiers = '[]', details = '', verification_note = '', denial_reason = '' WHERE id IN ?"},
		{"subject identifiers", "DELETE FROM request_identifiers WHERE request_id IN ?"},
		{"timeline", "DELETE FROM request_events WHERE request_id IN ?"},
		{"verification links", "DELETE FROM request_verifications WHERE request_id IN ?"},
		{"bundles", "UPDATE request_exports SET data = NULL WHERE request_id IN ?"},
		{"received mail", "DELETE FROM inbound_mail WHERE request_id IN ?"},
		{"sent mail", "UPDATE outbox SET body_text = '', to_addr = '' WHERE request_id IN ?"},
	}
	for _, s := range steps {
		if err := tx.G.Exec(s.sql, ids).Error; err != nil {
			return fmt.Errorf("remove %s: %w", s.what, err)
		}
	}
	for _, id := range ids {
		if err := tx.G.Exec("INSERT INTO swept_requests (request_id, swept_at) VALUES (?, ?)", id, now).Error; err != nil {
			return fmt.Errorf("record swept request: %w", err)
		}
		ev := store.RequestEvent{RequestID: id, ID: uuid.Must(uuid.NewV7()).String(), At: now, ActorType: tx.Actor.Type,
			ActorLabel: tx.Actor.Label, Kind: "retention",
			Text: "Retention period over: the requester's details, identifiers, timeline and mail were removed."}
		if err := tx.G.Create(&ev).Error; err != nil {
			return fmt.Errorf("note the sweep on the timeline: %w", err)
		}
	}
	return nil
}

// RetentionCount is how many rows of one category one customer has due
// (CustomerID empty: rows that belong to no customer, such as staff
// sessions and mail to requesters).
type RetentionCount struct {
	Category     string
	CustomerID   string
	CustomerName string
	Count        int64
}

// RetentionPreview is the dry run: what a sweep at now would remove, per
// customer and category, as counts. Nothing is changed; the preview is
// audited (retention.preview) with the totals per category.
func (db *RegisterStore) RetentionPreview(ctx context.Context, actor store.Actor, now time.Time) ([]RetentionCount, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	g := db.Gorm.WithContext(ctx)
	s, err := db.sweepScope(ctx, g, now)
	if err != nil {
		return nil, err
	}
	counts, err := dueCounts(g, s)
	if err != nil {
		return nil, err
	}
	if err := nameCustomers(g, counts); err != nil {
		return nil, err
	}
	totals := map[string]int64{}
	for _, c := range counts {
		totals[c.Category] += c.Count
	}
	return counts, db.Record(ctx, actor, store.Audit{Action: "retention.preview", ObjectType: "retention",
		Details: map[string]any{"due": totals}})
}

func (db *RegisterStore) sweepScope(ctx context.Context, g *gorm.DB, now time.Time) (*sweepScope, error) {
	rules, err := retentionRules(g)
	if err != nil {
		return nil, err
	}
	s := &sweepScope{cutoff: map[string]time.Time{}, retentionFor: map[string]int{}}
	for _, r := range rules {
		s.cutoff[r.Category] = now.AddDate(0, 0, -r.Days)
		s.retentionFor[r.Category] = r.Days
	}
	if s.key, err = db.ErasureKey(ctx); err != nil {
		return nil, err
	}
	if s.hashHeld, err = hashHeldContacts(g, s.key); err != nil {
		return nil, err
	}
	return s, nil
}

// hashHeldContacts finds the contacts that a hold on an identifier hash
// keeps: only the hash is stored, so the held customers' identifiers are
// hashed to find them. Such holds are rare (an identifier named in a
// litigation), and only their customers are read.
func hashHeldContacts(g *gorm.DB, key []byte) ([]string, error) {
	var holds []consent.LegalHold
	if err := g.Where("released_at IS NULL AND identifier_hash IS NOT NULL").Find(&holds).Error; err != nil {
		return nil, fmt.Errorf("read legal holds: %w", err)
	}
	byCustomer := map[string]map[string]bool{}
	for _, h := range holds {
		if byCustomer[h.CustomerID] == nil {
			byCustomer[h.CustomerID] = map[string]bool{}
		}
		byCustomer[h.CustomerID][*h.IdentifierHash] = true
	}
	var held []string
	for customerID, hashes := range byCustomer {
		rows, err := g.Table("contact_identifiers").Select("contact_id, value").Where("customer_id = ?", customerID).Rows()
		if err != nil {
			return nil, fmt.Errorf("read identifiers under hold: %w", err)
		}
		for rows.Next() {
			var contactID, value string
			if err := rows.Scan(&contactID, &value); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read identifiers under hold: %w", err)
			}
			if hashes[consent.IdentifierHash(key, customerID, value)] {
				held = append(held, contactID)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read identifiers under hold: %w", err)
		}
	}
	return store.Dedupe(held), nil
}

func dueCounts(g *gorm.DB, s *sweepScope) ([]RetentionCount, error) {
	var out []RetentionCount
	for _, cat := range RetentionCategories {
		t := sweepTargets[cat.Key]
		where, args := t.where(s)
		var rows []struct {
			CustomerID *string
			N          int64
		}
		q := g.Table(t.table).Where(where, args...)
		if t.tenant == "" {
			q = q.Select("COUNT(*) AS n")
		} else {
			q = q.Select(t.tenant + " AS customer_id, COUNT(*) AS n").Group(t.tenant)
		}
		if err := q.Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("count due %s: %w", cat.Key, err)
		}
		for _, r := range rows {
			if r.N > 0 {
				out = append(out, RetentionCount{Category: cat.Key, CustomerID: store.DerefString(r.CustomerID), Count: r.N})
			}
		}
	}
	return out, nil
}

func nameCustomers(g *gorm.DB, counts []RetentionCount) error {
	var ids []string
	for _, c := range counts {
		if c.CustomerID != "" {
			ids = append(ids, c.CustomerID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var cs []customers.Customer
	if err := g.Select("id", "name").Where("id IN ?", store.Dedupe(ids)).Find(&cs).Error; err != nil {
		return fmt.Errorf("name customers: %w", err)
	}
	names := map[string]string{}
	for _, c := range cs {
		names[c.ID] = c.Name
	}
	for i := range counts {
		counts[i].CustomerName = names[counts[i].CustomerID]
	}
	return nil
}

// RetentionRun is one finished sweep.
type RetentionRun struct {
	ID         string `gorm:"primaryKey"`
	Runner     string
	StartedAt  time.Time
	FinishedAt time.Time
	Removed    int64
	Counts     string // JSON: category → customer id ("" for none) → rows
}

// TableName is retention_runs.
func (RetentionRun) TableName() string { return "retention_runs" }

// CountsByCategory decodes Counts into totals per category.
func (r RetentionRun) CountsByCategory() map[string]int64 {
	var m map[string]map[string]int64
	_ = json.Unmarshal([]byte(r.Counts), &m)
	out := map[string]int64{}
	for cat, byCustomer := range m {
		for _, n := range byCustomer {
			out[cat] += n
		}
	}
	return out
}

// ErrSweepBusy means another instance holds the sweeper's lease.
var ErrSweepBusy = errors.New("another sweep is running")

// ErrSweepLeaseLost means the lease ran out and another instance took it:
// this sweep stopped after its last committed batch.
var ErrSweepLeaseLost = errors.New("the sweep's lease was taken over by another instance")

// SweepLease is how long a claim on the sweeper lasts without renewal;
// the sweeper renews it after every batch.
const SweepLease = 5 * time.Minute

// SweepRetention removes what is due at now (the rules count back from
// it; the lease runs on the clock), category by category and
// customer by customer, in transactions of at most sweepBatch rows, each
// audited (retention.sweep, with the category, the count and the rule)
// in the same transaction. runner names the instance: only the holder of
// the sweeper's lease sweeps, so several instances may call this at once
// (ErrSweepBusy for the others). The finished run is recorded with its
// counts and audited (retention.run).
func (db *RegisterStore) SweepRetention(ctx context.Context, actor store.Actor, runner string, now time.Time) (*RetentionRun, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	g := db.Gorm.WithContext(ctx)
	if err := claimSweep(g, runner); err != nil {
		return nil, err
	}
	defer func() {
		// Released even when ctx has ended, so the next sweep need not wait out the lease.
		db.Gorm.WithContext(context.WithoutCancel(ctx)).Exec("UPDATE retention_lock SET holder = '', lease_until = ? WHERE id = 1 AND holder = ?", store.Now(), runner)
	}()
	s, err := db.sweepScope(ctx, g, now)
	if err != nil {
		return nil, err
	}
	due, err := dueCounts(g, s)
	if err != nil {
		return nil, err
	}
	run := &RetentionRun{ID: uuid.Must(uuid.NewV7()).String(), Runner: runner, StartedAt: store.Now()}
	counts := map[string]map[string]int64{}
	for _, d := range due {
		n, err := db.sweepOne(ctx, actor, runner, s, d)
		if n > 0 {
			if counts[d.Category] == nil {
				counts[d.Category] = map[string]int64{}
			}
			counts[d.Category][d.CustomerID] += n
			run.Removed += n
		}
		if err != nil {
			return nil, err
		}
	}
	enc, err := json.Marshal(counts)
	if err != nil {
		return nil, err
	}
	run.Counts, run.FinishedAt = string(enc), store.Now()
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := tx.G.Create(run).Error; err != nil {
			return fmt.Errorf("record the sweep: %w", err)
		}
		tx.Audit(store.Audit{Action: "retention.run", ObjectType: "retention_run", ObjectID: run.ID,
			Details: map[string]any{"runner": runner, "removed": run.Removed, "by_category": run.CountsByCategory()}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return run, nil
}

// claimSweep takes the sweeper's lease if it is free or already ours.
func claimSweep(g *gorm.DB, runner string) error {
	t := store.Now()
	res := g.Exec("UPDATE retention_lock SET holder = ?, lease_until = ? WHERE id = 1 AND (lease_until < ? OR holder = ?)",
		runner, t.Add(SweepLease), t, runner)
	if res.Error != nil {
		return fmt.Errorf("claim the sweeper: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrSweepBusy
	}
	return nil
}

// sweepOne removes one customer's due rows of one category, batch by
// batch; each batch renews the lease in its own transaction, so a sweep
// whose lease was taken over stops before writing.
func (db *RegisterStore) sweepOne(ctx context.Context, actor store.Actor, runner string, s *sweepScope, d RetentionCount) (int64, error) {
	t := sweepTargets[d.Category]
	where, args := t.where(s)
	var removed int64
	for {
		var ids []string
		err := db.Tx(ctx, actor, func(tx *store.Tx) error {
			res := tx.G.Exec("UPDATE retention_lock SET lease_until = ? WHERE id = 1 AND holder = ?", store.Now().Add(SweepLease), runner)
			if res.Error != nil {
				return fmt.Errorf("renew the sweeper's lease: %w", res.Error)
			}
			if res.RowsAffected != 1 {
				return ErrSweepLeaseLost
			}
			q := tx.G.Table(t.table).Where(where, args...)
			switch {
			case t.tenant == "":
			case d.CustomerID == "":
				q = q.Where(t.tenant + " IS NULL")
			default:
				q = q.Where(t.tenant+" = ?", d.CustomerID)
			}
			if err := q.Order(t.id).Limit(sweepBatch).Pluck(t.id, &ids).Error; err != nil {
				return fmt.Errorf("select due %s: %w", d.Category, err)
			}
			if len(ids) == 0 {
				return nil
			}
			if err := t.apply(tx, s, ids); err != nil {
				return fmt.Errorf("sweep %s: %w", d.Category, err)
			}
			tx.Audit(store.Audit{Action: "retention.sweep", ObjectType: "retention", ObjectID: d.Category, CustomerID: d.CustomerID,
				Details: map[string]any{"category": d.Category, "count": len(ids), "retention_days": s.retentionFor[d.Category],
					"older_than": s.cutoff[d.Category].Format(time.RFC3339)}})
			return nil
		})
		if err != nil {
			return removed, err
		}
		removed += int64(len(ids))
		if len(ids) < sweepBatch {
			return removed, nil
		}
	}
}

// LastRetentionRun is the newest finished sweep, or nil.
func (db *RegisterStore) LastRetentionRun(ctx context.Context, actor store.Actor) (*RetentionRun, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	var runs []RetentionRun
	if err := db.Gorm.WithContext(ctx).Order("finished_at DESC").Limit(1).Find(&runs).Error; err != nil {
		return nil, fmt.Errorf("read the last sweep: %w", err)
	}
	if len(runs) == 0 {
		return nil, nil
	}
	return &runs[0], nil
}
