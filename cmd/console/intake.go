package main

import (
	calendar "github.com/sendara/console/models/calendar"
	errs "github.com/sendara/console/models/errs"

	"context"

	"github.com/sendara/console/mailbox"
	"github.com/sendara/console/models"
	requests "github.com/sendara/console/models/requests"
)

// mailboxSink delivers messages from the SMTP receiver into requests.
type mailboxSink struct {
	db     *models.DB
	biz    calendar.Business
	region string
}

// Deliver records the message. Deadlines count from when this server
// received it, never from the Date header the sender wrote. A message that
// can never be accepted (no usable sender address) is refused for good;
// other failures are temporary, so the sending server tries again.
func (s mailboxSink) Deliver(ctx context.Context, m *mailbox.Message) error {
	_, _, err := s.db.ReceiveMail(ctx, s.biz, s.region, requests.MailIntake{MessageID: m.MessageID, InReplyTo: m.InReplyTo, References: m.References, FromName: m.From.Name,
		FromAddr: m.From.Address, Subject: m.Subject, Body: m.TextBody, Reference: m.Reference, SuggestedType: m.SuggestedType,
		Raw: m.Raw, ReceivedAt: m.ReceivedAt})
	if _, invalid := errs.AsValidation(err); invalid {
		return mailbox.Reject(err)
	}
	return err
}
