package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Communication is the metadata of one message or call with a contact:
// channel, direction, time and delivery status, never the content. It is
// what access bundles list and what erasure deletes.
type Communication struct {
	CustomerID     string `gorm:"primaryKey"`
	ID             string `gorm:"primaryKey"`
	ContactID      string
	Channel        string
	Direction      string
	OccurredAt     time.Time
	DeliveryStatus string
	CRMSyncedAt    *time.Time `gorm:"column:crm_synced_at"`
}

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
	if !slices.Contains(Channels, in.Channel) {
		return Invalid("channel", "must be imessage or facetime")
	}
	if in.Direction != DirectionOutbound && in.Direction != DirectionInbound {
		return Invalid("direction", "must be outbound or inbound")
	}
	if !slices.Contains(DeliveryStatuses, in.DeliveryStatus) {
		return Invalid("delivery_status", "must be one of %s", strings.Join(DeliveryStatuses, ", "))
	}
	now := Now()
	if in.OccurredAt.IsZero() {
		in.OccurredAt = now
	}
	in.OccurredAt = in.OccurredAt.UTC().Truncate(time.Microsecond)
	if in.OccurredAt.After(now.Add(futureSkew)) {
		return Invalid("occurred_at", "is in the future")
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
func (db *DB) RecordCommunication(ctx context.Context, actor Actor, customerID string, in CommunicationInput) (*Communication, error) {
	if err := in.normalize(); err != nil {
		return nil, err
	}
	c, err := db.Contact(ctx, actor, in.ContactID)
	if err != nil {
		return nil, err
	}
	if c.CustomerID != customerID {
		return nil, ErrNotFound
	}
	rec := &Communication{CustomerID: customerID, ID: uuid.Must(uuid.NewV7()).String(), ContactID: c.ID, Channel: in.Channel,
		Direction: in.Direction, OccurredAt: in.OccurredAt, DeliveryStatus: in.DeliveryStatus, CRMSyncedAt: in.CRMSyncedAt}
	if err := db.Gorm.WithContext(ctx).Create(rec).Error; err != nil {
		return nil, fmt.Errorf("record communication: %w", err)
	}
	return rec, nil
}
