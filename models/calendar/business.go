package calendar

import (
	"time"
)

// Business is how the console reckons time for deadlines: the business
// time zone, the holiday calendar and the deadline policy.
type Business struct {
	Loc      *time.Location
	Calendar *Calendar
	Policy   DeadlinePolicy
}

// DefaultBusiness is America/Los_Angeles with the US federal calendar.
func DefaultBusiness() Business {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		loc = time.UTC
	}
	return Business{Loc: loc, Calendar: DefaultCalendar(), Policy: DefaultDeadlinePolicy()}
}

// Today is the civil date now in the business time zone.
func (b Business) Today() Date { return TodayIn(b.Loc) }
