package requests

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	customers "github.com/sendara/console/models/customers"

	outbox "github.com/sendara/console/models/outbox"

	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// MailIntake is a message that reached the privacy mailbox (SMTP or an
// uploaded .eml), already parsed.
type MailIntake struct {
	MessageID string
	// InReplyTo and References are the message ids the sender answered
	// (without angle brackets): a reply to the console's own mail names
	// the Message-ID the console sent it with.
	InReplyTo     string
	References    []string
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
var mailbox = store.SystemProcess("mailbox", "privacy mailbox")

// maxNameBytes is the longest requester name a request accepts.
const maxNameBytes = 200

// maxThreadIDs bounds how many References are looked up: a real thread
// names a handful, a hostile message thousands.
const maxThreadIDs = 50

// ReceiveMail turns a message into a new request, or adds it to the
// request it belongs to. A message joins a request when it answers mail
// the console sent about it (In-Reply-To or References name that mail's
// Message-ID), or when it names the request's reference and its sender is
// a party of the request (the requester, or a contact of a controller the
// request concerns). Anyone can type a reference into a subject, so a
// message naming a request its sender is no party to opens a request of
// its own, marked as mentioning the other (MentionedReference).
//
// The raw message is kept as evidence in the same transaction, and the
// phones and emails in its text are proposed as subject identifiers. A
// message received twice (an MTA retry) is accepted once: the second time
// nothing changes and it reports no error.
func (db *RequestStore) ReceiveMail(ctx context.Context, biz calendar.Business, region string, in MailIntake) (*PrivacyRequest, bool, error) {
	from, err := store.NormalizeEmail("from", in.FromAddr)
	if err != nil {
		return nil, false, err
	}
	if in.ReceivedAt.IsZero() || in.ReceivedAt.After(time.Now()) {
		in.ReceivedAt = time.Now()
	}
	// A display name is the sender's to write: one too long to keep is
	// cut, not a reason to refuse the message (a refusal is permanent).
	in.FromName = CleanName(in.FromName)
	if len(in.FromName) > maxNameBytes {
		in.FromName = strings.TrimSpace(strings.ToValidUTF8(in.FromName[:maxNameBytes], ""))
	}
	thread, mentioned, err := db.threadOf(ctx, in, from)
	if err != nil {
		return nil, false, err
	}
	keep := func(tx *store.Tx, r *PrivacyRequest, mentions string) error {
		m, err := db.StoreInbound(tx, outbox.InboundInput{MessageID: in.MessageID, From: from, Subject: in.Subject, Raw: in.Raw,
			ReceivedAt: in.ReceivedAt, RequestID: r.ID, MentionsReference: mentions})
		if err != nil {
			return err
		}
		tx.Event(r.ID, "email_in", fmt.Sprintf("Email from %s: %q", from, store.Truncate(in.Subject, 200)))
		return proposeIdentifiers(tx, r, m.ID, in.Body, region)
	}
	if thread != nil {
		err := db.Tx(ctx, mailbox, func(tx *store.Tx) error {
			if err := keep(tx, thread, ""); err != nil {
				return err
			}
			tx.Audit(store.Audit{Action: "request.email_in", ObjectType: "request", ObjectID: thread.ID, Details: map[string]any{"reference": thread.Reference}})
			if _, err := notifyRequest(tx, thread, NotifyMailIn, thread.Reference+": new mail arrived on the request.", ""); err != nil {
				return err
			}
			if thread.Status == StatusWaiting {
				// The answer Sendara waited for: the clock runs again.
				_, err := Resume(tx, biz, thread.ID, "Their email arrived.")
				return err
			}
			return nil
		})
		if errors.Is(err, outbox.ErrDuplicateInbound) {
			return thread, false, nil
		}
		return thread, false, err
	}
	details := strings.TrimSpace(in.Subject + "\n\n" + in.Body)
	if len(details) > 20000 {
		details = strings.ToValidUTF8(details[:20000], "")
	}
	r, err := db.CreateRequestThen(ctx, mailbox, biz, RequestInput{SuggestedType: in.SuggestedType, Channel: "email",
		Requester: Requester{Name: in.FromName, Email: from}, Details: details, ReceivedAt: in.ReceivedAt}, region,
		func(tx *store.Tx, r *PrivacyRequest) error {
			mentions := ""
			if mentioned != nil {
				mentions = mentioned.Reference
				tx.Event(r.ID, "mention", fmt.Sprintf("The message names %s, but %s is not a party of that request, so it was opened as a request of its own.", mentions, from))
				tx.Event(mentioned.ID, "mention", fmt.Sprintf("A message from %s, who is not a party of this request, named it; it was opened as %s.", from, r.Reference))
			}
			return keep(tx, r, mentions)
		})
	if errors.Is(err, outbox.ErrDuplicateInbound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return r, true, nil
}

// threadOf finds the request a message belongs to: by the console's own
// Message-IDs it answers first, then by a reference it names if from is a
// party of that request. mentioned is a request the message names that
// from is no party to.
func (db *RequestStore) threadOf(ctx context.Context, in MailIntake, from string) (thread, mentioned *PrivacyRequest, err error) {
	ids := append([]string{in.InReplyTo}, in.References...)
	if len(ids) > maxThreadIDs {
		ids = ids[:maxThreadIDs]
	}
	sent, err := db.OutboxByMessageID(ctx, ids...)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, nil, err
	}
	g := db.Gorm.WithContext(ctx)
	if sent != nil && sent.RequestID != nil {
		var r PrivacyRequest
		if err := g.Take(&r, "id = ?", *sent.RequestID).Error; err == nil {
			return &r, nil, nil
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil, fmt.Errorf("find the request a reply answers: %w", err)
		}
	}
	if in.Reference == "" {
		return nil, nil, nil
	}
	var r PrivacyRequest
	if err := g.Take(&r, "reference = ?", strings.ToUpper(in.Reference)).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, fmt.Errorf("find the request a message names: %w", err)
	}
	party, err := isParty(g, &r, from)
	if err != nil {
		return nil, nil, err
	}
	if party {
		return &r, nil, nil
	}
	return nil, &r, nil
}

