package requests

import (
	"fmt"
	"time"

	store "github.com/sendara/console/models/store"
	"gorm.io/gorm/clause"
)

// What Sendara did for one controller of a request. Completion reads these
// to tell the requester, per business, what happened, and to tell
// compliance in whole from compliance in part.
const (
	ActionErased     = "erased"
	ActionHeld       = "held" // some of the data was kept under a legal hold
	ActionExported   = "exported"
	ActionRectified  = "rectified"
	ActionSuppressed = "suppressed"
)

// RequestAction records that Sendara carried out a request at one
// customer. Doing it again updates when and what.
type RequestAction struct {
	RequestID  string `gorm:"primaryKey"`
	CustomerID string `gorm:"primaryKey"`
	Kind       string `gorm:"primaryKey"`
	At         time.Time
	Detail     string
}

// TableName keeps the table's name.
func (RequestAction) TableName() string { return "request_actions" }

func RecordAction(t *store.Tx, requestID, customerID, kind, detail string) error {
	err := t.G.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "request_id"}, {Name: "customer_id"}, {Name: "kind"}},
		DoUpdates: clause.AssignmentColumns([]string{"at", "detail"})}).
		Create(&RequestAction{RequestID: requestID, CustomerID: customerID, Kind: kind, At: store.Now(), Detail: detail}).Error
	if err != nil {
		return fmt.Errorf("record what was done: %w", err)
	}
	return nil
}
