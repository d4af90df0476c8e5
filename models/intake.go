package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MailIntake is a message that reached the privacy mailbox (SMTP or an
// uploaded .eml), already parsed.
type MailIntake struct {
	MessageID     string
	FromName      string
	FromAddr      string
	Subject       string
	Body          string
	Reference     string // a PR-YYYY-NNNNNN found in the subject or body
	SuggestedType string // from the text; shown to staff, not applied
	Raw           []byte // the exact bytes, kept as evidence
	ReceivedAt    time.Time
}

// mailbox is the actor of mail intake.
var mailbox = SystemProcess("mailbox", "privacy mailbox")

// ReceiveMail turns a message into a new request, or adds it to the
// request whose reference it carries. The raw message is kept as evidence
// in the same transaction. A message received twice (an MTA retry) is
// accepted once: the second time nothing changes and it reports no error.
func (db *DB) ReceiveMail(ctx context.Context, biz Business, region string, in MailIntake) (*PrivacyRequest, bool, error) {
	from, err := NormalizeEmail("from", in.FromAddr)
	if err != nil {
		return nil, false, err
	}
	if in.ReceivedAt.IsZero() || in.ReceivedAt.After(time.Now()) {
		in.ReceivedAt = time.Now()
	}
	store := func(tx *Tx, r *PrivacyRequest) error {
		if _, err := db.StoreInbound(tx, InboundInput{MessageID: in.MessageID, From: from, Subject: in.Subject, Raw: in.Raw,
			ReceivedAt: in.ReceivedAt, RequestID: r.ID}); err != nil {
			return err
		}
		tx.event(r.ID, "email_in", fmt.Sprintf("Email from %s: %q", from, truncate(in.Subject, 200)))
		return nil
	}
	if in.Reference != "" {
		var r PrivacyRequest
		found := db.Gorm.WithContext(ctx).First(&r, "reference = ?", strings.ToUpper(in.Reference)).Error == nil
		if found {
			err := db.Tx(ctx, mailbox, func(tx *Tx) error {
				if err := store(tx, &r); err != nil {
					return err
				}
				tx.Audit(Audit{Action: "request.email_in", ObjectType: "request", ObjectID: r.ID, Details: map[string]any{"reference": r.Reference}})
				if r.Status == StatusWaiting {
					// The answer Sendara waited for: the clock runs again.
					_, err := tx.resume(biz, r.ID, "Their email arrived.")
					return err
				}
				return nil
			})
			if errors.Is(err, ErrDuplicateInbound) {
				return &r, false, nil
			}
			return &r, false, err
		}
	}
	details := strings.TrimSpace(in.Subject + "\n\n" + in.Body)
	if len(details) > 20000 {
		details = details[:20000]
	}
	r, err := db.CreateRequestThen(ctx, mailbox, biz, RequestInput{SuggestedType: in.SuggestedType, Channel: "email",
		Requester: Requester{Name: in.FromName, Email: from}, Details: details, ReceivedAt: in.ReceivedAt}, region, store)
	if errors.Is(err, ErrDuplicateInbound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return r, true, nil
}
