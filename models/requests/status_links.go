package requests

import (
	"fmt"
	"strings"
	"time"

	store "github.com/sendara/console/models/store"
)

// StatusLinkLifetime is how long a status link in a mail works. Every mail
// to the requester carries a fresh one.
const StatusLinkLifetime = 180 * 24 * time.Hour

type RequestStatusLink struct {
	TokenHash string `gorm:"primaryKey"`
	RequestID string
	CreatedAt time.Time
	ExpiresAt time.Time
}

func (RequestStatusLink) TableName() string { return "request_status_links" }

// WithStatusLink issues a fresh status link for r (only its hash is
// stored) and appends it to a mail body.
func WithStatusLink(t *store.Tx, r *PrivacyRequest, body string) (string, error) {
	if t.StatusLink == nil {
		return body, nil
	}
	token := store.RandomToken()
	now := store.Now()
	if err := t.G.Create(&RequestStatusLink{TokenHash: store.HashToken(token), RequestID: r.ID, CreatedAt: now,
		ExpiresAt: now.Add(StatusLinkLifetime)}).Error; err != nil {
		return "", fmt.Errorf("create status link: %w", err)
	}
	return strings.TrimRight(body, "\n") + "\n\nFollow your request " + r.Reference + ", read our messages and answer us (keep this link private):\n" +
		t.StatusLink(token) + "\n", nil
}
