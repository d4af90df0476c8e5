package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	"context"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestReviewDueDatesFollowTheConfiguredCalendar(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := mustCustomer(t, db, "acme")
	cal, err := calendar.ParseCalendarCSV(strings.NewReader("date,name\n2026-12-01,Company day\n2026-12-02,Company day 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	received := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC) // Monday 09:00 in Los Angeles
	tests := []struct {
		name string
		cal  *calendar.Calendar
		want string
	}{
		// 10 business days after Monday 23 Nov, Thanksgiving (26 Nov) off.
		{"US federal holidays", calendar.DefaultCalendar(), "2026-12-08"},
		// The file replaces the federal calendar: Thanksgiving counts, 1 and 2 Dec do not.
		{"a calendar file", cal, "2026-12-09"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			biz := calendar.Business{Loc: calendar.DefaultBusiness().Loc, Calendar: tt.cal}
			r, err := db.RecordInbound(context.Background(), modeltest.Staff, acme.ID, "+1415555010"+string(rune('0'+i)),
				"can I cancel my booking?", received, "US", biz)
			if err != nil {
				t.Fatal(err)
			}
			if r.ReviewDueOn == nil || r.ReviewDueOn.String() != tt.want {
				t.Errorf("due %v, want %s", r.ReviewDueOn, tt.want)
			}
		})
	}
}

func TestTheSameReplyDeliveredTwiceIsOneReply(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	received := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	tests := []struct {
		from, body string
		action     string
		events     int64 // consent events the first delivery records
		stored     bool  // a stranger's HELP leaves no reply to find again
	}{
		{"+14155550101", "STOP", consent.ReplyOptOut, 1, true},
		{"+14155550102", "I can't stop laughing", consent.ReplyReview, 0, true},
		{"+14155550103", "AYUDA", consent.ReplyHelp, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			deliver := func(spelling string) *consent.InboundReply {
				r, err := db.RecordInbound(ctx, modeltest.Staff, acme.ID, spelling, tt.body, received, "US", calendar.DefaultBusiness())
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			first := deliver(tt.from)
			counts := func() (replies, events, audits int64) {
				db.Gorm.Model(&consent.InboundReply{}).Where("from_value = ?", tt.from).Count(&replies)
				db.Gorm.Model(&consent.ConsentEvent{}).Where("customer_id = ?", acme.ID).Where("evidence LIKE ?", "%"+tt.from+"%").Count(&events)
				db.Gorm.Model(&store.AuditEvent{}).Count(&audits)
				return
			}
			replies, events, audits := counts()
			// The pipeline retries with the number written another way.
			again := deliver("(" + tt.from[2:5] + ") " + tt.from[5:8] + "-" + tt.from[8:])
			if again.Action != tt.action || first.Action != tt.action || (tt.stored && again.ID != first.ID) {
				t.Errorf("first %s %s, again %s %s; want the same reply, %s", first.ID, first.Action, again.ID, again.Action, tt.action)
			}
			r2, e2, a2 := counts()
			if events != tt.events || r2 != replies || e2 != events || a2 != audits {
				t.Errorf("after the second delivery: %d replies, %d events, %d audit entries; before: %d, %d (want %d), %d",
					r2, e2, a2, replies, events, tt.events, audits)
			}
		})
	}
	queue, err := db.ReviewQueue(ctx, modeltest.Staff, acme.ID, 50)
	if err != nil || len(queue) != 1 {
		t.Errorf("review queue = %+v, %v; want the one reply once", queue, err)
	}
	// The same text at another time is another reply.
	later, err := db.RecordInbound(ctx, modeltest.Staff, acme.ID, "+14155550102", "I can't stop laughing", received.Add(time.Minute), "US", calendar.DefaultBusiness())
	if err != nil || later.Action != consent.ReplyReview {
		t.Fatalf("a later reply: %+v, %v", later, err)
	}
	if queue, _ := db.ReviewQueue(ctx, modeltest.Staff, acme.ID, 50); len(queue) != 2 {
		t.Errorf("review queue holds %d replies after a later one, want 2", len(queue))
	}
}
