package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
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
	ReviewDueOn    *string
	ReviewedAt     *time.Time
	ReviewedBy     string
	Decision       string
	ConsentEventID *string
}

// RecordInbound classifies and records a reply from an identifier of
// customerID. Keyword and plain-language opt-outs (and START) are recorded
// in the ledger at once; ambiguous replies go to the review queue, due in
// 10 business days; other replies are kept only for known contacts.
func (db *DB) RecordInbound(ctx context.Context, actor Actor, customerID, from, body string, receivedAt time.Time, region string, loc *time.Location) (*InboundReply, error) {
	ident, err := NormalizeIdentifier("from", from, region)
	if err != nil {
		return nil, err
	}
	if len(body) > 10000 {
		return nil, Invalid("body", "must be at most 10000 characters")
	}
	now := Now()
	if receivedAt.IsZero() {
		receivedAt = now
	}
	receivedAt = receivedAt.UTC().Truncate(time.Microsecond)
	if receivedAt.After(now.Add(futureSkew)) {
		return nil, Invalid("received_at", "is in the future")
	}
	reply := &InboundReply{CustomerID: customerID, ID: uuid.Must(uuid.NewV7()).String(), FromValue: ident.Value,
		Body: body, Action: ClassifyReply(body), ReceivedAt: receivedAt}
	err = db.Tx(ctx, actor, func(tx *Tx) error {
		if err := tx.requireCustomer(customerID); err != nil {
			return err
		}
		var ci ContactIdentifier
		err := tx.G.First(&ci, "customer_id = ? AND value = ?", customerID, ident.Value).Error
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
			res, err := tx.RecordConsent(customerID, ident, ConsentInput{Kind: kind, Source: "inbound_reply",
				Evidence: fmt.Sprintf("reply %q from %s", truncate(strings.TrimSpace(body), 300), ident.Value), OccurredAt: receivedAt})
			var conflict *ConflictError
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
			due := DefaultCalendar().AddBusinessDays(receivedAt, loc, ReviewWindow).Format(time.DateOnly)
			reply.ReviewDueOn = &due
			if reply.ContactID == "" {
				c, err := tx.insertContact(customerID, "", "", []Identifier{ident})
				if err != nil {
					return err
				}
				reply.ContactID = c.ID
				tx.Audit(Audit{Action: "contact.create", ObjectType: "contact", ObjectID: c.ID, CustomerID: customerID,
					Details: map[string]any{"source": "inbound_reply"}})
			}
		}
		if reply.ContactID == "" {
			return nil // nothing to keep about a stranger's ordinary reply
		}
		if err := tx.G.Create(reply).Error; err != nil {
			return fmt.Errorf("store reply: %w", err)
		}
		tx.Audit(Audit{Action: "reply.receive", ObjectType: "contact", ObjectID: reply.ContactID, CustomerID: customerID,
			Details: map[string]any{"action": reply.Action, "reply": reply.ID}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return reply, nil
}

// ReviewQueue lists customerID's replies awaiting a decision, oldest first.
func (db *DB) ReviewQueue(ctx context.Context, actor Actor, customerID string, limit int) ([]InboundReply, error) {
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
