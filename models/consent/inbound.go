package consent

import (
	calendar "github.com/sendara/console/models/calendar"
	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ReviewWindow is how long a person has to decide an ambiguous reply: the
// TCPA asks that revocations be honoured within 10 business days.
const ReviewWindow = 10

// InboundReply is a message a contact sent back.
type InboundReply struct {
	CustomerID     string `gorm:"primaryKey"`
	ID             string `gorm:"primaryKey"`
	ContactID      string
	FromValue      string
	Body           string
	Action         string
	ReceivedAt     time.Time
	ReviewDueOn    *calendar.Date
	ReviewedAt     *time.Time
	ReviewedBy     string
	Decision       string
	ConsentEventID *string
	DedupeKey      *string // sender, text and time: one reply however often delivered

	// Answer is the text to send back for a HELP reply (the customer's
	// HelpReply); empty for every other action.
	Answer string `gorm:"-"`
}

// RecordInbound classifies and records a reply from an identifier of
// customerID. Keyword and plain-language opt-outs (and START) are recorded
// in the ledger at once; ambiguous replies go to the review queue, due in
// 10 business days; other replies are kept only for known contacts.
func (db *ConsentStore) RecordInbound(ctx context.Context, actor store.Actor, customerID, from, body string, receivedAt time.Time, region string, biz calendar.Business) (*InboundReply, error) {
	ident, err := store.NormalizeIdentifier("from", from, region)
	if err != nil {
		return nil, err
	}
	if len(body) > 10000 {
		return nil, errs.Invalid("body", "must be at most 10000 characters")
	}
	now := store.Now()
	if receivedAt.IsZero() {
		receivedAt = now
	}
	receivedAt = receivedAt.UTC().Truncate(time.Microsecond)
	if receivedAt.After(now.Add(FutureSkew)) {
		return nil, errs.Invalid("received_at", "is in the future")
	}
	key := replyKey(ident.Value, body, receivedAt)
	reply := &InboundReply{CustomerID: customerID, ID: uuid.Must(uuid.NewV7()).String(), FromValue: ident.Value,
		Body: body, Action: ClassifyReply(body), ReceivedAt: receivedAt, DedupeKey: &key}
	var prior *InboundReply
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := customers.RequireCustomer(tx, customerID); err != nil {
			return err
		}
		earlier, err := replyByKey(tx, customerID, key)
		if err != nil || earlier != nil {
			prior = earlier // the same reply, delivered again: nothing new to record
			return err
		}
		var ci ContactIdentifier
		err = tx.G.First(&ci, "customer_id = ? AND value = ?", customerID, ident.Value).Error
		known := err == nil
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("find contact: %w", err)
		}
		if known {
			reply.ContactID = ci.ContactID
		}
		switch reply.Action {
		case ReplyOptOut, ReplyOptIn:
			kind := OptOut
			if reply.Action == ReplyOptIn {
				kind = OptIn
			}
			res, err := RecordConsent(tx, customerID, ident, ConsentInput{Kind: kind, Source: "inbound_reply",
				Evidence: fmt.Sprintf("reply %q from %s", store.Truncate(strings.TrimSpace(body), 300), ident.Value), OccurredAt: receivedAt})
			var conflict *errs.ConflictError
			if errors.As(err, &conflict) {
				// A START cannot lift a restriction or predate an opt-out: the
				// reply stays on record for a person to look at.
				reply.Action = ReplyReview
				break
			} else if err != nil {
				return err
			}
			reply.ContactID = res.Contact.ID
			if res.Event != nil {
				reply.ConsentEventID = &res.Event.ID
			}
		}
		if reply.Action == ReplyReview {
			due := biz.Calendar.BusinessDaysAfter(calendar.DateOf(receivedAt, biz.Loc), ReviewWindow)
			reply.ReviewDueOn = &due
			if reply.ContactID == "" {
				c, err := InsertContact(tx, customerID, "", "", []store.Identifier{ident})
				if err != nil {
					return err
				}
				reply.ContactID = c.ID
				tx.Audit(store.Audit{Action: "contact.create", ObjectType: "contact", ObjectID: c.ID, CustomerID: customerID,
					Details: map[string]any{"source": "inbound_reply"}})
			}
		}
		if reply.ContactID == "" {
			return nil // nothing to keep about a stranger's ordinary reply
		}
		// ON CONFLICT DO NOTHING keeps a PostgreSQL transaction usable
		// when a concurrent delivery of the same reply won: this one then
		// rolls back whatever it recorded and answers as that one did.
		res := tx.G.Clauses(clause.OnConflict{
			Columns:     []clause.Column{{Name: "customer_id"}, {Name: "dedupe_key"}},
			TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "dedupe_key IS NOT NULL"}}},
			DoNothing:   true,
		}).Create(reply)
		if res.Error != nil {
			return fmt.Errorf("store reply: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return errDuplicateReply
		}
		tx.Audit(store.Audit{Action: "reply.receive", ObjectType: "contact", ObjectID: reply.ContactID, CustomerID: customerID,
			Details: map[string]any{"action": reply.Action, "reply": reply.ID}})
		return replyEvent(tx, reply)
	})
	if errors.Is(err, errDuplicateReply) {
		err = db.Tx(ctx, actor, func(tx *store.Tx) error {
			var err error
			prior, err = replyByKey(tx, customerID, key)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	if prior != nil {
		reply = prior
	}
	if reply.Action == ReplyHelp {
		var c customers.Customer
		if err := db.Gorm.WithContext(ctx).Select("id", "name", "contact_email", "help_text").First(&c, "id = ?", customerID).Error; err != nil {
			return nil, fmt.Errorf("read help text: %w", err)
		}
		reply.Answer = c.HelpReply()
	}
	return reply, nil
}

var errDuplicateReply = errors.New("this reply was recorded by a concurrent delivery")

// replyKey identifies a reply by sender, text and time (DESIGN §4): a
// delivery retried by the pipeline carries all three unchanged.
func replyKey(from, body string, at time.Time) string {
	h := sha256.New()
	for _, part := range []string{from, body, at.UTC().Format(time.RFC3339Nano)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// replyByKey returns the reply already recorded under key, or nil.
func replyByKey(t *store.Tx, customerID, key string) (*InboundReply, error) {
	var rs []InboundReply
	if err := t.G.Where("customer_id = ? AND dedupe_key = ?", customerID, key).Limit(1).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("find an earlier delivery of this reply: %w", err)
	}
	if len(rs) == 0 {
		return nil, nil
	}
	return &rs[0], nil
}

// ReviewQueue lists customerID's replies awaiting a decision, oldest first.
func (db *ConsentStore) ReviewQueue(ctx context.Context, actor store.Actor, customerID string, limit int) ([]InboundReply, error) {
	var rs []InboundReply
	q := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).
		Where("action = ? AND reviewed_at IS NULL", ReplyReview)
	if customerID != "" {
		q = q.Where("customer_id = ?", customerID)
	}
	if err := q.Order("received_at, id").Limit(limit).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("list review queue: %w", err)
	}
	return rs, nil
}

// Review decisions.
const (
	DecisionOptOut    = "opt_out"
	DecisionNotOptOut = "not_opt_out"
)

// DecideReply records a person's decision on a reply in the review queue.
// An opt-out decision appends to the consent ledger (source inbound_reply,
// the reply as evidence) in the same transaction; either decision is kept
// on the reply and in the audit log.
func (db *ConsentStore) DecideReply(ctx context.Context, actor store.Actor, replyID, decision, note string) (*InboundReply, error) {
	if decision != DecisionOptOut && decision != DecisionNotOptOut {
		return nil, errs.Invalid("decision", "must be opt_out or not_opt_out")
	}
	note = strings.TrimSpace(note)
	if len(note) > 1000 {
		return nil, errs.Invalid("note", "must be at most 1000 characters")
	}
	if !store.ValidID(replyID) {
		return nil, store.ErrNotFound
	}
	var r InboundReply
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := tx.G.Scopes(actor.Tenant("customer_id")).First(&r, "id = ?", replyID).Error; err != nil {
			return store.NotFound(err)
		}
		if r.ReviewedAt != nil {
			return &errs.ConflictError{Field: "decision", Message: fmt.Sprintf("this reply was already decided by %s", r.ReviewedBy)}
		}
		now := store.Now()
		updates := map[string]any{"reviewed_at": now, "reviewed_by": actor.Label, "decision": decision}
		if decision == DecisionOptOut {
			evidence := fmt.Sprintf("reply %q received %s, reviewed by %s", store.Truncate(r.Body, 300), r.ReceivedAt.Format(time.RFC3339), actor.Label)
			if note != "" {
				evidence += ": " + note
			}
			res, err := RecordConsent(tx, r.CustomerID, store.Identifier{}, ConsentInput{ContactID: r.ContactID, Kind: OptOut,
				Source: "inbound_reply", Evidence: evidence, OccurredAt: r.ReceivedAt})
			if err != nil {
				return err
			}
			if res.Event != nil {
				updates["consent_event_id"] = res.Event.ID
			}
		}
		if err := tx.G.Model(&InboundReply{}).Where("customer_id = ? AND id = ?", r.CustomerID, r.ID).Updates(updates).Error; err != nil {
			return fmt.Errorf("record decision: %w", err)
		}
		tx.Audit(store.Audit{Action: "reply.review", ObjectType: "contact", ObjectID: r.ContactID, CustomerID: r.CustomerID,
			Details: map[string]any{"reply": r.ID, "decision": decision, "note": note}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// ContactReplies lists a contact's replies, newest first.
func (db *ConsentStore) ContactReplies(ctx context.Context, actor store.Actor, c *Contact) ([]InboundReply, error) {
	var rs []InboundReply
	err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).
		Where("customer_id = ? AND contact_id = ?", c.CustomerID, c.ID).Order("received_at DESC").Limit(200).Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("list replies: %w", err)
	}
	return rs, nil
}

// Reply returns one reply the actor may see.
func (db *ConsentStore) Reply(ctx context.Context, actor store.Actor, id string) (*InboundReply, error) {
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var r InboundReply
	if err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).First(&r, "id = ?", id).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return &r, nil
}
