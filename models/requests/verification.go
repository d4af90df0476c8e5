package requests

import (
	"context"
	"errors"
	"fmt"
	"time"

	outbox "github.com/sendara/console/models/outbox"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// VerificationLifetime is how long an emailed verification link works.
const VerificationLifetime = 72 * time.Hour

type requestVerification struct {
	TokenHash string `gorm:"primaryKey"`
	RequestID string
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (requestVerification) TableName() string { return "request_verifications" }

// ErrVerificationInvalid covers an unknown, used or expired link.
var ErrVerificationInvalid = errors.New("this confirmation link is not valid: it was used already or has expired")

// SendVerificationLink issues a single-use token for the requester to
// confirm their email, and mails the link (linkFor turns the token into
// the URL) in the same transaction. The request moves to "verifying".
func SendVerificationLink(t *store.Tx, requestID string, linkFor func(token string) string) error {
	token := store.RandomToken()
	if err := t.G.Create(&requestVerification{TokenHash: store.HashToken(token), RequestID: requestID,
		ExpiresAt: store.Now().Add(VerificationLifetime)}).Error; err != nil {
		return fmt.Errorf("create verification link: %w", err)
	}
	r, err := UpdateRequest(t, requestID, "request.verification_sent", func(r *PrivacyRequest) (string, map[string]any, error) {
		if r.Status == StatusReceived {
			r.Status = StatusVerifying
		}
		return "Confirmation link sent to " + store.FirstNonEmptyString(r.RequesterEmail, "the requester") + ".", nil, nil
	})
	if err != nil {
		return err
	}
	d := r.MailData()
	d.Link = linkFor(token)
	return MailRequester(t, r, outbox.MailVerification, d)
}

// VerificationLinkFor returns the reference of the request a live
// confirmation link belongs to, without spending it: what the page a link
// opens shows above its confirm button. Mail scanners fetch every link in a
// message, so following the link (GET) must not verify; only the button's
// POST (VerifyByLink) does.
func (db *RequestStore) VerificationLinkFor(ctx context.Context, token string) (string, error) {
	var refs []string
	err := db.Gorm.WithContext(ctx).Model(&requestVerification{}).
		Joins("JOIN privacy_requests r ON r.id = request_verifications.request_id").
		Where("request_verifications.token_hash = ? AND request_verifications.used_at IS NULL AND request_verifications.expires_at > ?", store.HashToken(token), store.Now()).
		Limit(1).Pluck("r.reference", &refs).Error
	if err != nil {
		return "", fmt.Errorf("look up confirmation link: %w", err)
	}
	if len(refs) == 0 {
		return "", ErrVerificationInvalid
	}
	return refs[0], nil
}

// VerifyByLink spends a confirmation link: the request counts as verified
// by email.
func (db *RequestStore) VerifyByLink(ctx context.Context, token, ip string) (*PrivacyRequest, error) {
	var out *PrivacyRequest
	err := db.Tx(ctx, store.SystemProcess("requester", "requester (email link)").From(ip), func(tx *store.Tx) error {
		var v requestVerification
		err := tx.G.First(&v, "token_hash = ? AND used_at IS NULL AND expires_at > ?", store.HashToken(token), store.Now()).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrVerificationInvalid
		} else if err != nil {
			return fmt.Errorf("look up confirmation link: %w", err)
		}
		res := tx.G.Model(&requestVerification{}).Where("token_hash = ? AND used_at IS NULL", v.TokenHash).Update("used_at", store.Now())
		if res.Error != nil || res.RowsAffected != 1 {
			return ErrVerificationInvalid
		}
		out, err = UpdateRequest(tx, v.RequestID, "request.verify", func(r *PrivacyRequest) (string, map[string]any, error) {
			if r.VerifiedAt != nil {
				return "Confirmation link followed again; already verified.", nil, nil
			}
			return r.verify("email_link", "the requester followed the link sent to "+r.RequesterEmail)
		})
		if err != nil {
			return err
		}
		// The link proves the requester's address, and nothing else: other
		// identifiers wait for staff to verify them.
		return verifyIdentifiers(tx, out.ID, []string{out.RequesterEmail}, "email_link", "the requester followed the link sent to it")
	})
	return out, err
}
