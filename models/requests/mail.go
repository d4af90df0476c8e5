package requests

import (
	errs "github.com/sendara/console/models/errs"
	outbox "github.com/sendara/console/models/outbox"

	"context"
	"fmt"
	"strings"

	store "github.com/sendara/console/models/store"
)

// MarkMailSentByHand records that staff sent a held or failed mail
// themselves, copied into another mail program: who and when are kept on
// the mail and in the audit log (mail.mark_sent), and on the request's
// timeline. From then on it counts as sent, an acknowledgement included.
// Staff only: a customer actor gets ErrNotFound.
func (db *RequestStore) MarkMailSentByHand(ctx context.Context, actor store.Actor, id, note string) error {
	if !actor.Staff() {
		return store.ErrNotFound
	}
	note = strings.TrimSpace(note)
	if len(note) > 1000 {
		return errs.Invalid("note", "must be at most 1000 characters")
	}
	m, err := db.OutboxEntry(ctx, actor, id)
	if err != nil {
		return err
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		now := store.Now()
		res := tx.G.Model(&outbox.OutboxMail{}).Where("id = ? AND status IN ?", id, []string{outbox.MailFailed, outbox.MailHeld}).
			Updates(map[string]any{"status": outbox.MailSent, "sent_at": now, "marked_sent_by": actor.Label})
		if res.Error != nil {
			return fmt.Errorf("mark mail %s sent: %w", id, res.Error)
		}
		if res.RowsAffected != 1 {
			return &errs.ConflictError{Field: "status", Message: fmt.Sprintf("this mail is %s: only a held or failed mail can be marked sent by hand", m.Status)}
		}
		tx.Audit(store.Audit{Action: "mail.mark_sent", ObjectType: "mail", ObjectID: id, CustomerID: store.StrOrEmpty(m.CustomerID),
			Details: map[string]any{"kind": m.Kind, "request_id": store.StrOrEmpty(m.RequestID), "was": m.Status, "note": note}})
		if m.RequestID != nil {
			text := fmt.Sprintf("%s email to %s marked sent by hand by %s.", strings.ToUpper(m.Kind[:1])+m.Kind[1:], m.ToAddr, actor.Label)
			if note != "" {
				text = strings.TrimSuffix(text, ".") + ": " + note
			}
			tx.Event(*m.RequestID, "email_out", text)
		}
		return nil
	})
}
