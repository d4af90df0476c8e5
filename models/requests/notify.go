package requests

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	customers "github.com/sendara/console/models/customers"

	outbox "github.com/sendara/console/models/outbox"

	"fmt"
	"strings"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
)

// typeInWords says a request type the way a letter would.
func typeInWords(typ string) string {
	switch typ {
	case calendar.TypeAccess, calendar.TypeKnow:
		return "access to your data"
	case calendar.TypePortability:
		return "a portable copy of your data"
	case calendar.TypeRectification, calendar.TypeCorrect:
		return "correction of your data"
	case calendar.TypeErasure, calendar.TypeDelete:
		return "erasure of your data"
	case calendar.TypeChildData:
		return "erasure of your child's data"
	case calendar.TypeRestriction:
		return "restriction of the use of your data"
	case calendar.TypeObjection:
		return "no further contact"
	case calendar.TypeOptOutSale:
		return "no sale or sharing of your data"
	}
	return "your privacy request"
}

func (r *PrivacyRequest) MailData() outbox.MailData {
	d := outbox.MailData{Reference: r.Reference, RequesterName: r.RequesterName, RequestType: typeInWords(r.TypeOr("")),
		DueOn: r.EffectiveDueOn().String(), ExtendedTo: calendar.DerefDate(r.ExtendedTo).String(), Reason: store.FirstNonEmptyString(r.DenialReason, r.ExtensionReason)}
	d.ReceivedOn = r.ReceivedAt.Format("2006-01-02")
	return d
}

// MailRequester queues a mail of kind to the requester and notes it on the
// timeline. Without an email address the timeline says how to answer.
func MailRequester(t *store.Tx, r *PrivacyRequest, kind string, d outbox.MailData) error {
	if r.RequesterEmail == "" {
		t.Event(r.ID, "email_out", "No email address on file: answer the requester at "+store.FirstNonEmptyString(r.RequesterPhone, "the contact given")+".")
		return nil
	}
	subject, body, err := outbox.RenderTemplate(t.G, kind, d)
	if err != nil {
		return err
	}
	if body, err = WithStatusLink(t, r, body); err != nil {
		return err
	}
	if err := outbox.QueueMail(t, outbox.OutboundMail{ID: uuid.Must(uuid.NewV7()).String(), RequestID: r.ID, CustomerID: store.DerefString(r.CustomerID),
		Kind: kind, To: r.RequesterEmail, Subject: subject, Body: body}); err != nil {
		return err
	}
	t.Event(r.ID, "email_out", fmt.Sprintf("%s email queued to %s.", strings.ToUpper(kind[:1])+kind[1:], r.RequesterEmail))
	return nil
}

// mailRequesterText queues a free-text mail to the requester.
func mailRequesterText(t *store.Tx, r *PrivacyRequest, subject, body string) error {
	if r.RequesterEmail == "" {
		t.Event(r.ID, "email_out", "No email address on file: tell the requester by "+store.FirstNonEmptyString(r.RequesterPhone, "the contact given")+": "+subject)
		return nil
	}
	body, err := WithStatusLink(t, r, body)
	if err != nil {
		return err
	}
	if err := outbox.QueueMail(t, outbox.OutboundMail{RequestID: r.ID, CustomerID: store.DerefString(r.CustomerID), Kind: outbox.MailOther,
		To: r.RequesterEmail, Subject: subject, Body: body}); err != nil {
		return err
	}
	t.Event(r.ID, "email_out", "Email queued to "+r.RequesterEmail+": "+subject+".")
	return nil
}

// mailController tells a customer's admins (and its privacy contact) that
// a request was routed to them.
func mailController(t *store.Tx, r *PrivacyRequest, task RoutedTask, customer customers.Customer, link string) error {
	var admins []accounts.User
	err := t.G.Joins("JOIN role_assignments ra ON ra.user_id = users.id").
		Where("users.customer_id = ? AND ra.role = ? AND users.disabled_at IS NULL", customer.ID, accounts.RoleCustomerAdmin).Find(&admins).Error
	if err != nil {
		return fmt.Errorf("find %s's admins: %w", customer.Slug, err)
	}
	to := map[string]bool{}
	for _, a := range admins {
		to[a.Email] = true
	}
	if customer.ContactEmail != "" {
		to[customer.ContactEmail] = true
	}
	d := r.MailData()
	// Two dates, never one for the other: the controller answers Sendara
	// by the task's date; the person is answered by the request's.
	d.Business, d.AnswerBy, d.Link = customer.Name, task.DueOn.String(), link
	for addr := range to {
		if err := outbox.QueueMail(t, outbox.OutboundMail{RequestID: r.ID, CustomerID: customer.ID, Kind: outbox.MailRouting, To: addr, Data: d}); err != nil {
			return err
		}
	}
	if len(to) == 0 {
		t.Event(r.ID, "email_out", customer.Name+" has no admin or privacy contact with an email: tell them another way.")
	}
	return nil
}
