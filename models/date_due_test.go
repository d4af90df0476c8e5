package models_test

import (
	"testing"
	"time"

	calendar "github.com/sendara/console/models/calendar"
	"github.com/sendara/console/models/modeltest"
)

// A deadline is met on its own day and overdue from the next day on, the
// day reckoned in the business time zone, not UTC.
func TestDateOverdue(t *testing.T) {
	t.Parallel()
	la := losAngeles(t)
	due := mustDate(t, "2026-06-10")
	tests := []struct {
		name string
		due  calendar.Date
		now  time.Time
		loc  *time.Location
		want bool
	}{
		{"the day before", due, time.Date(2026, 6, 9, 12, 0, 0, 0, time.UTC), time.UTC, false},
		{"on the day itself, last second", due, time.Date(2026, 6, 10, 23, 59, 59, 0, time.UTC), time.UTC, false},
		{"the day after, first second", due, time.Date(2026, 6, 11, 0, 0, 0, 0, time.UTC), time.UTC, true},
		{"already the 11th in UTC but still the 10th in Los Angeles", due, time.Date(2026, 6, 11, 5, 0, 0, 0, time.UTC), la, false},
		{"the 11th in Los Angeles too", due, time.Date(2026, 6, 11, 7, 0, 0, 0, time.UTC), la, true},
		{"a month later", due, time.Date(2026, 7, 10, 12, 0, 0, 0, time.UTC), la, true},
		{"a later year, earlier month", due, time.Date(2027, 1, 2, 12, 0, 0, 0, time.UTC), time.UTC, true},
		{"no deadline is never overdue", calendar.Date{}, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC, false},
		{"nil zone is UTC", due, time.Date(2026, 6, 11, 0, 30, 0, 0, time.UTC), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.due.Overdue(tt.now, tt.loc); got != tt.want {
				t.Errorf("%s due, now %s: overdue %v, want %v", tt.due, tt.now, got, tt.want)
			}
			if got := tt.due.OverdueOn(calendar.DateOf(tt.now, tt.loc)); got != tt.want {
				t.Errorf("OverdueOn disagrees with Overdue: %v", got)
			}
		})
	}
}

func TestDateDueWithin(t *testing.T) {
	t.Parallel()
	today, weekEnd := mustDate(t, "2026-06-10"), mustDate(t, "2026-06-13") // a Wednesday, its Saturday
	tests := []struct {
		due  string
		want bool
	}{
		{"2026-06-09", false}, // overdue, not "due this week"
		{"2026-06-10", true},
		{"2026-06-13", true},
		{"2026-06-14", false},
		{"", false},
	}
	for _, tt := range tests {
		var d calendar.Date
		if tt.due != "" {
			d = mustDate(t, tt.due)
		}
		if got := d.DueWithin(today, weekEnd); got != tt.want {
			t.Errorf("%q due within %s..%s: %v, want %v", tt.due, today, weekEnd, got, tt.want)
		}
	}
}

// Stored deadlines are TEXT columns; a DATE column (which a reporting copy
// or a later migration might use) must read back the same day on both
// databases, whatever the driver hands back for it.
func TestDeadlineDatesRoundTripThroughADateColumn(t *testing.T) {
	t.Parallel()
	db := modeltest.OpenEmpty(t)
	if err := db.Gorm.Exec("CREATE TABLE deadline_days (id INTEGER PRIMARY KEY, due_on DATE NOT NULL, ack_due_on DATE)").Error; err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID       int
		DueOn    calendar.Date
		AckDueOn *calendar.Date
	}
	due, ack := mustDate(t, "2027-01-31"), mustDate(t, "2026-12-31")
	if err := db.Gorm.Table("deadline_days").Create(&row{ID: 1, DueOn: due, AckDueOn: &ack}).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Table("deadline_days").Create(&row{ID: 2, DueOn: ack}).Error; err != nil {
		t.Fatal(err)
	}
	var rows []row
	if err := db.Gorm.Table("deadline_days").Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].DueOn != due || rows[0].AckDueOn == nil || *rows[0].AckDueOn != ack || rows[1].DueOn != ack || rows[1].AckDueOn != nil {
		t.Errorf("read back %+v, want %s/%s and %s/nil", rows, due, ack, ack)
	}
	var n int64
	if err := db.Gorm.Table("deadline_days").Where("due_on < ?", due).Count(&n).Error; err != nil || n != 1 {
		t.Errorf("%d rows due before %s (%v), want 1: a Date binds as a comparable parameter", n, due, err)
	}
}
