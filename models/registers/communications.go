package registers

import (
	consent "github.com/sendara/console/models/consent"
	errs "github.com/sendara/console/models/errs"

	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
)

// Directions of a communication.
const (
	DirectionOutbound = "outbound"
	DirectionInbound  = "inbound"
)

// DeliveryStatuses are the outcomes the sending pipeline reports.
var DeliveryStatuses = []string{"queued", "sent", "delivered", "read", "failed", "answered", "missed", "received"}

// CommunicationInput is one message or call to record.
type CommunicationInput struct {
	ContactID      string
	Channel        string // imessage or facetime
	Direction      string // outbound or inbound
	DeliveryStatus string
	OccurredAt     time.Time  // zero: now
	CRMSyncedAt    *time.Time // when the result reached the customer's CRM
}

func (in *CommunicationInput) normalize() error {
	in.Channel = strings.ToLower(strings.TrimSpace(in.Channel))
	if !slices.Contains(consent.Channels, in.Channel) {
		return errs.Invalid("channel", "must be imessage or facetime")
	}
	if in.Direction != DirectionOutbound && in.Direction != DirectionInbound {
		return errs.Invalid("direction", "must be outbound or inbound")
	}
	if !slices.Contains(DeliveryStatuses, in.DeliveryStatus) {
		return errs.Invalid("delivery_status", "must be one of %s", strings.Join(DeliveryStatuses, ", "))
	}
	now := store.Now()
	if in.OccurredAt.IsZero() {
		in.OccurredAt = now
	}
	in.OccurredAt = in.OccurredAt.UTC().Truncate(time.Microsecond)
	if in.OccurredAt.After(now.Add(consent.FutureSkew)) {
		return errs.Invalid("occurred_at", "is in the future")
	}
	if in.CRMSyncedAt != nil {
		t := in.CRMSyncedAt.UTC().Truncate(time.Microsecond)
		in.CRMSyncedAt = &t
	}
	return nil
}

// RecordCommunication records a message or call with one of customerID's
// contacts. It is written by the sending pipeline for every message, so it
// is not audited one by one: the record is itself the log.
func (db *RegisterStore) RecordCommunication(ctx context.Context, actor store.Actor, customerID string, in CommunicationInput) (*consent.Communication, error) {
	if err := in.normalize(); err != nil {
		return nil, err
	}
	c, err := db.Contact(ctx, actor, in.ContactID)
	if err != nil {
		return nil, err
	}
	if c.CustomerID != customerID {
		return nil, store.ErrNotFound
	}
	rec := &consent.Communication{CustomerID: customerID, ID: uuid.Must(uuid.NewV7()).String(), ContactID: c.ID, Channel: in.Channel,
		Direction: in.Direction, OccurredAt: in.OccurredAt, DeliveryStatus: in.DeliveryStatus, CRMSyncedAt: in.CRMSyncedAt}
	if err := db.Gorm.WithContext(ctx).Create(rec).Error; err != nil {
		return nil, fmt.Errorf("record communication: %w", err)
	}
	return rec, nil
}
