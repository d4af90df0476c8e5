package models_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	calendar "github.com/sendara/console/models/calendar"
)

func holidaysOf(c *calendar.Calendar, year int) []string {
	var out []string
	for _, h := range c.Holidays() {
		if h.Date.Year == year {
			out = append(out, h.Date.String())
		}
	}
	return out
}

// The official lists: OPM, "Federal Holidays" for 2026 and 2027
// (opm.gov/policy-data-oversight/pay-leave/federal-holidays).
func TestUSFederalCalendarMatchesTheOfficialHolidayLists(t *testing.T) {
	t.Parallel()
	tests := []struct {
		year int
		want []string
	}{
		{2026, []string{
			"2026-01-01", "2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19", "2026-07-03",
			"2026-09-07", "2026-10-12", "2026-11-11", "2026-11-26", "2026-12-25",
		}},
		{2027, []string{
			"2027-01-01", "2027-01-18", "2027-02-15", "2027-05-31", "2027-06-18", "2027-07-05",
			"2027-09-06", "2027-10-11", "2027-11-11", "2027-11-25", "2027-12-24",
			// New Year's Day 2028 is a Saturday, so it is observed on Friday
			// 31 December 2027 (5 U.S.C. 6103(b)), as 31 December 2021 was.
			"2027-12-31",
		}},
		{2021, []string{
			"2021-01-01", "2021-01-18", "2021-02-15", "2021-05-31", "2021-06-18", "2021-07-05",
			"2021-09-06", "2021-10-11", "2021-11-11", "2021-11-25", "2021-12-24", "2021-12-31",
		}},
	}
	for _, tt := range tests {
		t.Run(time.Date(tt.year, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006"), func(t *testing.T) {
			// Only the year asked for: 2028's observed New Year's Day must
			// appear even though 2028 is not.
			if got := holidaysOf(calendar.USFederalCalendar(tt.year, tt.year), tt.year); !slices.Equal(got, tt.want) {
				t.Errorf("holidays of %d:\n got %v\nwant %v", tt.year, got, tt.want)
			}
		})
	}
}

func TestUSFederalCalendarHoldsOnlyTheYearsAskedFor(t *testing.T) {
	t.Parallel()
	// New Year's Day 2022 (a Saturday) was observed on 31 December 2021,
	// which is not a 2022 holiday, and New Year's Day 2023 (a Sunday) on 2
	// January 2023: 2022 has ten federal holidays.
	c := calendar.USFederalCalendar(2022, 2022)
	for _, h := range c.Holidays() {
		if h.Date.Year != 2022 {
			t.Errorf("holiday %s %s outside 2022", h.Date, h.Name)
		}
	}
	if got := len(c.Holidays()); got != 10 {
		t.Errorf("%d holidays in 2022, want 10", got)
	}
}

func TestCalendarNamesObservedHolidays(t *testing.T) {
	t.Parallel()
	c := calendar.USFederalCalendar(2026, 2027)
	tests := []struct{ day, name string }{
		{"2026-07-03", "Independence Day"},
		{"2027-06-18", "Juneteenth National Independence Day"},
		{"2027-12-24", "Christmas Day"},
		{"2027-12-31", "New Year's Day"},
		{"2026-07-04", ""},
		{"2026-11-27", ""},
	}
	for _, tt := range tests {
		d := mustDate(t, tt.day)
		if got := c.Holiday(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)); got != tt.name {
			t.Errorf("Holiday(%s) = %q, want %q", tt.day, got, tt.name)
		}
	}
}

func TestCalendarBusinessDaysSkipWeekendsAndHolidays(t *testing.T) {
	t.Parallel()
	c := calendar.USFederalCalendar(2026, 2027)
	tests := []struct {
		name, from string
		n          int
		want       string
	}{
		{"one business day after a Friday is the Monday", "2026-05-08", 1, "2026-05-11"},
		{"one business day after a Saturday is the Monday", "2026-05-09", 1, "2026-05-11"},
		{"one business day after the Friday before Memorial Day is the Tuesday", "2026-05-22", 1, "2026-05-26"},
		{"the day after Thanksgiving is a business day", "2026-11-25", 1, "2026-11-27"},
		{"ten business days over Christmas and New Year's Day", "2026-12-18", 10, "2027-01-05"},
		{"two business days over Juneteenth", "2026-06-18", 2, "2026-06-23"},
		{"zero business days is the same day", "2026-05-09", 0, "2026-05-09"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.BusinessDaysAfter(mustDate(t, tt.from), tt.n); got.String() != tt.want {
				t.Errorf("%d business days after %s = %s, want %s", tt.n, tt.from, got, tt.want)
			}
		})
	}
}

func TestCalendarAddBusinessDaysCountsFromTheDateInTheZone(t *testing.T) {
	t.Parallel()
	la := losAngeles(t)
	// 03:00 UTC on Thursday 26 November is Wednesday evening in Los Angeles.
	at := time.Date(2026, time.November, 26, 3, 0, 0, 0, time.UTC)
	if got := calendar.USFederalCalendar(2026, 2027).AddBusinessDays(at, la, 10).Format(time.DateOnly); got != "2026-12-10" {
		t.Errorf("AddBusinessDays = %s, want 2026-12-10", got)
	}
}

