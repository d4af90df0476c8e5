package fulfilment

import (
	errs "github.com/sendara/console/models/errs"
	outbox "github.com/sendara/console/models/outbox"

	requests "github.com/sendara/console/models/requests"

	"context"
	"fmt"
	"slices"
	"strings"

	store "github.com/sendara/console/models/store"
)

// SetStatus moves a request along its lifecycle (see ChangeStatus).
func (db *FulfilmentStore) SetStatus(ctx context.Context, actor store.Actor, id, to, note string) (*requests.PrivacyRequest, error) {
	return db.ChangeStatus(ctx, actor, id, StatusChange{To: to, Note: note})
}

// ChangeStatus moves a request along its lifecycle. Denial needs a reason,
// which is shown to the requester. Completion is refused while a
// controller has not answered, naming it, unless ch.Override says why
// (kept on the timeline and in the audit entry); the outcome recorded is
// compliance in whole only when every business informed complied and
// Sendara acted at each (outcomeOf), in part otherwise. The completion and
// denial mails list what happened at each business.
func (db *FulfilmentStore) ChangeStatus(ctx context.Context, actor store.Actor, id string, ch StatusChange) (*requests.PrivacyRequest, error) {
	note, override := strings.TrimSpace(ch.Note), strings.TrimSpace(ch.Override)
	to := ch.To
	var out *requests.PrivacyRequest
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		var err error
		out, err = requests.UpdateRequest(tx, id, "request.status", func(r *requests.PrivacyRequest) (string, map[string]any, error) {
			if !slices.Contains(requests.Transitions[r.Status], to) {
				return "", nil, requests.ErrTransition(r.Status, to)
			}
			if to == requests.StatusDenied && note == "" {
				return "", nil, errs.Invalid("reason", "a denial needs a reason; it is shown to the requester")
			}
			if to == requests.StatusCompleted && r.Type == nil {
				return "", nil, errs.Invalid("type", "set the request's type before completing it")
			}
			from := r.Status
			details := map[string]any{"from": from, "to": to}
			// In words on the timeline (with controller, not with_controller);
			// the audit details keep the codes.
			text := fmt.Sprintf("Status %s → %s.", strings.ReplaceAll(from, "_", " "), strings.ReplaceAll(to, "_", " "))
			if note != "" {
				text += " " + note
				// The why belongs in the chain, not only on the timeline.
				details[map[bool]string{true: "reason", false: "note"}[to == requests.StatusDenied]] = note
			}
			now := store.Now()
			r.Status = to
			switch to {
			case requests.StatusDenied:
				r.DenialReason, r.Outcome, r.CompletedAt = note, requests.OutcomeDenied, &now
			case requests.StatusCompleted:
				o, err := outcomeOf(tx.G, r)
				if err != nil {
					return "", nil, err
				}
				if len(o.Pending) > 0 {
					if override == "" {
						return "", nil, &errs.ConflictError{Field: "override", Message: fmt.Sprintf(
							"%s %s not answered yet: wait for the answer, or record why the request is completed without it",
							outbox.MailList(o.Pending).String(), map[bool]string{true: "has", false: "have"}[len(o.Pending) == 1])}
					}
					text += fmt.Sprintf(" Completed without the answer of %s. Override: %s", outbox.MailList(o.Pending).String(), override)
					details["override"], details["pending"] = override, o.Pending
				}
				outcome, whole := o.record(note)
				r.Outcome, r.CompletedAt = outcome, &now
				details["outcome"] = map[bool]string{true: requests.OutcomeComplied, false: requests.OutcomeCompliedInPart}[whole]
				if !whole {
					text += " Recorded as complied with in part: " + strings.TrimPrefix(outcome, "Partial: ")
				}
			case requests.StatusWithdrawn:
				r.Outcome, r.CompletedAt = requests.OutcomeWithdrawn, &now
			}
			return text, details, nil
		})
		if err != nil {
			return err
		}
		if requests.Closed(out.Status) {
			if err := requests.DeleteProofs(tx, out); err != nil {
				return err
			}
		}
		switch out.Status {
		case requests.StatusCompleted:
			return mailOutcome(tx, out, outbox.MailCompletion, ch.LinkFor)
		case requests.StatusDenied:
			return mailOutcome(tx, out, outbox.MailDenial, nil)
		}
		return nil
	})
	return out, err
}
