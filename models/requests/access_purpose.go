package requests

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	errs "github.com/sendara/console/models/errs"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// PurposeLifetime is how long a stated purpose is remembered.
const PurposeLifetime = 15 * time.Minute

// Bounds of a stated purpose.
const (
	minPurposeReason = 10
	maxPurposeLen    = 200
)

// AccessPurpose is a purpose stated for one contact in one session.
type AccessPurpose struct {
	SessionHash string `gorm:"primaryKey"`
	ContactID   string `gorm:"primaryKey"`
	Purpose     string
	Reference   string // the request's reference when the purpose names one
	StatedAt    time.Time
	ExpiresAt   time.Time
}

// TableName keeps the table's name.
func (AccessPurpose) TableName() string { return "access_purposes" }

// Details is what the audit entry of a view carries.
func (p *AccessPurpose) Details() map[string]any {
	d := map[string]any{"purpose": p.Purpose}
	if p.Reference != "" {
		d["reference"] = p.Reference
	}
	return d
}

var referenceLike = regexp.MustCompile(`(?i)^PR-[0-9]{4}-[0-9]{6}$`)

// ParsePurpose checks a purpose as typed: a request reference that exists,
// or a reason of at least 10 characters on one line. It returns the
// purpose to record and the reference it names, if any.
func (db *RequestStore) ParsePurpose(ctx context.Context, raw string) (purpose, reference string, err error) {
	purpose = strings.TrimSpace(raw)
	switch {
	case purpose == "":
		return "", "", errs.Invalid("purpose", "say why you open this contact: a request reference (PR-2026-000042) or a reason")
	case utf8.RuneCountInString(purpose) > maxPurposeLen:
		return "", "", errs.Invalid("purpose", "at most %d characters", maxPurposeLen)
	case strings.ContainsFunc(purpose, unicode.IsControl):
		return "", "", errs.Invalid("purpose", "one line, no control characters")
	case referenceLike.MatchString(purpose):
		ref := strings.ToUpper(purpose)
		var n int64
		if err := db.Gorm.WithContext(ctx).Model(&PrivacyRequest{}).Where("reference = ?", ref).Count(&n).Error; err != nil {
			return "", "", fmt.Errorf("look up request %s: %w", ref, err)
		}
		if n == 0 {
			return "", "", errs.Invalid("purpose", "there is no request %s", ref)
		}
		return ref, ref, nil
	case utf8.RuneCountInString(purpose) < minPurposeReason:
		return "", "", errs.Invalid("purpose", "give a request reference (PR-2026-000042) or a reason of at least %d characters", minPurposeReason)
	}
	return purpose, "", nil
}

// StatePurpose remembers a purpose for a staff member's session and one
// contact the actor may see (ErrNotFound otherwise) for PurposeLifetime.
func (db *RequestStore) StatePurpose(ctx context.Context, actor store.Actor, sessionHash, contactID, raw string) (*AccessPurpose, error) {
	if _, err := db.Contact(ctx, actor, contactID); err != nil {
		return nil, err
	}
	purpose, ref, err := db.ParsePurpose(ctx, raw)
	if err != nil {
		return nil, err
	}
	now := store.Now()
	p := &AccessPurpose{SessionHash: sessionHash, ContactID: contactID, Purpose: purpose, Reference: ref,
		StatedAt: now, ExpiresAt: now.Add(PurposeLifetime)}
	err = db.Gorm.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		if err := g.Where("expires_at <= ? OR (session_hash = ? AND contact_id = ?)", now, sessionHash, contactID).
			Delete(&AccessPurpose{}).Error; err != nil {
			return fmt.Errorf("forget old purposes: %w", err)
		}
		if err := g.Create(p).Error; err != nil {
			return fmt.Errorf("remember the purpose: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// CurrentPurpose returns the purpose remembered for the session and
// contact, or nil when none was stated or it has expired.
func (db *RequestStore) CurrentPurpose(ctx context.Context, sessionHash, contactID string) (*AccessPurpose, error) {
	var p AccessPurpose
	err := db.Gorm.WithContext(ctx).Where("session_hash = ? AND contact_id = ? AND expires_at > ?", sessionHash, contactID, store.Now()).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the purpose: %w", err)
	}
	return &p, nil
}
