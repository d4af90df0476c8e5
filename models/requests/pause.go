package requests

import (
	calendar "github.com/sendara/console/models/calendar"
	errs "github.com/sendara/console/models/errs"

	outbox "github.com/sendara/console/models/outbox"

	"context"
	"fmt"
	"strings"
	"time"

	store "github.com/sendara/console/models/store"
)

// CanPause says whether the law lets the clock of a request under regime
// stop while Sendara waits on the requester: under the GDPR and the UK
// GDPR the month runs from when Sendara has what it needs to identify the
// person or to understand the request (EDPB Guidelines 01/2022 on the
// right of access, §4.3; ICO guidance on the "clock pause"); the CCPA's 45
// days run whether or not the request is verified (§7021(b)), and a
// request under no named law keeps the strictest reading.
func CanPause(regime string) error {
	switch regime {
	case calendar.RegimeGDPR, calendar.RegimeUKGDPR:
		return nil
	case calendar.RegimeCCPA:
		return errs.Invalid("regime", "the CCPA's 45 days run whether or not the request is verified (§7021(b)): the clock cannot stop; ask, and extend if the law allows")
	}
	return errs.Invalid("regime", "set the regime first: only the GDPR and the UK GDPR let the clock stop while the requester answers")
}

// AskRequester mails the requester a question Sendara needs answered to
// identify them or to understand the request, and stops the clock: the
// request waits on the requester until RequesterAnswered, and its due
// dates move by the days it waited. Only where CanPause allows.
func (db *RequestStore) AskRequester(ctx context.Context, actor store.Actor, id, question string) (*PrivacyRequest, error) {
	question = strings.TrimSpace(question)
	if question == "" || len(question) > 10000 {
		return nil, errs.Invalid("question", "write what the requester must tell us (at most 10000 characters); it is mailed to them")
	}
	var out *PrivacyRequest
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		var err error
		out, err = UpdateRequest(tx, id, "request.pause", func(r *PrivacyRequest) (string, map[string]any, error) {
			if Closed(r.Status) || r.Status == StatusWaiting {
				return "", nil, ErrTransition(r.Status, StatusWaiting)
			}
			if err := CanPause(r.Regime); err != nil {
				return "", nil, err
			}
			now := store.Now()
			r.PausedAt, r.PausedFrom, r.Status = &now, r.Status, StatusWaiting
			return "Asked the requester, and stopped the clock until they answer: " + question, map[string]any{"from": r.PausedFrom}, nil
		})
		if err != nil {
			return err
		}
		d := out.MailData()
		d.Message = question + "\n\nUntil you answer, the time we have to reply to your request is paused."
		return MailRequester(tx, out, outbox.MailOther, d)
	})
	return out, err
}

// RequesterAnswered records that the requester answered: the request goes
// back to where it was, and its due dates (and extension) move by the
// whole days the clock stood still, counted as civil dates in the business
// time zone.
func (db *RequestStore) RequesterAnswered(ctx context.Context, actor store.Actor, biz calendar.Business, id, note string) (*PrivacyRequest, error) {
	var out *PrivacyRequest
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		var err error
		out, err = Resume(tx, biz, id, strings.TrimSpace(note))
		return err
	})
	return out, err
}

func Resume(t *store.Tx, biz calendar.Business, id, note string) (*PrivacyRequest, error) {
	return UpdateRequest(t, id, "request.resume", func(r *PrivacyRequest) (string, map[string]any, error) {
		if r.Status != StatusWaiting || r.PausedAt == nil {
			return "", nil, &errs.ConflictError{Field: "status", Message: "the request is not waiting on the requester"}
		}
		days := store.DaysBetween(calendar.DateOf(*r.PausedAt, biz.Loc), calendar.TodayIn(biz.Loc))
		r.DueOn = r.DueOn.AddDays(days)
		if r.ExtendedTo != nil {
			ext := r.ExtendedTo.AddDays(days)
			r.ExtendedTo = &ext
		}
		r.PausedDays += days
		r.Status, r.PausedAt, r.PausedFrom = r.PausedFrom, nil, ""
		text := fmt.Sprintf("The requester answered; the clock runs again after %d day(s) paused. Due now %s.", days, r.EffectiveDueOn())
		if note != "" {
			text += " " + note
		}
		return text, map[string]any{"paused_days": days, "due_on": r.DueOn}, nil
	})
}

// PausedSince is the civil date the clock stopped, in loc; "" when it runs.
func (r *PrivacyRequest) PausedSince(loc *time.Location) string {
	if r.PausedAt == nil {
		return ""
	}
	return calendar.DateOf(*r.PausedAt, loc).String()
}
