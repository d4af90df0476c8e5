package models

import (
	"context"
	"fmt"
	"strings"
	"time"
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
	case RegimeGDPR, RegimeUKGDPR:
		return nil
	case RegimeCCPA:
		return Invalid("regime", "the CCPA's 45 days run whether or not the request is verified (§7021(b)): the clock cannot stop; ask, and extend if the law allows")
	}
	return Invalid("regime", "set the regime first: only the GDPR and the UK GDPR let the clock stop while the requester answers")
}

// AskRequester mails the requester a question Sendara needs answered to
// identify them or to understand the request, and stops the clock: the
// request waits on the requester until RequesterAnswered, and its due
// dates move by the days it waited. Only where CanPause allows.
func (db *DB) AskRequester(ctx context.Context, actor Actor, id, question string) (*PrivacyRequest, error) {
	question = strings.TrimSpace(question)
	if question == "" || len(question) > 10000 {
		return nil, Invalid("question", "write what the requester must tell us (at most 10000 characters); it is mailed to them")
	}
	var out *PrivacyRequest
	err := db.Tx(ctx, actor, func(tx *Tx) error {
		var err error
		out, err = tx.updateRequest(id, "request.pause", func(r *PrivacyRequest) (string, map[string]any, error) {
			if Closed(r.Status) || r.Status == StatusWaiting {
				return "", nil, errTransition(r.Status, StatusWaiting)
			}
			if err := CanPause(r.Regime); err != nil {
				return "", nil, err
			}
			now := Now()
			r.PausedAt, r.PausedFrom, r.Status = &now, r.Status, StatusWaiting
			return "Asked the requester, and stopped the clock until they answer: " + question, map[string]any{"from": r.PausedFrom}, nil
		})
		if err != nil {
			return err
		}
		d := out.mailData()
		d.Message = question + "\n\nUntil you answer, the time we have to reply to your request is paused."
		return tx.mailRequester(out, MailOther, d)
	})
	return out, err
}

// RequesterAnswered records that the requester answered: the request goes
// back to where it was, and its due dates (and extension) move by the
// whole days the clock stood still, counted as civil dates in the business
// time zone.
func (db *DB) RequesterAnswered(ctx context.Context, actor Actor, biz Business, id, note string) (*PrivacyRequest, error) {
	var out *PrivacyRequest
	err := db.Tx(ctx, actor, func(tx *Tx) error {
		var err error
		out, err = tx.resume(biz, id, strings.TrimSpace(note))
		return err
	})
	return out, err
}

func (t *Tx) resume(biz Business, id, note string) (*PrivacyRequest, error) {
	return t.updateRequest(id, "request.resume", func(r *PrivacyRequest) (string, map[string]any, error) {
		if r.Status != StatusWaiting || r.PausedAt == nil {
			return "", nil, &ConflictError{Field: "status", Message: "the request is not waiting on the requester"}
		}
		days := daysBetween(DateOf(*r.PausedAt, biz.Loc), TodayIn(biz.Loc))
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
	return DateOf(*r.PausedAt, loc).String()
}