func TestCalendarCSVReplacesTheDefaultCalendar(t *testing.T) {
	t.Parallel()
	file := "\ufeffdate,name\r\n" +
		"# Company holidays 2026\r\n" +
		"\r\n" +
		"2026-11-27, Day after Thanksgiving\r\n" +
		"  # indented comment\r\n" +
		"2026-12-24,\"Christmas Eve, half day\"\r\n" +
		"2026-12-31\r\n"
	c, err := calendar.ParseCalendarCSV(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	want := []calendar.CalendarDay{
		{Date: mustDate(t, "2026-11-27"), Name: "Day after Thanksgiving"},
		{Date: mustDate(t, "2026-12-24"), Name: "Christmas Eve, half day"},
		{Date: mustDate(t, "2026-12-31"), Name: "Holiday"},
	}
	if got := c.Holidays(); !slices.Equal(got, want) {
		t.Errorf("holidays %v, want %v", got, want)
	}
	// Thanksgiving is not in the file, so it is a business day now; the day
	// after is not.
	if got := c.BusinessDaysAfter(mustDate(t, "2026-11-25"), 2); got.String() != "2026-11-30" {
		t.Errorf("two business days after 25 November = %s, want 2026-11-30", got)
	}
	la := losAngeles(t)
	d := calendar.ComputeDeadlines(calendar.RegimeCCPA, calendar.TypeOptOutSale, noonIn(t, "2026-11-25", la), la, c, calendar.DefaultDeadlinePolicy())
	// 26 Nov=1, 30 Nov–4 Dec=6, 7–11=11, 14–17=15 (27 November skipped).
	if d.DueOn.String() != "2026-12-17" {
		t.Errorf("opt-out due %s with the company calendar, want 2026-12-17", d.DueOn)
	}
}

func TestCalendarCSVWithoutHeaderOrHolidays(t *testing.T) {
	t.Parallel()
	c, err := calendar.ParseCalendarCSV(strings.NewReader("2027-01-01,New Year's Day\n"))
	if err != nil || len(c.Holidays()) != 1 {
		t.Errorf("no header: %v, %v", c, err)
	}
	c, err = calendar.ParseCalendarCSV(strings.NewReader("# nothing yet\n\n"))
	if err != nil || len(c.Holidays()) != 0 {
		t.Errorf("only comments: %v, %v", c, err)
	}
	if !c.BusinessDay(time.Date(2026, time.December, 25, 0, 0, 0, 0, time.UTC)) {
		t.Error("an empty calendar still closes on Christmas")
	}
}

func TestCalendarCSVErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, want string
	}{
		{"a day that does not exist", "date,name\n2026-01-01,New Year\n2026-02-30,Nope\n", "line 3: \"2026-02-30\" is not a date"},
		{"a US-style date", "12/25/2026,Christmas\n", "line 1: \"12/25/2026\" is not a date in the form YYYY-MM-DD"},
		{"an unquoted comma in the name", "\n2026-12-24,Christmas Eve, half day\n", "line 2: want date,name but found 3 fields"},
		{"a date listed twice", "2026-12-25,Christmas\n# again\n2026-12-25,Xmas\n", "line 3: 2026-12-25 is already listed on line 1"},
		{"an unclosed quote", "2026-12-25,\"Christmas\n", "line 1:"},
		{"a header after the first line", "2026-12-25,Christmas\ndate,name\n", "line 2: \"date\" is not a date"},
		{"an empty date", ",Christmas\n", "line 1: \"\" is not a date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := calendar.ParseCalendarCSV(strings.NewReader(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadCalendarReadsAFileAndNamesItInErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "holidays.csv")
	if err := os.WriteFile(good, []byte("date,name\n2026-12-25,Christmas Day\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := calendar.LoadCalendar(good)
	if err != nil || len(c.Holidays()) != 1 || c.Holidays()[0].Name != "Christmas Day" {
		t.Fatalf("LoadCalendar: %v, %v", c, err)
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("2026-12-25,Christmas Day\n2026-13-01,Nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := calendar.LoadCalendar(bad); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error %v, want the path and line 2", err)
	}
	if _, err := calendar.LoadCalendar(filepath.Join(dir, "missing.csv")); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("error %v, want the missing path", err)
	}
}

// FuzzParseCalendarCSV: whatever the bytes, parsing never panics, and what
// it accepts survives a round trip: every date re-parses from its own
// String, names are non-empty and looked up by date, and writing the
// holidays back as CSV gives the same calendar.
func FuzzParseCalendarCSV(f *testing.F) {
	for _, s := range []string{
		"date,name\n2026-12-25,Christmas Day\n",
		"\ufeff# comment\n\n2026-01-01\n2026-07-03,\"Independence Day, observed\"\r\n",
		"2026-02-30,x\n", "2026-12-25,a,b\n", "\"", ",\n", "date\n", "2028-02-29, Leap \"day\"\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		c, err := calendar.ParseCalendarCSV(strings.NewReader(file))
		if err != nil {
			return
		}
		holidays := c.Holidays()
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		for _, h := range holidays {
			again, err := calendar.ParseDate(h.Date.String())
			if err != nil || again != h.Date {
				t.Fatalf("date %v prints as %q, which parses to %v, %v", h.Date, h.Date.String(), again, err)
			}
			if h.Name == "" || h.Name != strings.TrimSpace(h.Name) {
				t.Fatalf("holiday %s has name %q", h.Date, h.Name)
			}
			if got := c.Holiday(time.Date(h.Date.Year, h.Date.Month, h.Date.Day, 0, 0, 0, 0, time.UTC)); got != h.Name {
				t.Fatalf("Holiday(%s) = %q, want %q", h.Date, got, h.Name)
			}
			if err := w.Write([]string{h.Date.String(), h.Name}); err != nil {
				t.Fatal(err)
			}
		}
		w.Flush()
		back, err := calendar.ParseCalendarCSV(&buf)
		if err != nil {
			t.Fatalf("re-reading %q: %v", buf.String(), err)
		}
		if !slices.Equal(back.Holidays(), holidays) {
			t.Fatalf("round trip changed %v into %v", holidays, back.Holidays())
		}
	})
}
