package hooks

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	errs "github.com/sendara/console/models/errs"
	store "github.com/sendara/console/models/store"
)

// FeedEventTypes are the types the feed carries: what happened to
// consent and to contacts. Request and review events are for webhooks.
var FeedEventTypes = []string{EventOptedOut, EventOptedIn, EventContactErased}

// FeedPage is one page of the feed.
type FeedPage struct {
	Events []WebhookEvent
	// Next is the cursor to ask for the events after this page; it equals
	// the cursor asked with when there was nothing new.
	Next    string
	HasMore bool
}

// feedCursor is a position in the feed: after the event written by
// transaction txid (PostgreSQL; 0 on SQLite) with sequence seq.
type feedCursor struct{ txid, seq int64 }

func (c feedCursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("v1.%d.%d", c.txid, c.seq)))
}

func parseFeedCursor(s string) (feedCursor, error) {
	if s == "" {
		return feedCursor{}, nil
	}
	bad := errs.Invalid("after", "is not a cursor this feed gave out")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return feedCursor{}, bad
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return feedCursor{}, bad
	}
	txid, err1 := strconv.ParseInt(parts[1], 10, 64)
	seq, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || txid < 0 || seq < 0 {
		return feedCursor{}, bad
	}
	return feedCursor{txid, seq}, nil
}

// feedHorizon is the lowest transaction id that may still write to this
// database's feed, as of the statement's snapshot: the oldest transaction
// the snapshot sees running, leaving out those that pg_stat_activity says
// belong to another database of the cluster (so another application's long
// transaction does not hold the feed back); or, with none, the first id
// not yet assigned. A transaction that ended after the snapshot was taken
// is still in its list and, absent from pg_stat_activity, is counted: the
// horizon errs low, never high. Sessions of other roles whose ids
// pg_stat_activity hides are counted too.
const feedHorizon = `SELECT COALESCE(MIN(x::text::bigint), pg_snapshot_xmax(pg_current_snapshot())::text::bigint)
	FROM pg_snapshot_xip(pg_current_snapshot()) AS x
	WHERE x::text::bigint % 4294967296 NOT IN (SELECT backend_xid::text::bigint FROM pg_stat_activity
		WHERE datname IS DISTINCT FROM current_database() AND backend_xid IS NOT NULL)`

// EventsFeed returns up to limit of customerID's consent and contact
// events after the cursor after ("" from the start), oldest first.
//
// The order is one an event can never appear behind once a later cursor
// was handed out. On SQLite, with its one writer, that is seq order. On
// PostgreSQL ids from a sequence commit out of order, so the feed orders
// by the writing transaction's id and hands out only events of
// transactions older than every transaction of this database still
// running (feedHorizon): those have all committed or rolled back, and any
// later writer's id is higher. A long-running transaction holds the feed
// back until it ends; it never makes the feed skip an event.
func (db *HookStore) EventsFeed(ctx context.Context, actor store.Actor, customerID, after string, limit int) (*FeedPage, error) {
	cur, err := parseFeedCursor(after)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	q := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).
		Where("customer_id = ? AND type IN ?", customerID, FeedEventTypes).Limit(limit + 1)
	type row struct {
		WebhookEvent
		Txid int64
	}
	var rows []row
	if db.Dialect == store.Postgres {
		q = q.Select("*").Where("(txid, seq) > (?, ?) AND txid < ("+feedHorizon+")", cur.txid, cur.seq).Order("txid, seq")
	} else {
		q = q.Select("*, 0 AS txid").Where("seq > ?", cur.seq).Order("seq")
	}
	if err := q.Table("webhook_events").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read the events feed: %w", err)
	}
	page := &FeedPage{Next: after, HasMore: len(rows) > limit}
	if page.HasMore {
		rows = rows[:limit]
	}
	for _, r := range rows {
		page.Events = append(page.Events, r.WebhookEvent)
	}
	if n := len(rows); n > 0 {
		page.Next = feedCursor{rows[n-1].Txid, rows[n-1].Seq}.String()
		// A page with events discloses identifiers: one entry per page, as
		// for a list view. An empty poll disclosed nothing.
		if err := db.Record(ctx, actor, store.Audit{Action: "events.read", ObjectType: "customer", ObjectID: customerID, CustomerID: customerID,
			Details: map[string]any{"after": after, "count": n}}); err != nil {
			return nil, err
		}
	}
	return page, nil
}
