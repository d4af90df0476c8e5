package store

import (
	"time"

	"github.com/google/uuid"
)

// RequestEvent is one entry of a request's timeline.
type RequestEvent struct {
	RequestID  string `gorm:"primaryKey"`
	ID         string `gorm:"primaryKey"`
	At         time.Time
	ActorType  string
	ActorLabel string
	Kind       string
	Text       string
}

func (t *Tx) Event(requestID, kind, text string) {
	// Timeline entries are written at once: they are part of the change.
	t.G.Create(&RequestEvent{RequestID: requestID, ID: uuid.Must(uuid.NewV7()).String(), At: Now(),
		ActorType: t.Actor.Type, ActorLabel: t.Actor.Label, Kind: kind, Text: text})
}

func DerefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func FirstNonEmptyString(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
