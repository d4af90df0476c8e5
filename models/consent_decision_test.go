package models_test

import (
	"errors"
	"testing"
	"time"

	consent "github.com/sendara/console/models/consent"
	errs "github.com/sendara/console/models/errs"
)

func decisionAt(h int) time.Time {
	return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(h) * time.Hour)
}

func decisionOut(reason string, h int) consent.ConsentState {
	return consent.ConsentState{Suppressed: true, Reason: reason, Since: decisionAt(h)}
}

func decisionIn(h int) consent.ConsentState { return consent.ConsentState{Since: decisionAt(h)} }

// TestDecideConsent is the opt-out rule without a database: what a new
// event does given the person's standing per channel.
func TestDecideConsent(t *testing.T) {
	t.Parallel()
	const im, ft = consent.ChannelIMessage, consent.ChannelFaceTime
	type states = map[string]consent.ConsentState
	out := func(ch string, h int) consent.ConsentChange {
		return consent.ConsentChange{Kind: consent.OptOut, Reason: consent.ReasonOptOut, Channel: ch, OccurredAt: decisionAt(h)}
	}
	in := func(ch string, h int) consent.ConsentChange {
		return consent.ConsentChange{Kind: consent.OptIn, Channel: ch, OccurredAt: decisionAt(h)}
	}
	restrict := consent.ConsentChange{Kind: consent.OptOut, Reason: consent.ReasonRestriction, Channel: consent.ChannelAll, OccurredAt: decisionAt(5)}
	tests := []struct {
		name     string
		states   states
		change   consent.ConsentChange
		appends  bool
		conflict string // the ConflictError's field, "" for none
	}{
		{"first opt-out of a new person", states{}, out(consent.ChannelAll, 1), true, ""},
		{"opt-out already standing on every channel", states{im: decisionOut("opt_out", 1), ft: decisionOut("opt_out", 1)}, out(consent.ChannelAll, 9), false, ""},
		{"an earlier opt-out when one stands: no-op, the standing one keeps its date", states{im: decisionOut("opt_out", 5), ft: decisionOut("opt_out", 5)}, out(consent.ChannelAll, 1), false, ""},
		{"opt-out on all when only iMessage stands", states{im: decisionOut("opt_out", 1)}, out(consent.ChannelAll, 2), true, ""},
		{"opt-out on iMessage when only iMessage stands", states{im: decisionOut("opt_out", 1)}, out(im, 2), false, ""},
		{"opt-out on FaceTime when only iMessage stands", states{im: decisionOut("opt_out", 1)}, out(ft, 2), true, ""},
		{"opt-out after a later opt-in", states{im: decisionIn(3), ft: decisionIn(3)}, out(consent.ChannelAll, 4), true, ""},
		{"opt-out dated before a standing opt-in is still recorded", states{im: decisionIn(3), ft: decisionIn(3)}, out(consent.ChannelAll, 1), true, ""},
		{"a plain opt-out on an erased person changes nothing", states{im: decisionOut("erasure", 0), ft: decisionOut("erasure", 0)}, out(consent.ChannelAll, 2), false, ""},
		{"a restriction on top of an opt-out is recorded", states{im: decisionOut("opt_out", 1), ft: decisionOut("opt_out", 1)}, restrict, true, ""},
		{"a restriction on top of a restriction is not", states{im: decisionOut("restriction", 1), ft: decisionOut("restriction", 1)}, restrict, false, ""},
		{"opt-in of a new person", states{}, in(consent.ChannelAll, 1), true, ""},
		{"opt-in after the opt-out", states{im: decisionOut("opt_out", 1), ft: decisionOut("opt_out", 1)}, in(consent.ChannelAll, 2), true, ""},
		{"opt-in at the opt-out's very instant: the opt-out stands", states{im: decisionOut("opt_out", 2)}, in(im, 2), false, "occurred_at"},
		{"opt-in before the opt-out", states{im: decisionOut("opt_out", 2)}, in(consent.ChannelAll, 1), false, "occurred_at"},
		{"opt-in on FaceTime is not held back by an iMessage opt-out", states{im: decisionOut("opt_out", 2)}, in(ft, 1), true, ""},
		{"opt-in cannot lift an erasure", states{im: decisionOut("erasure", 0), ft: decisionOut("erasure", 0)}, in(consent.ChannelAll, 9), false, "to"},
		{"opt-in cannot lift a restriction", states{ft: decisionOut("restriction", 0)}, in(ft, 9), false, "to"},
		{"opt-in already standing", states{im: decisionIn(1), ft: decisionIn(1)}, in(consent.ChannelAll, 5), false, ""},
		{"opt-in on all where only iMessage stands opted in", states{im: decisionIn(1)}, in(consent.ChannelAll, 5), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			appends, err := consent.DecideConsent(tt.states, tt.change)
			var ce *errs.ConflictError
			switch {
			case tt.conflict == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tt.conflict != "" && (!errors.As(err, &ce) || ce.Field != tt.conflict):
				t.Fatalf("error %v, want a conflict on %s", err, tt.conflict)
			}
			if appends != tt.appends {
				t.Errorf("appends %v, want %v", appends, tt.appends)
			}
		})
	}
	if _, err := consent.DecideConsent(nil, consent.ConsentChange{Kind: "maybe", Channel: im}); err == nil {
		t.Error("an unknown kind was decided")
	}
}

// TestConsentStanding folds a ledger: order by occurred_at, ties by
// recorded_at; an opt-out's since is the first of a run of opt-outs.
func TestConsentStanding(t *testing.T) {
	t.Parallel()
	ev := func(id, kind, ch string, h, rec int) consent.ConsentEvent {
		reason := ""
		if kind == consent.OptOut {
			reason = consent.ReasonOptOut
		}
		return consent.ConsentEvent{ID: id, Kind: kind, Reason: reason, Channel: ch, OccurredAt: decisionAt(h), RecordedAt: decisionAt(100 + rec)}
	}
	got := consent.ConsentStanding([]consent.ConsentEvent{
		ev("c", consent.OptOut, consent.ChannelIMessage, 5, 3),
		ev("a", consent.OptOut, consent.ChannelAll, 1, 1),
		ev("b", consent.OptIn, consent.ChannelAll, 3, 2),
		ev("d", consent.OptIn, consent.ChannelIMessage, 5, 4), // same instant as c, recorded after it
		ev("e", consent.OptOut, consent.ChannelFaceTime, 7, 0),
		ev("f", consent.OptOut, consent.ChannelFaceTime, 8, 5),
	})
	im, ft := got[consent.ChannelIMessage], got[consent.ChannelFaceTime]
	if im.Suppressed || im.EventID != "d" || !im.Since.Equal(decisionAt(5)) {
		t.Errorf("iMessage %+v, want opted in by d at hour 5", im)
	}
	if !ft.Suppressed || ft.EventID != "f" || !ft.Since.Equal(decisionAt(7)) || ft.Reason != consent.ReasonOptOut {
		t.Errorf("FaceTime %+v, want opted out since hour 7, last event f", ft)
	}
	if len(consent.ConsentStanding(nil)) != 0 {
		t.Error("an empty ledger has a standing")
	}
}