// isParty reports whether addr is the requester of r, or the contact
// address or a user of a controller the request concerns (its customer, or
// one it was routed to): the people the console writes to about it.
func isParty(g *gorm.DB, r *PrivacyRequest, addr string) (bool, error) {
	if r.RequesterEmail != "" && strings.EqualFold(r.RequesterEmail, addr) {
		return true, nil
	}
	var customerIDs []string
	if err := g.Model(&RoutedTask{}).Where("request_id = ?", r.ID).Pluck("customer_id", &customerIDs).Error; err != nil {
		return false, fmt.Errorf("check who may write about %s: %w", r.Reference, err)
	}
	if r.CustomerID != nil {
		customerIDs = append(customerIDs, *r.CustomerID)
	}
	if len(customerIDs) == 0 {
		return false, nil
	}
	var n int64
	err := g.Model(&customers.Customer{}).Where("id IN ? AND LOWER(contact_email) = ?", customerIDs, addr).Count(&n).Error
	if err == nil && n == 0 {
		err = g.Model(&accounts.User{}).Where("customer_id IN ? AND LOWER(email) = ? AND disabled_at IS NULL", customerIDs, addr).Count(&n).Error
	}
	if err != nil {
		return false, fmt.Errorf("check who may write about %s: %w", r.Reference, err)
	}
	return n > 0, nil
}

// CleanName makes a display name safe to put in a mail header or body:
// control characters (CR and LF included, which could start a header of
// their own), format characters (bidi overrides, zero-width) and runs of
// spaces become one space.
func CleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	return strings.Join(strings.Fields(s), " ")
}
