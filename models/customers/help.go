package customers

import (
	"context"
	"fmt"
	"strings"

	errs "github.com/sendara/console/models/errs"
	store "github.com/sendara/console/models/store"
)

// maxHelpText keeps the answer to HELP within what a person reads on a
// phone (and within three SMS segments where iMessage falls back to SMS).
const maxHelpText = 450

// HelpReply is what to send a contact who replied HELP: the customer's own
// text, or DefaultHelpText.
func (c *Customer) HelpReply() string {
	if c.HelpText != "" {
		return c.HelpText
	}
	return DefaultHelpText(c.Name, c.ContactEmail)
}

// DefaultHelpText is the answer to HELP of a customer that set none: what
// the CTIA Messaging Principles ask of one — who is writing, how to stop
// the messages, where to get help.
func DefaultHelpText(business, contactEmail string) string {
	text := business + ": you receive these messages from " + business + ". Reply STOP to stop them, START to receive them again."
	if contactEmail != "" {
		text += " Help: " + contactEmail
	}
	return text
}

// SetHelpText changes the answer customerID sends to HELP; empty restores
// the default. It must say how to opt out (the word STOP), since the
// person asking for help may be looking for exactly that. The audit entry
// keeps before and after.
func (db *CustomerStore) SetHelpText(ctx context.Context, actor store.Actor, customerID, text string) (*Customer, error) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	switch {
	case len(text) > maxHelpText:
		return nil, errs.Invalid("help_text", "must be at most %d characters", maxHelpText)
	case text != "" && !strings.Contains(strings.ToUpper(text), "STOP"):
		return nil, errs.Invalid("help_text", "must tell the person how to opt out (reply STOP)")
	}
	if !store.ValidID(customerID) {
		return nil, store.ErrNotFound
	}
	var c Customer
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := tx.G.Scopes(actor.Tenant("id")).First(&c, "id = ?", customerID).Error; err != nil {
			return store.NotFound(err)
		}
		if c.HelpText == text {
			return nil
		}
		before := c.HelpText
		if err := tx.G.Model(&c).Updates(map[string]any{"help_text": text, "updated_at": store.Now()}).Error; err != nil {
			return fmt.Errorf("save help text: %w", err)
		}
		c.HelpText = text
		tx.Audit(store.Audit{Action: "customer.help_text", ObjectType: "customer", ObjectID: c.ID, CustomerID: c.ID,
			Details: map[string]any{"before": before, "after": text}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}
