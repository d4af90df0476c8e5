package models_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
)

func TestReviewDueDatesFollowTheConfiguredCalendar(t *testing.T) {
	db := modeltest.Open(t)
	acme := mustCustomer(t, db, "acme")
	cal, err := models.ParseCalendarCSV(strings.NewReader("date,name\n2026-12-01,Company day\n2026-12-02,Company day 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	received := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC) // Monday 09:00 in Los Angeles
	tests := []struct {
		name string
		cal  *models.Calendar
		want string
	}{
		// 10 business days after Monday 23 Nov, Thanksgiving (26 Nov) off.
		{"US federal holidays", models.DefaultCalendar(), "2026-12-08"},
		// The file replaces the federal calendar: Thanksgiving counts, 1 and 2 Dec do not.
		{"a calendar file", cal, "2026-12-09"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			biz := models.Business{Loc: models.DefaultBusiness().Loc, Calendar: tt.cal}
			r, err := db.RecordInbound(context.Background(), modeltest.Staff, acme.ID, "+1415555010"+string(rune('0'+i)),
				"can I cancel my booking?", received, "US", biz)
			if err != nil {
				t.Fatal(err)
			}
			if r.ReviewDueOn == nil || *r.ReviewDueOn != tt.want {
				t.Errorf("due %v, want %s", r.ReviewDueOn, tt.want)
			}
		})
	}
}
