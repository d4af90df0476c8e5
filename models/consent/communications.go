package consent

import (
	"time"
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
