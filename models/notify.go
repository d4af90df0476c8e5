package models

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// typeInWords says a request type the way a letter would.
func typeInWords(typ string) string {
	switch typ {
	case TypeAccess, TypeKnow:
		return "access to your data"
	case TypePortability:
		return "a portable copy of your data"
	case TypeRectification, TypeCorrect:
		return "correction of your data"
	case TypeErasure, TypeDelete:
		return "erasure of your data"
	case TypeChildData:
		return "erasure of your child's data"
	case TypeRestriction:
		return "restriction of the use of your data"
	case TypeObjection:
		return "no further contact"
	case TypeOptOutSale:
		return "no sale or sharing of your data"
	}
	return "your privacy request"
}

func (r *PrivacyRequest) mailData() MailData {
	d := MailData{Reference: r.Reference, RequesterName: r.RequesterName, RequestType: typeInWords(r.TypeOr("")),
		DueOn: r.EffectiveDueOn().String(), ExtendedTo: derefDate(r.ExtendedTo).String(), Reason: firstNonEmptyString(r.DenialReason, r.ExtensionReason)}
	d.ReceivedOn = r.ReceivedAt.Format("2006-01-02")
	return d
}

// mailRequester queues a mail of kind to the requester and notes it on the
// timeline. Without an email address the timeline says how to answer.
func (t *Tx) mailRequester(r *PrivacyRequest, kind string, d MailData) error {
	if r.RequesterEmail == "" {
		t.event(r.ID, "email_out", "No email address on file: answer the requester at "+firstNonEmptyString(r.RequesterPhone, "the contact given")+".")
		return nil
	}
	subject, body, err := renderTemplate(t.G, kind, d)
	if err != nil {
		return err
	}
	if body, err = t.withStatusLink(r, body); err != nil {
		return err
	}
	if err := t.QueueMail(OutboundMail{ID: uuid.Must(uuid.NewV7()).String(), RequestID: r.ID, CustomerID: derefString(r.CustomerID),
		Kind: kind, To: r.RequesterEmail, Subject: subject, Body: body}); err != nil {
		return err
	}
	t.event(r.ID, "email_out", fmt.Sprintf("%s email queued to %s.", strings.ToUpper(kind[:1])+kind[1:], r.RequesterEmail))
	return nil
}

// mailRequesterText queues a free-text mail to the requester.
func (t *Tx) mailRequesterText(r *PrivacyRequest, subject, body string) error {
	if r.RequesterEmail == "" {
		t.event(r.ID, "email_out", "No email address on file: tell the requester by "+firstNonEmptyString(r.RequesterPhone, "the contact given")+": "+subject)
		return nil
	}
	body, err := t.withStatusLink(r, body)
	if err != nil {
		return err
	}
	if err := t.QueueMail(OutboundMail{RequestID: r.ID, CustomerID: derefString(r.CustomerID), Kind: MailOther,
		To: r.RequesterEmail, Subject: subject, Body: body}); err != nil {
		return err
	}
	t.event(r.ID, "email_out", "Email queued to "+r.RequesterEmail+": "+subject+".")
	return nil
}

// mailController tells a customer's admins (and its privacy contact) that
// a request was routed to them.
func (t *Tx) mailController(r *PrivacyRequest, task RoutedTask, customer Customer, link string) error {
	var admins []User
	err := t.G.Joins("JOIN role_assignments ra ON ra.user_id = users.id").
		Where("users.customer_id = ? AND ra.role = ? AND users.disabled_at IS NULL", customer.ID, RoleCustomerAdmin).Find(&admins).Error
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
	d := r.mailData()
	// Two dates, never one for the other: the controller answers Sendara
	// by the task's date; the person is answered by the request's.
	d.Business, d.AnswerBy, d.Link = customer.Name, task.DueOn.String(), link
	for addr := range to {
		if err := t.QueueMail(OutboundMail{RequestID: r.ID, CustomerID: customer.ID, Kind: MailRouting, To: addr, Data: d}); err != nil {
			return err
		}
	}
	if len(to) == 0 {
		t.event(r.ID, "email_out", customer.Name+" has no admin or privacy contact with an email: tell them another way.")
	}
	return nil
}
