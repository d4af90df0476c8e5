// Package calendar is time as privacy law counts it, without a database:
// civil dates (Date), business calendars with holidays, the business
// settings (zone, calendar, deadline policy) and the deadlines each regime
// sets for each kind of request.
package calendar

import (
	"bufio"
	"database/sql/driver"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Date is a civil date: a day on the calendar, with no time of day and no
// zone, the unit in which privacy laws state deadlines. It is written
// YYYY-MM-DD everywhere: String, JSON and a TEXT column. The zero Date means
// "no date": its String is "", its JSON null and its SQL value NULL.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the date an instant falls on in loc (UTC when loc is nil).
func DateOf(t time.Time, loc *time.Location) Date {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// TodayIn is today's date in loc, the business time zone (UTC when nil).
func TodayIn(loc *time.Location) Date { return DateOf(time.Now(), loc) }

// ParseDate reads a YYYY-MM-DD date, refusing dates that do not exist
// (2026-02-30) and any other layout.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date in the form YYYY-MM-DD", s)
	}
	return DateOf(t, time.UTC), nil
}

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// IsZero reports whether d is the zero Date, which stands for "no date".
func (d Date) IsZero() bool { return d == Date{} }

// Midnight is d at 00:00 UTC; civil arithmetic in UTC has no DST gaps.
func (d Date) Midnight() time.Time { return date(d.Year, d.Month, d.Day) }

// Weekday is the day of the week d falls on.
func (d Date) Weekday() time.Weekday { return d.Midnight().Weekday() }

// AddDays returns the date n calendar days after d (before it when n < 0).
func (d Date) AddDays(n int) Date { return DateOf(d.Midnight().AddDate(0, 0, n), time.UTC) }

// AddMonths returns the same day number n months later, or that month's last
// day when it has none: 31 January plus one month is 28 or 29 February. This
// is how GDPR Art. 12(3) months are counted; time.AddDate would overflow into
// March instead.
func (d Date) AddMonths(n int) Date {
	first := date(d.Year, d.Month+time.Month(n), 1)
	last := first.AddDate(0, 1, -1).Day()
	return Date{first.Year(), first.Month(), min(d.Day, last)}
}

// Compare returns -1, 0 or +1 as d is before, on or after e.
func (d Date) Compare(e Date) int { return d.Midnight().Compare(e.Midnight()) }

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is a later day than e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// OverdueOn reports whether a deadline on d has passed when it is today: d
// is an earlier day. A deadline is met on its own day; the zero Date (no
// deadline) is never overdue.
func (d Date) OverdueOn(today Date) bool { return !d.IsZero() && d.Before(today) }

// Overdue reports whether a deadline on d has passed at the instant now,
// reckoned in loc, the business time zone (UTC when nil).
func (d Date) Overdue(now time.Time, loc *time.Location) bool { return d.OverdueOn(DateOf(now, loc)) }

// DueWithin reports whether a deadline on d is still to be met and falls
// on or before last: today ≤ d ≤ last. The zero Date is never due.
func (d Date) DueWithin(today, last Date) bool {
	return !d.IsZero() && !d.Before(today) && !d.After(last)
}

// DerefDate is *d, or the zero Date when d is nil.
func DerefDate(d *Date) Date {
	if d == nil {
		return Date{}
	}
	return *d
}

// MarshalJSON writes "YYYY-MM-DD", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "YYYY-MM-DD" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a date is a string in the form YYYY-MM-DD: %w", err)
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Value stores d as TEXT "YYYY-MM-DD", or NULL for the zero Date.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// Scan reads a TEXT "YYYY-MM-DD" column. NULL gives the zero Date; a driver
// that hands back a time.Time (a DATE column) gives that time's own date.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
		return nil
	case time.Time:
		*d = DateOf(v, v.Location())
		return nil
	case string:
		p, err := ParseDate(v)
		*d = p
		return err
	case []byte:
		p, err := ParseDate(string(v))
		*d = p
		return err
	}
	return fmt.Errorf("scan date: unsupported type %T", src)
}

// Calendar says which days are business days: Monday to Friday minus the
// holidays it holds. Dates are civil dates in the business time zone.
type Calendar struct {
	holidays map[string]string // YYYY-MM-DD → name
}

