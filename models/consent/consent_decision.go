package consent

import (
	"fmt"
	"time"

	errs "github.com/sendara/console/models/errs"
)

// ConsentChange is a consent event to decide, already normalized: Kind
// OptIn or OptOut, Reason an opt-out's reason (ReasonOptOut, erasure,
// restriction, objection; "" for an opt-in), Channel one channel or
// ChannelAll, OccurredAt when the person said it.
type ConsentChange struct {
	Kind       string
	Reason     string
	Channel    string
	OccurredAt time.Time
}

// DecideConsent says whether a new consent event is appended to a
// person's ledger, given their state per channel now: the fold of their
// whole ledger (ConsentStanding; a channel with no event has no entry).
// An idempotency key already in the ledger is decided before this (the
// event is a no-op and finds or creates no contact).
//
//   - An opt-out is a no-op when every channel it names is suppressed
//     already, whatever its date (the standing opt-out keeps its own
//     "since"): for any reason when it is a plain opt-out, for the same
//     reason otherwise (a restriction on top of an opt-out is recorded).
//     Otherwise it is appended, even when dated before a later opt-in that
//     it therefore does not overturn: the ledger keeps what was said.
//   - An opt-in cannot lift a suppression other than an opt-out (erasure,
//     restriction, objection): a conflict naming the reason.
//   - An opt-in must be given after every opt-out standing on its
//     channels; at the same instant the opt-out stands: a conflict.
//   - An opt-in is a no-op when every channel it names stands opted in.
func DecideConsent(states map[string]ConsentState, ch ConsentChange) (bool, error) {
	affected := channelsOf(ch.Channel)
	switch ch.Kind {
	case OptOut:
		for _, c := range affected {
			s, ok := states[c]
			if !ok || !s.Suppressed || (s.Reason != ch.Reason && ch.Reason != ReasonOptOut) {
				return true, nil
			}
		}
		return false, nil
	case OptIn:
		for _, c := range affected {
			s, ok := states[c]
			if !ok || !s.Suppressed {
				continue
			}
			if s.Reason != ReasonOptOut {
				return false, &errs.ConflictError{Field: "to", Message: fmt.Sprintf("this person's data is under %s on %s: an opt-in cannot lift it", s.Reason, c)}
			}
			if !ch.OccurredAt.After(s.Since) {
				return false, &errs.ConflictError{Field: "occurred_at", Message: fmt.Sprintf(
					"a later opt-out (%s) stands on %s: an opt-in must have been given after it", s.Since.Format(time.RFC3339), c)}
			}
		}
		for _, c := range affected {
			if s, ok := states[c]; !ok || s.Suppressed {
				return true, nil
			}
		}
		return false, nil
	}
	return false, errs.Invalid("kind", "must be opt_in or opt_out")
}

// ConsentStanding is a person's state per channel after the events of
// their ledger, in the order they happened (ties: in the order recorded):
// the suppression lookup's rows. A channel no event applies to has no
// entry.
func ConsentStanding(ledger []ConsentEvent) map[string]ConsentState {
	out := make(map[string]ConsentState, len(Channels))
	for _, c := range Channels {
		if s, ok := FoldConsent(ledger, c, time.Time{}); ok {
			out[c] = s
		}
	}
	return out
}
