package hooks

import (
	accounts "github.com/sendara/console/models/accounts"

	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	outbox "github.com/sendara/console/models/outbox"

	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// Webhook event types a customer may subscribe to.
const (
	EventOptedOut         = "consent.opted_out"
	EventOptedIn          = "consent.opted_in"
	EventContactErased    = "contact.erased"
	EventReplyNeedsReview = "reply.needs_review"
	EventRequestRouted    = "request.routed"
	EventRequestAnswered  = "request.answered"
	// EventTest is what "send a test event" sends: to one endpoint only,
	// whatever it subscribes to, and never in the changes feed.
	EventTest = "webhook.test"
)

// WebhookEventTypes lists the subscribable types, in the order the
// endpoint form shows them.
var WebhookEventTypes = []string{EventOptedOut, EventOptedIn, EventContactErased, EventReplyNeedsReview, EventRequestRouted, EventRequestAnswered}

// Delivery statuses.
const (
	DeliveryPending   = "pending"   // waiting for its first attempt or a retry
	DeliveryDelivered = "delivered" // the endpoint answered 2xx
	DeliveryFailed    = "failed"    // given up: still failing when the retry window closed
)

// WebhookEndpoint is one URL of a customer's that receives events.
type WebhookEndpoint struct {
	ID          string `gorm:"primaryKey"`
	CustomerID  string
	URL         string `gorm:"column:url"`
	Description string
	Enabled     bool
	// EventTypes is the subscribed types, space-separated.
	EventTypes string
	// Secret signs every delivery; PreviousSecret too until
	// PreviousSecretUntil, so a receiver can switch without a gap.
	Secret              string
	PreviousSecret      string
	PreviousSecretUntil *time.Time
	// DisabledReason says why the console disabled the endpoint (empty
	// when a person did, or when it is enabled).
	DisabledReason string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Types is the subscribed event types.
func (e *WebhookEndpoint) Types() []string { return strings.Fields(e.EventTypes) }

// Wants reports whether the endpoint subscribes to typ.
func (e *WebhookEndpoint) Wants(typ string) bool { return slices.Contains(e.Types(), typ) }

// Secrets are the secrets a delivery at now is signed with: the current
// one, and the previous one while a rotation's overlap lasts.
func (e *WebhookEndpoint) Secrets(now time.Time) []string {
	out := []string{e.Secret}
	if e.PreviousSecret != "" && e.PreviousSecretUntil != nil && now.Before(*e.PreviousSecretUntil) {
		out = append(out, e.PreviousSecret)
	}
	return out
}

// WebhookEvent is one event: a row of the outbox that deliveries are made
// from, and of the changes feed.
type WebhookEvent struct {
	Seq        int64  `gorm:"primaryKey;autoIncrement"`
	ID         string // msg_…: the webhook-id header, stable across retries
	CustomerID string
	Type       string
	ContactID  *string
	// Payload is the JSON body as sent: {"type", "timestamp", "data"}.
	Payload   string
	CreatedAt time.Time
}

// WebhookDelivery is one event on its way to one endpoint.
type WebhookDelivery struct {
	ID            string `gorm:"primaryKey"`
	CustomerID    string
	EndpointID    string
	EventSeq      int64
	OrderKey      string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastStatus    int
	LastError     string
	CreatedAt     time.Time
	DeliveredAt   *time.Time
}

// WebhookAttempt is one try of a delivery, as the delivery log shows it.
type WebhookAttempt struct {
	ID           int64 `gorm:"primaryKey;autoIncrement"`
	CustomerID   string
	DeliveryID   string
	Attempt      int
	At           time.Time
	StatusCode   int
	ResponseBody string // the first bytes of the answer
	Error        string // a transport error, when there was no answer
	DurationMS   int    `gorm:"column:duration_ms"`
}

// WebhookInput is what a customer admin sets on an endpoint.
type WebhookInput struct {
	URL         string
	Description string
	Enabled     bool
	EventTypes  []string
	// AllowLoopbackHTTP accepts http://127.0.0.1, localhost and [::1]
	// (tests, a local receiver). It comes from the server's configuration,
	// never from the form.
	AllowLoopbackHTTP bool
}

// CheckWebhookURL validates an endpoint URL. Endpoints must be https: the
// body carries personal data and the signature does not hide it. Plain
// http is accepted only for the loopback address, and only when
// allowLoopbackHTTP (a test or a local receiver) says so.
func CheckWebhookURL(raw string, allowLoopbackHTTP bool) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "", errs.Invalid("url", "is required")
	case len(raw) > 2000:
		return "", errs.Invalid("url", "must be at most 2000 characters")
	case err != nil || u.Host == "" || u.Opaque != "":
		return "", errs.Invalid("url", "must be an absolute URL such as https://crm.example.com/hooks/sendara")
	case u.User != nil:
		return "", errs.Invalid("url", "must not carry a user name or password: the signature authenticates the console")
	case u.Fragment != "":
		return "", errs.Invalid("url", "must not have a #fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowLoopbackHTTP || !IsLoopbackHost(u.Hostname()) {
			return "", errs.Invalid("url", "must start with https://")
		}
	default:
		return "", errs.Invalid("url", "must start with https://")
	}
	return u.String(), nil
}