// CalendarDay is one holiday of a Calendar.
type CalendarDay struct {
	Date Date
	Name string
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
// the Friday before, a Sunday one on the Monday after. A New Year's Day on a
// Saturday is therefore observed on 31 December of the year before, which
// belongs to that earlier year (OPM lists Friday 31 December 2021 among the
// 2021 holidays).
func USFederalCalendar(fromYear, toYear int) *Calendar {
	h := map[string]string{}
	add := func(d time.Time, name string) {
		if y := d.Year(); y >= fromYear && y <= toYear {
			h[d.Format(time.DateOnly)] = name
		}
	}
	for y := fromYear; y <= toYear+1; y++ {
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

// LoadCalendar reads a holiday calendar file (see ParseCalendarCSV). The
// file replaces the default US federal calendar entirely: list every
// holiday, for every year deadlines may reach.
func LoadCalendar(path string) (*Calendar, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open holiday calendar: %w", err)
	}
	defer f.Close()
	c, err := ParseCalendarCSV(f)
	if err != nil {
		return nil, fmt.Errorf("holiday calendar %s: %w", path, err)
	}
	return c, nil
}

// ParseCalendarCSV reads holidays as CSV lines "date,name": the date is
// YYYY-MM-DD, the name optional ("Holiday" when absent) and quoted when it
// holds a comma. A first line "date,name" is a header; blank lines and lines
// starting with # are skipped; a UTF-8 byte-order mark is ignored. Errors
// name the line. A date listed twice is an error, since one of the two lines
// is likely a typo for another day.
func ParseCalendarCSV(r io.Reader) (*Calendar, error) {
	h := map[string]string{}
	seenOn := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n, content := 0, 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		content++
		cr := csv.NewReader(strings.NewReader(line))
		cr.FieldsPerRecord = -1
		fields, err := cr.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		if len(fields) > 2 {
			return nil, fmt.Errorf("line %d: want date,name but found %d fields (quote a name that contains a comma)", n, len(fields))
		}
		day := strings.TrimSpace(fields[0])
		if content == 1 && strings.EqualFold(day, "date") {
			continue
		}
		d, err := ParseDate(day)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		key := d.String()
		if first, dup := seenOn[key]; dup {
			return nil, fmt.Errorf("line %d: %s is already listed on line %d", n, key, first)
		}
		name := "Holiday"
		if len(fields) == 2 && strings.TrimSpace(fields[1]) != "" {
			name = strings.TrimSpace(fields[1])
		}
		h[key], seenOn[key] = name, n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("after line %d: %w", n, err)
	}
	return &Calendar{holidays: h}, nil
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

// Holidays lists the calendar's holidays in date order.
func (c *Calendar) Holidays() []CalendarDay {
	out := make([]CalendarDay, 0, len(c.holidays))
	for k, name := range c.holidays {
		d, err := ParseDate(k)
		if err != nil {
			continue // NewCalendar takes keys on trust; a malformed one can match no day
		}
		out = append(out, CalendarDay{Date: d, Name: name})
	}
	slices.SortFunc(out, func(a, b CalendarDay) int { return a.Date.Compare(b.Date) })
	return out
}

// AddBusinessDays returns the civil date n business days after the day an
// instant falls on in loc: the day of receipt does not count.
func (c *Calendar) AddBusinessDays(at time.Time, loc *time.Location, n int) time.Time {
	return c.BusinessDaysAfter(DateOf(at, loc), n).Midnight()
}

// BusinessDaysAfter returns the date n business days after d, d itself not
// counting: one business day after a Friday is the Monday (or the Tuesday
// when Monday is a holiday). When n ≤ 0 it is d.
func (c *Calendar) BusinessDaysAfter(d Date, n int) Date {
	t := d.Midnight()
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if c.BusinessDay(t) {
			n--
		}
	}
	return DateOf(t, time.UTC)
}

// BusinessDaysBetween counts the business days after from up to and
// including to (from itself does not count); 0 when to is not after from.
func (c *Calendar) BusinessDaysBetween(from, to Date) int {
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		if c.BusinessDay(d.Midnight()) {
			n++
		}
	}
	return n
}
