package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	outbox "github.com/sendara/console/models/outbox"

	"context"
	"testing"
	"time"

	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

func TestTheClockStopsWhileWaitingOnTheRequesterOnlyWhereTheLawAllows(t *testing.T) {
	t.Parallel()
	cases := []struct {
		regime   string
		pauses   bool
		byMail   bool // the answer arrives by mail on the thread
		waitDays int
	}{
		{regime: calendar.RegimeGDPR, pauses: true, waitDays: 3},
		{regime: calendar.RegimeUKGDPR, pauses: true, byMail: true, waitDays: 5},
		{regime: calendar.RegimeCCPA},
		{regime: calendar.RegimeOther},
	}
	for _, tc := range cases {
		t.Run(tc.regime, func(t *testing.T) {
			db := modeltest.Open(t)
			ctx := context.Background()
			biz := la(t)
			r := newRequest(t, db, requests.RequestInput{Type: calendar.TypeAccess, Regime: tc.regime, Requester: requests.Requester{Email: janeEmail}})
			asked, err := db.AskRequester(ctx, modeltest.Staff, r.ID, "Which phone number did the business text you on?")
			if !tc.pauses {
				if !isValidation(err, "regime") {
					t.Fatalf("asking under %s: %v, want refused: the clock never stops", tc.regime, err)
				}
				if got, _ := db.Request(ctx, modeltest.Staff, r.ID); got.Status != requests.StatusReceived || got.DueOn != r.DueOn {
					t.Errorf("a refused pause changed the request: %s, due %s", got.Status, got.DueOn)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if asked.Status != requests.StatusWaiting {
				t.Fatalf("status %s, want waiting on the requester", asked.Status)
			}
			if m := requesterMail(t, db, asked, outbox.MailOther); m == nil {
				t.Fatal("the question was not mailed")
			}
			// The request has waited waitDays in the business time zone.
			pausedAt := time.Now().AddDate(0, 0, -tc.waitDays)
			if err := db.Gorm.Exec("UPDATE privacy_requests SET paused_at = ? WHERE id = ?", pausedAt.UTC(), r.ID).Error; err != nil {
				t.Fatal(err)
			}
			today := calendar.TodayIn(biz.Loc)
			board, err := db.DeadlineBoard(ctx, modeltest.Staff, today, biz.Loc)
			if err != nil {
				t.Fatal(err)
			}
			want := r.DueOn.AddDays(tc.waitDays)
			found := false
			for _, col := range board.Columns {
				for _, c := range col.Cards {
					if c.Request.ID == r.ID {
						found = true
						if c.PausedSince == "" || c.DueOn != want {
							t.Errorf("board card: paused since %q, due %s; want paused and due %s", c.PausedSince, c.DueOn, want)
						}
					}
				}
			}
			if !found {
				t.Error("the waiting request is not on the deadline board")
			}
			var back *requests.PrivacyRequest
			if tc.byMail {
				back, _, err = db.ReceiveMail(ctx, biz, "US", requests.MailIntake{MessageID: "answer@example.com", FromAddr: janeEmail,
					Subject: "Re: " + r.Reference, Body: "It was 415 555 0123.", Reference: r.Reference, Raw: []byte("Subject: answer\r\n\r\nIt was 415 555 0123.\r\n")})
				if err == nil {
					back, err = db.Request(ctx, modeltest.Staff, r.ID)
				}
			} else {
				back, err = db.RequesterAnswered(ctx, modeltest.Staff, biz, r.ID, "phoned us with the number")
			}
			if err != nil {
				t.Fatal(err)
			}
			if back.Status != requests.StatusReceived || back.DueOn != want || back.PausedDays != tc.waitDays {
				t.Errorf("after the answer: %s, due %s, paused %d days; want received, due %s, %d days", back.Status, back.DueOn, back.PausedDays, want, tc.waitDays)
			}
		})
	}
}
