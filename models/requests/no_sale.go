package requests

import (
	calendar "github.com/sendara/console/models/calendar"
	errs "github.com/sendara/console/models/errs"

	outbox "github.com/sendara/console/models/outbox"

	"context"
	"fmt"

	store "github.com/sendara/console/models/store"
)

// AnswerNoSale answers a CCPA opt-out of sale or sharing with the standard
// no_sale template: Sendara sells no personal information. The request is
// still logged and counted like any other (§7101, §7102), and its
// suppression was applied at intake (stopTypes): this only sends the
// answer, once, noted on the timeline and audited. Staff close the request
// as usual afterwards.
func (db *RequestStore) AnswerNoSale(ctx context.Context, actor store.Actor, id string) error {
	if !actor.Staff() {
		return store.ErrNotFound
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		var r PrivacyRequest
		if !store.ValidID(id) {
			return store.ErrNotFound
		}
		if err := tx.G.Scopes(RequestScope(actor)).First(&r, "id = ?", id).Error; err != nil {
			return store.NotFound(err)
		}
		if r.TypeOr(r.SuggestedType) != calendar.TypeOptOutSale {
			return &errs.ConflictError{Field: "type", Message: "only an opt-out of sale or sharing is answered with the no-sale statement"}
		}
		if Closed(r.Status) {
			return &errs.ConflictError{Field: "status", Message: "the request is " + r.Status}
		}
		var sent int64
		if err := tx.G.Model(&store.RequestEvent{}).Where("request_id = ? AND kind = ?", r.ID, "no_sale_answer").Count(&sent).Error; err != nil {
			return fmt.Errorf("check earlier answer: %w", err)
		}
		if sent > 0 {
			return &errs.ConflictError{Field: "type", Message: "the no-sale statement was sent already"}
		}
		d := r.MailData()
		var names []string
		if err := tx.G.Table("request_actions").Joins("JOIN customers ON customers.id = request_actions.customer_id").
			Where("request_actions.request_id = ? AND request_actions.kind = ?", r.ID, ActionSuppressed).
			Order("customers.name").Pluck("customers.name", &names).Error; err != nil {
			return fmt.Errorf("businesses told: %w", err)
		}
		d.Businesses = outbox.MailList(names)
		if err := MailRequester(tx, &r, outbox.MailNoSale, d); err != nil {
			return err
		}
		tx.Event(r.ID, "no_sale_answer", "Answered with the standard statement: Sendara does not sell personal information.")
		tx.Audit(store.Audit{Action: "request.no_sale_answer", ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
			Details: map[string]any{"reference": r.Reference}})
		return nil
	})
}