// IsLoopbackHost reports whether host names this machine.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (in *WebhookInput) normalize() (string, error) {
	u, err := CheckWebhookURL(in.URL, in.AllowLoopbackHTTP)
	if err != nil {
		return "", err
	}
	in.Description = strings.TrimSpace(in.Description)
	if len(in.Description) > 500 {
		return "", errs.Invalid("description", "must be at most 500 characters")
	}
	if len(in.EventTypes) == 0 {
		return "", errs.Invalid("event_types", "choose at least one event")
	}
	var types []string
	for _, t := range in.EventTypes {
		if !slices.Contains(WebhookEventTypes, t) {
			return "", errs.Invalid("event_types", "%q is not an event; choose from %s", t, strings.Join(WebhookEventTypes, ", "))
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	in.EventTypes = types
	return u, nil
}

// newWebhookSecret is whsec_ and 24 random bytes in base64, the form the
// Standard Webhooks libraries read.
func newWebhookSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// webhookAudit is an endpoint's audited fields; the secret never is.
func webhookAudit(e *WebhookEndpoint) map[string]any {
	return map[string]any{"url": e.URL, "description": e.Description, "enabled": e.Enabled, "event_types": e.EventTypes}
}

// CreateWebhookEndpoint adds an endpoint for customerID (webhook.create).
// The returned endpoint carries its secret, for the admin to copy.
func (db *HookStore) CreateWebhookEndpoint(ctx context.Context, actor store.Actor, customerID string, in WebhookInput) (*WebhookEndpoint, error) {
	u, err := in.normalize()
	if err != nil {
		return nil, err
	}
	now := store.Now()
	e := &WebhookEndpoint{ID: uuid.Must(uuid.NewV7()).String(), CustomerID: customerID, URL: u, Description: in.Description,
		Enabled: in.Enabled, EventTypes: strings.Join(in.EventTypes, " "), Secret: newWebhookSecret(), CreatedAt: now, UpdatedAt: now}
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := customers.RequireCustomer(tx, customerID); err != nil {
			return err
		}
		if err := tx.G.Create(e).Error; err != nil {
			return fmt.Errorf("create webhook endpoint: %w", err)
		}
		tx.Audit(store.Audit{Action: "webhook.create", ObjectType: "webhook", ObjectID: e.ID, CustomerID: customerID, Details: webhookAudit(e)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// WebhookEndpoints lists customerID's endpoints, oldest first.
func (db *HookStore) WebhookEndpoints(ctx context.Context, actor store.Actor, customerID string) ([]WebhookEndpoint, error) {
	var out []WebhookEndpoint
	err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).Where("customer_id = ?", customerID).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	return out, nil
}

// WebhookEndpoint returns one endpoint within the actor's tenant, or
// ErrNotFound.
func (db *HookStore) WebhookEndpoint(ctx context.Context, actor store.Actor, id string) (*WebhookEndpoint, error) {
	return webhookEndpoint(db.Gorm.WithContext(ctx), actor, id)
}

func webhookEndpoint(g *gorm.DB, actor store.Actor, id string) (*WebhookEndpoint, error) {
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var e WebhookEndpoint
	if err := g.Scopes(actor.Tenant("customer_id")).Where("id = ?", id).Take(&e).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return &e, nil
}

// UpdateWebhookEndpoint changes an endpoint (webhook.update, with before
// and after). Enabling it again clears why the console disabled it.
func (db *HookStore) UpdateWebhookEndpoint(ctx context.Context, actor store.Actor, id string, in WebhookInput) (*WebhookEndpoint, error) {
	u, err := in.normalize()
	if err != nil {
		return nil, err
	}
	var e *WebhookEndpoint
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		if e, err = webhookEndpoint(tx.G, actor, id); err != nil {
			return err
		}
		before := webhookAudit(e)
		e.URL, e.Description, e.Enabled, e.EventTypes, e.UpdatedAt = u, in.Description, in.Enabled, strings.Join(in.EventTypes, " "), store.Now()
		if e.Enabled {
			e.DisabledReason = ""
		}
		if err := tx.G.Select("url", "description", "enabled", "event_types", "disabled_reason", "updated_at").Save(e).Error; err != nil {
			return fmt.Errorf("update webhook endpoint: %w", err)
		}
		tx.Audit(store.Audit{Action: "webhook.update", ObjectType: "webhook", ObjectID: e.ID, CustomerID: e.CustomerID,
			Details: map[string]any{"before": before, "after": webhookAudit(e)}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// DeleteWebhookEndpoint removes an endpoint with its deliveries and their
// log (webhook.delete).
func (db *HookStore) DeleteWebhookEndpoint(ctx context.Context, actor store.Actor, id string) error {
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		e, err := webhookEndpoint(tx.G, actor, id)
		if err != nil {
			return err
		}
		if err := tx.G.Exec("DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = ?)", e.ID).Error; err != nil {
			return fmt.Errorf("delete webhook log: %w", err)
		}
		if err := tx.G.Exec("DELETE FROM webhook_deliveries WHERE endpoint_id = ?", e.ID).Error; err != nil {
			return fmt.Errorf("delete webhook deliveries: %w", err)
		}
		if err := tx.G.Delete(&WebhookEndpoint{}, "id = ?", e.ID).Error; err != nil {
			return fmt.Errorf("delete webhook endpoint: %w", err)
		}
		tx.Audit(store.Audit{Action: "webhook.delete", ObjectType: "webhook", ObjectID: e.ID, CustomerID: e.CustomerID, Details: webhookAudit(e)})
		return nil
	})
}

// WebhookSecretOverlap is how long the previous secret keeps signing
// after a rotation: a day for the receiver to switch.
const WebhookSecretOverlap = 24 * time.Hour

// RotateWebhookSecret gives the endpoint a new secret; the old one keeps
// signing (a second signature) for overlap (webhook.rotate_secret).
func (db *HookStore) RotateWebhookSecret(ctx context.Context, actor store.Actor, id string, overlap time.Duration) (*WebhookEndpoint, error) {
	var e *WebhookEndpoint
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		var err error
		if e, err = webhookEndpoint(tx.G, actor, id); err != nil {
			return err
		}
		now := store.Now()
		until := now.Add(overlap)
		e.PreviousSecret, e.PreviousSecretUntil, e.Secret, e.UpdatedAt = e.Secret, &until, newWebhookSecret(), now
		if err := tx.G.Select("previous_secret", "previous_secret_until", "secret", "updated_at").Save(e).Error; err != nil {
			return fmt.Errorf("rotate webhook secret: %w", err)
		}
		tx.Audit(store.Audit{Action: "webhook.rotate_secret", ObjectType: "webhook", ObjectID: e.ID, CustomerID: e.CustomerID,
			Details: map[string]any{"previous_secret_until": until.Format(time.RFC3339)}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// SendWebhookTest queues a webhook.test event to this endpoint alone
// (webhook.test), delivered like any other event.
func (db *HookStore) SendWebhookTest(ctx context.Context, actor store.Actor, id string) (*WebhookEvent, error) {
	var ev *WebhookEvent
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		e, err := webhookEndpoint(tx.G, actor, id)
		if err != nil {
			return err
		}
		if ev, err = insertEvent(tx, e.CustomerID, EventTest, "", map[string]any{"endpoint_id": e.ID,
			"message": "A test event from the Sendara Privacy Console."}); err != nil {
			return err
		}
		if err := insertDeliveries(tx, ev, []WebhookEndpoint{*e}); err != nil {
			return err
		}
		tx.Audit(store.Audit{Action: "webhook.test", ObjectType: "webhook", ObjectID: e.ID, CustomerID: e.CustomerID,
			Details: map[string]any{"event": ev.ID}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// EmitEvent writes an event of typ about contactID (may be empty) for
// customerID and a delivery to each of the customer's enabled endpoints
// that wants it. Deliveries for one contact keep the order their events
// were written in: two changes of one contact's consent lock its state
// row in turn, so the later one's event is written after the earlier
// one committed.
func EmitEvent(t *store.Tx, customerID, typ, contactID string, data map[string]any) error {
	ev, err := insertEvent(t, customerID, typ, contactID, data)
	if err != nil {
		return err
	}
	var endpoints []WebhookEndpoint
	if err := t.G.Select("id", "customer_id", "event_types").Where("customer_id = ? AND enabled", customerID).Find(&endpoints).Error; err != nil {
		return fmt.Errorf("find webhook endpoints: %w", err)
	}
	endpoints = slices.DeleteFunc(endpoints, func(e WebhookEndpoint) bool { return !e.Wants(typ) })
	return insertDeliveries(t, ev, endpoints)
}

func insertEvent(t *store.Tx, customerID, typ, contactID string, data map[string]any) (*WebhookEvent, error) {
	ev, err := NewWebhookEvent(customerID, typ, contactID, data)
	if err != nil {
		return nil, err
	}
	if err := t.G.Create(ev).Error; err != nil {
		return nil, fmt.Errorf("write %s event: %w", typ, err)
	}
	return ev, nil
}

// NewWebhookEvent is an event row, not yet written: its id and the body
// every delivery of it sends.
func NewWebhookEvent(customerID, typ, contactID string, data map[string]any) (*WebhookEvent, error) {
	now := store.Now()
	id := "msg_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", "")
	body, err := json.Marshal(map[string]any{"type": typ, "timestamp": now.Format(time.RFC3339Nano), "data": data})
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", typ, err)
	}
	return &WebhookEvent{ID: id, CustomerID: customerID, Type: typ, ContactID: store.NullIfEmpty(contactID), Payload: string(body), CreatedAt: now}, nil
}

func insertDeliveries(t *store.Tx, ev *WebhookEvent, endpoints []WebhookEndpoint) error {
	if len(endpoints) == 0 {
		return nil
	}
	rows := DeliveryRows(ev, endpoints)
	if err := t.G.Create(&rows).Error; err != nil {
		return fmt.Errorf("queue webhook deliveries: %w", err)
	}
	return nil
}

// DeliveryRows is one pending delivery of ev per endpoint, ordered behind
// the earlier events about the same contact.
func DeliveryRows(ev *WebhookEvent, endpoints []WebhookEndpoint) []WebhookDelivery {
	key := ev.ID
	if ev.ContactID != nil {
		key = *ev.ContactID
	}
	rows := make([]WebhookDelivery, len(endpoints))
	for i, e := range endpoints {
		rows[i] = WebhookDelivery{ID: uuid.Must(uuid.NewV7()).String(), CustomerID: ev.CustomerID, EndpointID: e.ID, EventSeq: ev.Seq,
			OrderKey: key, Status: DeliveryPending, NextAttemptAt: ev.CreatedAt, CreatedAt: ev.CreatedAt}
	}
	return rows
}

// WebhookLogEntry is a delivery with its event, as the log lists it.
type WebhookLogEntry struct {
	WebhookDelivery
	EventID   string
	EventType string
	Payload   string
}

// WebhookLog lists an endpoint's deliveries, newest first, before the
// delivery id before ("" for the newest). Payloads carry identifiers: the
// read is audited (webhook.log_view).
func (db *HookStore) WebhookLog(ctx context.Context, actor store.Actor, endpointID, before string, limit int) ([]WebhookLogEntry, error) {
	e, err := db.WebhookEndpoint(ctx, actor, endpointID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q := db.Gorm.WithContext(ctx).Table("webhook_deliveries d").
		Select("d.*, ev.id AS event_id, ev.type AS event_type, ev.payload").
		Joins("JOIN webhook_events ev ON ev.seq = d.event_seq").
		Where("d.customer_id = ? AND d.endpoint_id = ?", e.CustomerID, e.ID).Order("d.id DESC").Limit(limit)
	if before != "" {
		if !store.ValidID(before) {
			return nil, errs.Invalid("before", "is not a delivery id")
		}
		q = q.Where("d.id < ?", before)
	}
	var out []WebhookLogEntry
	if err := q.Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("read webhook log: %w", err)
	}
	return out, db.Record(ctx, actor, store.Audit{Action: "webhook.log_view", ObjectType: "webhook", ObjectID: e.ID, CustomerID: e.CustomerID,
		Details: map[string]any{"before": before, "count": len(out)}})
}

// WebhookAttempts is the attempts of the given deliveries, by delivery,
// oldest first, within the actor's tenant.
func (db *HookStore) WebhookAttempts(ctx context.Context, actor store.Actor, deliveryIDs []string) (map[string][]WebhookAttempt, error) {
	out := map[string][]WebhookAttempt{}
	if len(deliveryIDs) == 0 {
		return out, nil
	}
	var rows []WebhookAttempt
	if err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).Where("delivery_id IN ?", deliveryIDs).
		Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read webhook attempts: %w", err)
	}
	for _, a := range rows {
		out[a.DeliveryID] = append(out[a.DeliveryID], a)
	}
	return out, nil
}

var webhookActor = store.SystemProcess("webhooks", "webhook sender")

// WebhookJob is a claimed delivery with what sending it needs.
type WebhookJob struct {
	Delivery WebhookDelivery
	Event    WebhookEvent
	Endpoint WebhookEndpoint
}

// ClaimWebhookDeliveries takes up to limit due deliveries for one attempt:
// it counts the attempt and moves next_attempt_at to now+lease, so no
// other sender takes them meanwhile and a sender that dies leaves them to
// another after the lease. A delivery waits while an earlier delivery of
// the same contact to the same endpoint is pending (being tried or
// failing), so each endpoint gets one contact's events in order. On
// PostgreSQL concurrent senders skip each other's rows (SKIP LOCKED).
func (db *HookStore) ClaimWebhookDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]WebhookJob, error) {
	now = now.UTC().Truncate(time.Microsecond)
	lock := ""
	if db.Dialect == store.Postgres {
		lock = " FOR UPDATE OF d SKIP LOCKED"
	}
	var claimed []WebhookDelivery
	err := db.Gorm.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		if err := lazyCommit(g, db.Dialect); err != nil {
			return err
		}
		return g.Raw(`UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?
		WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
			WHERE d.status = ? AND d.next_attempt_at <= ? AND e.enabled
			AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id
				AND p.order_key = d.order_key AND p.status = ? AND p.event_seq < d.event_seq)
			ORDER BY d.next_attempt_at, d.event_seq LIMIT ?`+lock+`)
		AND status = ? AND next_attempt_at <= ? RETURNING *`,
			now.Add(lease), DeliveryPending, now, DeliveryPending, limit, DeliveryPending, now).Scan(&claimed).Error
	})
	if err != nil {
		return nil, fmt.Errorf("claim due webhook deliveries: %w", err)
	}
	if len(claimed) == 0 {
		return nil, nil
	}
	seqs := make([]int64, len(claimed))
	endpointIDs := make([]string, len(claimed))
	for i, d := range claimed {
		seqs[i], endpointIDs[i] = d.EventSeq, d.EndpointID
	}
	var events []WebhookEvent
	var endpoints []WebhookEndpoint
	if err := db.Gorm.WithContext(ctx).Where("seq IN ?", seqs).Find(&events).Error; err != nil {
		return nil, fmt.Errorf("read claimed webhook events: %w", err)
	}
	if err := db.Gorm.WithContext(ctx).Where("id IN ?", endpointIDs).Find(&endpoints).Error; err != nil {
		return nil, fmt.Errorf("read claimed webhook endpoints: %w", err)
	}
	jobs := make([]WebhookJob, 0, len(claimed))
	for _, d := range claimed {
		ev := slices.IndexFunc(events, func(e WebhookEvent) bool { return e.Seq == d.EventSeq })
		ep := slices.IndexFunc(endpoints, func(e WebhookEndpoint) bool { return e.ID == d.EndpointID })
		if ev < 0 || ep < 0 {
			continue // erased or deleted since the claim
		}
		jobs = append(jobs, WebhookJob{Delivery: d, Event: events[ev], Endpoint: endpoints[ep]})
	}
	slices.SortFunc(jobs, func(a, b WebhookJob) int { return int(a.Event.Seq - b.Event.Seq) })
	return jobs, nil
}

// WebhookRetry is the retry schedule: Base after the first failure,
// doubling up to Max, until Window after the event; then the delivery is
// given up and its endpoint disabled.
type WebhookRetry struct {
	Base, Max, Window time.Duration
}

// DefaultWebhookRetry retries for three days: 30 s, 1 min, 2 min, … up to
// every 6 hours (about 20 attempts).
var DefaultWebhookRetry = WebhookRetry{Base: 30 * time.Second, Max: 6 * time.Hour, Window: 72 * time.Hour}

// Delay is the wait after the attempt-th failed attempt.
func (r WebhookRetry) Delay(attempt int) time.Duration {
	d := r.Base
	for i := 1; i < attempt && d < r.Max; i++ {
		d *= 2
	}
	return min(d, r.Max)
}

// WebhookOutcome is what one attempt got.
type WebhookOutcome struct {
	At         time.Time
	StatusCode int    // 0 when there was no answer
	Body       string // the start of the answer
	Err        string // why there was no answer
	Duration   time.Duration
}

// OK reports whether the endpoint accepted the event (any 2xx).
func (o WebhookOutcome) OK() bool { return o.Err == "" && o.StatusCode >= 200 && o.StatusCode < 300 }

// ErrWebhookClaimLost means another sender took the delivery over (this one
// held it past its lease); the attempt is not recorded twice.
var ErrWebhookClaimLost = errors.New("the webhook delivery was claimed by another sender")

// maxResponseExcerpt is how much of an endpoint's answer the log keeps.
const maxResponseExcerpt = 1024

// WebhookResult is one attempt of a claimed delivery, for RecordWebhookRound.
type WebhookResult struct {
	Job     *WebhookJob
	Outcome WebhookOutcome
}

// WebhookRoundOutcome is what recording a round changed beyond the
// deliveries themselves.
type WebhookRoundOutcome struct {
	// Lost is the deliveries another sender had taken over (this one held
	// them past their lease): their attempts are not recorded twice.
	Lost []string
	// Disabled is the endpoints disabled because a delivery was given up.
	Disabled []string
}

// RecordWebhookAttempt records one attempt (RecordWebhookRound of one). It
// reports whether the endpoint was disabled, and ErrWebhookClaimLost when
// another sender had taken the delivery over.
func (db *HookStore) RecordWebhookAttempt(ctx context.Context, job *WebhookJob, out WebhookOutcome, retry WebhookRetry) (bool, error) {
	res, err := db.RecordWebhookRound(ctx, []WebhookResult{{Job: job, Outcome: out}}, retry)
	if err != nil {
		return false, err
	}
	if len(res.Lost) > 0 {
		return false, ErrWebhookClaimLost
	}
	return len(res.Disabled) > 0, nil
}

// RecordWebhookRound records the attempts of one sender round and moves
// each delivery on: delivered, retried after the schedule's delay, or,
// when the next try would fall outside the window, given up
// (webhook.give_up): its endpoint is then disabled (webhook.disable) and
// the customer's admins are mailed through the outbox.
//
// The whole round is ONE plain transaction: one UPDATE of all its
// deliveries (guarded by status and attempt count, so a delivery another
// sender took over is left alone and reported in Lost) and one INSERT of
// all its attempt rows. It is not written through the audit chain and does
// not replay the suppression index: delivery attempts are operational
// records of the console's own outgoing traffic, not changes of personal
// data or of anyone's rights, and the attempt log (webhook_attempts, shown
// on the endpoint's page) is their record. A transaction per delivery
// that took the audit chain's head lock and then replayed the index put
// every delivery in line beside the opt-outs that caused them (their p99
// rose while deliveries ran). Only what changes the customer's
// configuration or loses an event is audited, in this same transaction:
// a give-up and the endpoint it disables — a few entries a round at most,
// and none on a healthy day.
func (db *HookStore) RecordWebhookRound(ctx context.Context, results []WebhookResult, retry WebhookRetry) (WebhookRoundOutcome, error) {
	var res WebhookRoundOutcome
	if len(results) == 0 {
		return res, nil
	}
	type plan struct {
		r        *WebhookResult
		at       time.Time
		status   string
		next     *time.Time
		errText  string
		delivery *time.Time
	}
	plans := make([]plan, len(results))
	for i := range results {
		r := &results[i]
		d, out := &r.Job.Delivery, r.Outcome
		p := plan{r: r, at: out.At.UTC().Truncate(time.Microsecond), status: DeliveryPending,
			errText: truncateUTF8(out.Err, maxResponseExcerpt)}
		next := p.at.Add(retry.Delay(d.Attempts))
		switch {
		case out.OK():
			p.status, p.delivery, p.errText = DeliveryDelivered, &p.at, ""
		case next.Before(d.CreatedAt.Add(retry.Window)):
			p.next = &next
		default:
			p.status = DeliveryFailed
		}
		plans[i] = p
	}
	cast := func(typ string) string {
		if db.Dialect == store.Postgres {
			return "CAST(? AS " + typ + ")"
		}
		return "?"
	}
	row := "(" + strings.Join([]string{cast("UUID"), cast("INTEGER"), cast("TEXT"), cast("TIMESTAMPTZ"),
		cast("INTEGER"), cast("TEXT"), cast("TIMESTAMPTZ")}, ", ") + ")"
	rows := make([]string, len(plans))
	args := make([]any, 0, 7*len(plans)+1)
	for i, p := range plans {
		rows[i] = row
		args = append(args, p.r.Job.Delivery.ID, p.r.Job.Delivery.Attempts, p.status, p.next, p.r.Outcome.StatusCode, p.errText, p.delivery)
	}
	args = append(args, DeliveryPending)
	// VALUES columns are column1… in both dialects.
	update := `UPDATE webhook_deliveries SET status = v.column3,
		next_attempt_at = COALESCE(v.column4, webhook_deliveries.next_attempt_at),
		last_status = v.column5, last_error = v.column6, delivered_at = v.column7
		FROM (VALUES ` + strings.Join(rows, ", ") + `) AS v
		WHERE webhook_deliveries.id = v.column1 AND webhook_deliveries.attempts = v.column2
		AND webhook_deliveries.status = ? RETURNING webhook_deliveries.id`
	// A round that gives a delivery up writes audit entries, may disable
	// the endpoint and queues mail: that commit waits for the disk, as
	// every audited change does. Only plain bookkeeping commits lazily.
	givesUp := slices.ContainsFunc(plans, func(p plan) bool { return p.status == DeliveryFailed })
	err := db.RawTx(ctx, webhookActor, func(tx *store.Tx) error {
		if !givesUp {
			if err := lazyCommit(tx.G, db.Dialect); err != nil {
				return err
			}
		}
		var updated []string
		if err := tx.G.Raw(update, args...).Scan(&updated).Error; err != nil {
			return fmt.Errorf("record webhook round: %w", err)
		}
		atts := make([]WebhookAttempt, 0, len(plans))
		res.Lost, res.Disabled = nil, nil
		for _, p := range plans {
			d := &p.r.Job.Delivery
			if !slices.Contains(updated, d.ID) {
				res.Lost = append(res.Lost, d.ID)
				continue
			}
			atts = append(atts, WebhookAttempt{CustomerID: d.CustomerID, DeliveryID: d.ID, Attempt: d.Attempts, At: p.at,
				StatusCode: p.r.Outcome.StatusCode, ResponseBody: truncateUTF8(p.r.Outcome.Body, maxResponseExcerpt), Error: p.errText,
				DurationMS: int(p.r.Outcome.Duration.Milliseconds())})
		}
		if len(atts) > 0 {
			if err := tx.G.Create(&atts).Error; err != nil {
				return fmt.Errorf("log webhook attempts: %w", err)
			}
		}
		for _, p := range plans {
			d, job := &p.r.Job.Delivery, p.r.Job
			if p.status != DeliveryFailed || slices.Contains(res.Lost, d.ID) {
				continue
			}
			tx.Audit(store.Audit{Action: "webhook.give_up", ObjectType: "webhook", ObjectID: d.EndpointID, CustomerID: d.CustomerID,
				Details: map[string]any{"event": job.Event.ID, "type": job.Event.Type, "delivery": d.ID, "attempts": d.Attempts,
					"status": p.r.Outcome.StatusCode, "error": p.errText}})
			disabled, err := disableEndpoint(tx, &job.Endpoint, job.Event.Type, p.errText, p.r.Outcome.StatusCode)
			if err != nil {
				return err
			}
			if disabled {
				res.Disabled = append(res.Disabled, job.Endpoint.ID)
			}
		}
		return nil
	})
	if err != nil {
		return WebhookRoundOutcome{}, err
	}
	return res, nil
}

// disableEndpoint turns off an endpoint whose delivery was given up and
// mails the customer's admins (and its privacy contact) why.
func disableEndpoint(t *store.Tx, e *WebhookEndpoint, eventType, lastErr string, status int) (bool, error) {
	why := fmt.Sprintf("a %s event could not be delivered for three days", eventType)
	res := t.G.Model(&WebhookEndpoint{}).Where("id = ? AND enabled", e.ID).
		Updates(map[string]any{"enabled": false, "disabled_reason": why, "updated_at": store.Now()})
	if res.Error != nil {
		return false, fmt.Errorf("disable webhook endpoint: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil // already disabled by an earlier give-up
	}
	t.Audit(store.Audit{Action: "webhook.disable", ObjectType: "webhook", ObjectID: e.ID, CustomerID: e.CustomerID,
		Details: map[string]any{"reason": why}})
	var cust customers.Customer
	if err := t.G.Select("id", "name", "contact_email").First(&cust, "id = ?", e.CustomerID).Error; err != nil {
		return false, fmt.Errorf("read the endpoint's customer: %w", err)
	}
	var admins []string
	if err := t.G.Model(&accounts.User{}).Joins("JOIN role_assignments ra ON ra.user_id = users.id").
		Where("users.customer_id = ? AND ra.role = ? AND users.disabled_at IS NULL", e.CustomerID, accounts.RoleCustomerAdmin).
		Pluck("users.email", &admins).Error; err != nil {
		return false, fmt.Errorf("find the customer's admins: %w", err)
	}
	if cust.ContactEmail != "" {
		admins = append(admins, cust.ContactEmail)
	}
	slices.Sort(admins)
	answer := lastErr
	if status != 0 {
		answer = fmt.Sprintf("HTTP %d", status)
	}
	body := fmt.Sprintf("Hello,\n\nThe Sendara Privacy Console has disabled your webhook endpoint\n\n  %s\n\n"+
		"because %s (last answer: %s). Events not yet delivered are kept and are sent, in order, "+
		"once you fix the endpoint and enable it again on the Webhooks page.\n\nSendara\n", e.URL, why, answer)
	for _, to := range slices.Compact(admins) {
		if err := outbox.QueueMail(t, outbox.OutboundMail{CustomerID: e.CustomerID, Kind: outbox.MailOther, To: to,
			Subject: "Webhook endpoint disabled for " + cust.Name, Body: body}); err != nil {
			return false, err
		}
	}
	return true, nil
}

func truncateUTF8(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	return s
}

// lazyCommit lets a sender's own bookkeeping (its claim of deliveries, the
// record of a round's outcomes) commit on PostgreSQL without waiting for
// its WAL to reach the disk. Opt-out writes beside it then do not queue
// behind two more flushes per round (bench: the write path's p99 with
// three endpoints). What a crash can cost is at most the last few hundred
// milliseconds of such records, and a lost record only sends a delivery
// again once its lease ends: deliveries are at least once, and receivers
// drop repeats by the event's id. The endpoint's attempt log then lacks
// the lost attempts (it shows the re-sends). No audit entry is committed this way
// (an audit checkpoint must never name an entry a crash can take back),
// and a later synchronous commit flushes these first.
func lazyCommit(g *gorm.DB, d store.Dialect) error {
	if d != store.Postgres {
		return nil
	}
	if err := g.Exec("SET LOCAL synchronous_commit = off").Error; err != nil {
		return fmt.Errorf("webhook bookkeeping: %w", err)
	}
	return nil
}
