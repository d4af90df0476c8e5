package models

import (
	"time"
)

// Calendar says which days are business days: Monday to Friday minus the
// holidays it holds. Dates are civil dates in the business time zone.
type Calendar struct {
	holidays map[string]string // YYYY-MM-DD → name
}

// NewCalendar builds a calendar from explicit holidays (YYYY-MM-DD → name).
func NewCalendar(holidays map[string]string) *Calendar {
	h := make(map[string]string, len(holidays))
	for d, n := range holidays {
		h[d] = n
	}
	return &Calendar{holidays: h}
}

// USFederalCalendar holds the US federal holidays (5 U.S.C. 6103) of the
// given years, with the observed-day rule: a Saturday holiday is observed on
// the Friday before, a Sunday one on the Monday after.
func USFederalCalendar(fromYear, toYear int) *Calendar {
	h := map[string]string{}
	add := func(d time.Time, name string) { h[d.Format(time.DateOnly)] = name }
	for y := fromYear; y <= toYear; y++ {
		add(observed(date(y, time.January, 1)), "New Year's Day")
		add(nthWeekday(y, time.January, time.Monday, 3), "Birthday of Martin Luther King, Jr.")
		add(nthWeekday(y, time.February, time.Monday, 3), "Washington's Birthday")
		add(lastWeekday(y, time.May, time.Monday), "Memorial Day")
		if y >= 2021 {
			add(observed(date(y, time.June, 19)), "Juneteenth National Independence Day")
		}
		add(observed(date(y, time.July, 4)), "Independence Day")
		add(nthWeekday(y, time.September, time.Monday, 1), "Labor Day")
		add(nthWeekday(y, time.October, time.Monday, 2), "Columbus Day")
		add(observed(date(y, time.November, 11)), "Veterans Day")
		add(nthWeekday(y, time.November, time.Thursday, 4), "Thanksgiving Day")
		add(observed(date(y, time.December, 25)), "Christmas Day")
	}
	return &Calendar{holidays: h}
}

// DefaultCalendar is the US federal calendar around today, wide enough for
// any deadline the console computes.
func DefaultCalendar() *Calendar {
	y := time.Now().Year()
	return USFederalCalendar(y-3, y+3)
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func observed(d time.Time) time.Time {
	switch d.Weekday() {
	case time.Saturday:
		return d.AddDate(0, 0, -1)
	case time.Sunday:
		return d.AddDate(0, 0, 1)
	}
	return d
}

func nthWeekday(y int, m time.Month, wd time.Weekday, n int) time.Time {
	d := date(y, m, 1)
	for d.Weekday() != wd {
		d = d.AddDate(0, 0, 1)
	}
	return d.AddDate(0, 0, 7*(n-1))
}

func lastWeekday(y int, m time.Month, wd time.Weekday) time.Time {
	d := date(y, m+1, 1).AddDate(0, 0, -1)
	for d.Weekday() != wd {
		d = d.AddDate(0, 0, -1)
	}
	return d
}

// Holiday names the holiday on a civil date, or "".
func (c *Calendar) Holiday(d time.Time) string { return c.holidays[d.Format(time.DateOnly)] }

// BusinessDay reports whether the civil date d is a business day.
func (c *Calendar) BusinessDay(d time.Time) bool {
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday && c.Holiday(d) == ""
}

// AddBusinessDays returns the civil date n business days after the day an
// instant falls on in loc: the day of receipt does not count.
func (c *Calendar) AddBusinessDays(at time.Time, loc *time.Location, n int) time.Time {
	l := at.In(loc)
	d := date(l.Year(), l.Month(), l.Day())
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if c.BusinessDay(d) {
			n--
		}
	}
	return d
}
