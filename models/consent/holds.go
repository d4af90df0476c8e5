package consent

import (
	"time"
)

// LegalHold keeps data out of erasure while a legal obligation (litigation,
// a regulator's inquiry, a tax audit) requires it. It holds a contact, or an
// identifier by its keyed hash whichever contact has it. Held data is kept
// as it is, not anonymized: a hold exists to preserve evidence unchanged.
// Erasure marks a held contact instead, with an "erasure" opt-out in its
// ledger so it is never messaged, and reports it as kept under legal hold.
type LegalHold struct {
	CustomerID     string `gorm:"primaryKey"`
	ID             string `gorm:"primaryKey"`
	ContactID      *string
	IdentifierHash *string
	Reason         string
	CreatedBy      string
	CreatedAt      time.Time
	ReleasedAt     *time.Time
	ReleasedBy     string
}

// Active reports whether the hold still applies.
func (h LegalHold) Active() bool { return h.ReleasedAt == nil }
