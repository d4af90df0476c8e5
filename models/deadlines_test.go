package models_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	calendar "github.com/sendara/console/models/calendar"
	errs "github.com/sendara/console/models/errs"

	_ "time/tzdata"

	"github.com/sendara/console/models/modeltest"
)

// the business time zone must load on a bare test machine too

// Expected dates below were counted by hand on a calendar, not derived
// from the code under test.

func losAngeles(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustDate(t *testing.T, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// noonIn is midday on a civil date in loc: far from midnight, so only the
// date matters.
func noonIn(t *testing.T, day string, loc *time.Location) time.Time {
	t.Helper()
	d := mustDate(t, day)
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, loc)
}

// deadlinesFor computes with the defaults the console runs with: US federal
// holidays, Los Angeles time, the default policy.
func deadlinesFor(t *testing.T, regime, typ, received string) calendar.Deadlines {
	t.Helper()
	la := losAngeles(t)
	return calendar.ComputeDeadlines(regime, typ, noonIn(t, received, la), la, calendar.USFederalCalendar(2000, 2101), calendar.DefaultDeadlinePolicy())
}

func TestGDPRDeadlineIsOneCalendarMonthClampedToTheMonthsLastDay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, received, due, extended string
	}{
		{"mid-month keeps the day number", "2026-05-10", "2026-06-10", "2026-08-10"},
		{"31 January falls on 28 February", "2026-01-31", "2026-02-28", "2026-04-30"},
		{"30 January falls on 28 February in a common year", "2026-01-30", "2026-02-28", "2026-04-30"},
		{"31 January falls on 29 February in a leap year", "2028-01-31", "2028-02-29", "2028-04-30"},
		{"30 January falls on 29 February in a leap year", "2028-01-30", "2028-02-29", "2028-04-30"},
		{"29 February falls on 29 March", "2028-02-29", "2028-03-29", "2028-05-29"},
		{"28 February falls on 28 March, not the month end", "2026-02-28", "2026-03-28", "2026-05-28"},
		{"31 March falls on 30 April", "2026-03-31", "2026-04-30", "2026-06-30"},
		{"31 May falls on 30 June", "2026-05-31", "2026-06-30", "2026-08-31"},
		{"31 August falls on 30 September", "2026-08-31", "2026-09-30", "2026-11-30"},
		{"31 October falls on 30 November", "2026-10-31", "2026-11-30", "2027-01-31"},
		{"31 December falls on 31 January next year", "2026-12-31", "2027-01-31", "2027-03-31"},
		{"30 November extends to 28 February in a common year", "2026-11-30", "2026-12-30", "2027-02-28"},
		{"30 November extends to 29 February in a leap year", "2027-11-30", "2027-12-30", "2028-02-29"},
		{"2100 is not a leap year", "2100-01-31", "2100-02-28", "2100-04-30"},
		{"2000 was a leap year", "2000-01-31", "2000-02-29", "2000-04-30"},
		{"a due date on a Sunday is not rolled to Monday", "2026-04-10", "2026-05-10", "2026-07-10"},
		{"a due date on a holiday is not rolled", "2026-11-26", "2026-12-26", "2027-02-26"},
	}
	for _, regime := range []string{calendar.RegimeGDPR, calendar.RegimeUKGDPR} {
		for _, tt := range tests {
			t.Run(regime+"/"+tt.name, func(t *testing.T) {
				d := deadlinesFor(t, regime, calendar.TypeAccess, tt.received)
				if d.DueOn.String() != tt.due || d.ExtendedDueOn.String() != tt.extended {
					t.Errorf("received %s: due %s, extended %s; want %s, %s", tt.received, d.DueOn, d.ExtendedDueOn, tt.due, tt.extended)
				}
				if d.ExtensionNoticeBy != d.DueOn {
					t.Errorf("extension notice by %s, want the first due date %s", d.ExtensionNoticeBy, d.DueOn)
				}
				if d.AckDueOn != nil {
					t.Errorf("ack due %s, want none under %s", d.AckDueOn, regime)
				}
			})
		}
	}
}

func TestGDPRDeadlineIsTheSameForEveryRequestTypeButChildData(t *testing.T) {
	t.Parallel()
	for _, typ := range calendar.RequestTypes {
		if typ == calendar.TypeChildData {
			continue
		}
		d := deadlinesFor(t, calendar.RegimeGDPR, typ, "2026-05-10")
		if d.DueOn.String() != "2026-06-10" || d.ExtendedDueOn.String() != "2026-08-10" || d.AckDueOn != nil {
			t.Errorf("%s: %+v, want due 2026-06-10, extendable to 2026-08-10, no ack", typ, d)
		}
	}
}

func TestDeadlineSmokeExampleMatchesTheAPIContract(t *testing.T) {
	t.Parallel()
	received, err := time.Parse(time.RFC3339, "2026-05-10T12:00:00-07:00")
	if err != nil {
		t.Fatal(err)
	}
	d := calendar.ComputeDeadlines(calendar.RegimeGDPR, calendar.TypeAccess, received, losAngeles(t), calendar.DefaultCalendar(), calendar.DefaultDeadlinePolicy())
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"due_on":"2026-06-10"`, `"ack_due_on":null`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("deadlines JSON %s lacks %s", b, want)
		}
	}
}

func TestCCPADeadlinesForKnowDeleteCorrectAndTheirSynonyms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, received, ack, due, extended string
	}{
		{"received on a Sunday", "2026-05-10", "2026-05-22", "2026-06-24", "2026-08-08"},
		{"received on a Saturday counts from Monday", "2026-05-09", "2026-05-22", "2026-06-23", "2026-08-07"},
		{"received the Wednesday before Thanksgiving", "2026-11-25", "2026-12-10", "2027-01-09", "2027-02-23"},
		{"received the Friday before Christmas and New Year's Day", "2026-12-18", "2027-01-05", "2027-02-01", "2027-03-18"},
		{"received before Juneteenth", "2026-06-17", "2026-07-02", "2026-08-01", "2026-09-15"},
		{"received before Independence Day observed on Friday 3 July", "2026-07-02", "2026-07-17", "2026-08-16", "2026-09-30"},
		{"received on Memorial Day", "2026-05-25", "2026-06-08", "2026-07-09", "2026-08-23"},
		{"45 and 90 days cross a year end and February", "2026-12-01", "2026-12-15", "2027-01-15", "2027-03-01"},
		{"received before Juneteenth observed on Friday 18 June 2027", "2027-06-16", "2027-07-01", "2027-07-31", "2027-09-14"},
	}
	types := []string{calendar.TypeKnow, calendar.TypeDelete, calendar.TypeCorrect, calendar.TypeAccess,
		calendar.TypePortability, calendar.TypeErasure, calendar.TypeRectification}
	for _, tt := range tests {
		for _, typ := range types {
			t.Run(tt.name+"/"+typ, func(t *testing.T) {
				d := deadlinesFor(t, calendar.RegimeCCPA, typ, tt.received)
				if d.AckDueOn == nil || d.AckDueOn.String() != tt.ack {
					t.Errorf("ack due %v, want %s", d.AckDueOn, tt.ack)
				}
				if d.DueOn.String() != tt.due || d.ExtendedDueOn.String() != tt.extended {
					t.Errorf("due %s, extended %s; want %s, %s", d.DueOn, d.ExtendedDueOn, tt.due, tt.extended)
				}
				if d.ExtensionNoticeBy != d.DueOn {
					t.Errorf("extension notice by %s, want day 45 %s", d.ExtensionNoticeBy, d.DueOn)
				}
			})
		}
	}
}

func TestCCPAOptOutDeadlineIsFifteenBusinessDaysWithoutAckOrExtension(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, received, due string
	}{
		{"received on a Monday across Memorial Day", "2026-05-11", "2026-06-02"},
		{"received before Juneteenth and Independence Day observed", "2026-06-17", "2026-07-10"},
		{"received the Wednesday before Thanksgiving", "2026-11-25", "2026-12-17"},
		{"received the Friday before Christmas", "2026-12-18", "2027-01-12"},
		{"received on a Saturday", "2026-05-09", "2026-06-01"},
	}
	for _, tt := range tests {
		// The CCPA has no restriction or objection right; the console treats
		// both as an opt-out (see CCPAType).
		for _, typ := range []string{calendar.TypeOptOutSale, calendar.TypeObjection, calendar.TypeRestriction} {
			t.Run(tt.name+"/"+typ, func(t *testing.T) {
				d := deadlinesFor(t, calendar.RegimeCCPA, typ, tt.received)
				if d.DueOn.String() != tt.due {
					t.Errorf("due %s, want %s", d.DueOn, tt.due)
				}
				if d.AckDueOn != nil || !d.ExtendedDueOn.IsZero() || !d.ExtensionNoticeBy.IsZero() {
					t.Errorf("%+v: want no ack and no extension", d)
				}
			})
		}
	}
}

func TestCCPADeadlineForOtherTypesIsFortyFiveDaysWithoutAckOrExtension(t *testing.T) {
	t.Parallel()
	d := deadlinesFor(t, calendar.RegimeCCPA, calendar.TypeOther, "2026-05-10")
	if d.DueOn.String() != "2026-06-24" || d.AckDueOn != nil || !d.ExtendedDueOn.IsZero() {
		t.Errorf("%+v, want due 2026-06-24, no ack, no extension", d)
	}
}

func TestOtherRegimeDeadlineIsOneCalendarMonthWithoutAckOrExtension(t *testing.T) {
	t.Parallel()
	for _, regime := range []string{calendar.RegimeOther, "lgpd", ""} {
		for _, typ := range []string{calendar.TypeAccess, calendar.TypeKnow, calendar.TypeOptOutSale, calendar.TypeOther} {
			d := deadlinesFor(t, regime, typ, "2026-01-31")
			if d.DueOn.String() != "2026-02-28" || d.AckDueOn != nil || !d.ExtendedDueOn.IsZero() || !d.ExtensionNoticeBy.IsZero() {
				t.Errorf("regime %q, type %s: %+v, want due 2026-02-28 only", regime, typ, d)
			}
		}
	}
}

func TestChildDataDeadlineIsTenBusinessDaysAndNeverExtended(t *testing.T) {
	t.Parallel()
	tests := []struct {
		regime, received, due string
	}{
		{calendar.RegimeGDPR, "2026-05-11", "2026-05-26"},
		{calendar.RegimeUKGDPR, "2026-05-11", "2026-05-26"},
		{calendar.RegimeCCPA, "2026-05-11", "2026-05-26"},
		{calendar.RegimeOther, "2026-05-11", "2026-05-26"},
		{calendar.RegimeCCPA, "2026-12-18", "2027-01-05"},
	}
	for _, tt := range tests {
		t.Run(tt.regime+"/"+tt.received, func(t *testing.T) {
			d := deadlinesFor(t, tt.regime, calendar.TypeChildData, tt.received)
			if d.DueOn.String() != tt.due {
				t.Errorf("due %s, want %s", d.DueOn, tt.due)
			}
			if !d.ExtendedDueOn.IsZero() || !d.ExtensionNoticeBy.IsZero() {
				t.Errorf("extension %s (notice by %s), want none", d.ExtendedDueOn, d.ExtensionNoticeBy)
			}
		})
	}
	// Under the CCPA a parent's request is a request to delete: it is
	// acknowledged like one.
	if d := deadlinesFor(t, calendar.RegimeCCPA, calendar.TypeChildData, "2026-05-11"); d.AckDueOn == nil || d.AckDueOn.String() != "2026-05-26" {
		t.Errorf("CCPA child data ack %v, want 2026-05-26", d.AckDueOn)
	}
}

func TestChildDataDeadlineIsNeverLaterThanTheRegimeRule(t *testing.T) {
	t.Parallel()
	// A calendar closed every weekday of February 2026 pushes ten business
	// days past the GDPR month; the month wins.
	closed := map[string]string{}
	for d := mustDate(t, "2026-02-01"); d.Month == time.February; d = d.AddDays(1) {
		closed[d.String()] = "Closed"
	}
	la := losAngeles(t)
	d := calendar.ComputeDeadlines(calendar.RegimeGDPR, calendar.TypeChildData, noonIn(t, "2026-01-31", la), la, calendar.NewCalendar(closed), calendar.DefaultDeadlinePolicy())
	if d.DueOn.String() != "2026-02-28" {
		t.Errorf("due %s, want the GDPR date 2026-02-28", d.DueOn)
	}
}

func TestDeadlineReceiptDayIsTheDateInTheBusinessTimeZone(t *testing.T) {
	t.Parallel()
	la := losAngeles(t)
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		received string
		loc      *time.Location
		due      string
	}{
		{"07:30 UTC on 1 March is still 28 February in Los Angeles", "2026-03-01T07:30:00Z", la, "2026-03-28"},
		{"08:30 UTC on 1 March is 1 March in Los Angeles", "2026-03-01T08:30:00Z", la, "2026-04-01"},
		{"the same instant is 1 March in London", "2026-03-01T07:30:00Z", london, "2026-04-01"},
		{"a nil zone is UTC", "2026-03-01T07:30:00Z", nil, "2026-04-01"},
		{"an offset in the input does not change the business day", "2026-03-01T00:30:00+01:00", la, "2026-03-28"},
		{"23:30 PST on the eve of the spring change", "2026-03-08T07:30:00Z", la, "2026-04-07"},
		{"23:30 PDT at the end of the spring change day", "2026-03-09T06:30:00Z", la, "2026-04-08"},
		{"00:30 PDT the day after the spring change", "2026-03-09T07:30:00Z", la, "2026-04-09"},
		{"23:30 PDT on 31 October before the autumn change", "2026-11-01T06:30:00Z", la, "2026-11-30"},
		{"the first 01:30 of the autumn change day", "2026-11-01T08:30:00Z", la, "2026-12-01"},
		{"the repeated 01:30 of the autumn change day", "2026-11-01T09:30:00Z", la, "2026-12-01"},
		{"23:30 PST at the end of the autumn change day", "2026-11-02T07:30:00Z", la, "2026-12-01"},
		{"00:30 PST the day after the autumn change", "2026-11-02T08:30:00Z", la, "2026-12-02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, err := time.Parse(time.RFC3339, tt.received)
			if err != nil {
				t.Fatal(err)
			}
			d := calendar.ComputeDeadlines(calendar.RegimeGDPR, calendar.TypeAccess, at, tt.loc, calendar.DefaultCalendar(), calendar.DefaultDeadlinePolicy())
			if d.DueOn.String() != tt.due {
				t.Errorf("received %s: due %s, want %s", tt.received, d.DueOn, tt.due)
			}
		})
	}
}

func TestDeadlineCCPAAckCountsFromTheBusinessTimeZoneDate(t *testing.T) {
	t.Parallel()
	// 05:00 UTC on Thursday 26 November 2026 is 21:00 on Wednesday 25
	// November in Los Angeles: the Wednesday before Thanksgiving.
	at := time.Date(2026, time.November, 26, 5, 0, 0, 0, time.UTC)
	d := calendar.ComputeDeadlines(calendar.RegimeCCPA, calendar.TypeKnow, at, losAngeles(t), calendar.DefaultCalendar(), calendar.DefaultDeadlinePolicy())
	if d.AckDueOn == nil || d.AckDueOn.String() != "2026-12-10" || d.DueOn.String() != "2027-01-09" {
		t.Errorf("%+v, want ack 2026-12-10, due 2027-01-09", d)
	}
}

func TestDeadlineForwardingAndControllerDatesFollowThePolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		regime, typ, received string
		policy                calendar.DeadlinePolicy
		forward, controller   string
	}{
		{"ten business days after forwarding when that comes first", calendar.RegimeGDPR, calendar.TypeAccess, "2026-05-10",
			calendar.DefaultDeadlinePolicy(), "2026-05-12", "2026-05-27"},
		{"five days before the due date when that comes first", calendar.RegimeCCPA, calendar.TypeOptOutSale, "2026-06-17",
			calendar.DefaultDeadlinePolicy(), "2026-06-22", "2026-07-05"},
		{"a child's request leaves the controller five days", calendar.RegimeCCPA, calendar.TypeChildData, "2026-05-11",
			calendar.DefaultDeadlinePolicy(), "2026-05-13", "2026-05-21"},
		{"forwarding skips Thanksgiving", calendar.RegimeCCPA, calendar.TypeKnow, "2026-11-25",
			calendar.DefaultDeadlinePolicy(), "2026-11-30", "2026-12-14"},
		{"shorter configured periods", calendar.RegimeGDPR, calendar.TypeAccess, "2026-05-10",
			calendar.DeadlinePolicy{ForwardBusinessDays: 1, ControllerBusinessDays: 5, ControllerMarginDays: 5}, "2026-05-11", "2026-05-18"},
		{"the controller is never due before the request is forwarded", calendar.RegimeCCPA, calendar.TypeChildData, "2026-05-11",
			calendar.DeadlinePolicy{ForwardBusinessDays: 5, ControllerBusinessDays: 10, ControllerMarginDays: 20}, "2026-05-18", "2026-05-18"},
		{"forwarding is never later than the due date", calendar.RegimeCCPA, calendar.TypeOptOutSale, "2026-05-11",
			calendar.DeadlinePolicy{ForwardBusinessDays: 30, ControllerBusinessDays: 10, ControllerMarginDays: 5}, "2026-06-02", "2026-06-02"},
		{"negative periods count as zero", calendar.RegimeGDPR, calendar.TypeAccess, "2026-05-10",
			calendar.DeadlinePolicy{ForwardBusinessDays: -1, ControllerBusinessDays: -1, ControllerMarginDays: -1}, "2026-05-10", "2026-05-10"},
	}
	la := losAngeles(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := calendar.ComputeDeadlines(tt.regime, tt.typ, noonIn(t, tt.received, la), la, calendar.DefaultCalendar(), tt.policy)
			if d.ForwardBy.String() != tt.forward || d.ControllerDueOn.String() != tt.controller {
				t.Errorf("forward by %s, controller due %s; want %s, %s", d.ForwardBy, d.ControllerDueOn, tt.forward, tt.controller)
			}
			if d.ControllerDueOn.After(d.DueOn) {
				t.Errorf("controller due %s after the request's due date %s", d.ControllerDueOn, d.DueOn)
			}
		})
	}
}

func TestDeadlineDefaultsToTheUSFederalCalendarWhenNoneIsGiven(t *testing.T) {
	t.Parallel()
	la := losAngeles(t)
	at := noonIn(t, time.Now().Format(time.DateOnly), la)
	want := calendar.ComputeDeadlines(calendar.RegimeCCPA, calendar.TypeKnow, at, la, calendar.DefaultCalendar(), calendar.DefaultDeadlinePolicy())
	got := calendar.ComputeDeadlines(calendar.RegimeCCPA, calendar.TypeKnow, at, la, nil, calendar.DefaultDeadlinePolicy())
	if *got.AckDueOn != *want.AckDueOn {
		t.Errorf("ack due %s with a nil calendar, want %s", got.AckDueOn, want.AckDueOn)
	}
}

func TestDeadlinePolicyValidateRefusesNegativePeriods(t *testing.T) {
	t.Parallel()
	if err := calendar.DefaultDeadlinePolicy().Validate(); err != nil {
		t.Errorf("default policy: %v", err)
	}
	if err := (calendar.DeadlinePolicy{}).Validate(); err != nil {
		t.Errorf("zero periods: %v", err)
	}
	for field, p := range map[string]calendar.DeadlinePolicy{
		"forward_business_days":    {ForwardBusinessDays: -1, ControllerBusinessDays: 10, ControllerMarginDays: 5},
		"controller_business_days": {ForwardBusinessDays: 2, ControllerBusinessDays: -1, ControllerMarginDays: 5},
		"controller_margin_days":   {ForwardBusinessDays: 2, ControllerBusinessDays: 10, ControllerMarginDays: -1},
	} {
		if v, ok := errs.AsValidation(p.Validate()); !ok || v.Field != field {
			t.Errorf("%+v: %v, want a validation error on %s", p, p.Validate(), field)
		}
	}
}

func TestDeadlineExtensionIsAllowedOnlyWithinTheNoticeWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, regime, typ, today string
		want                     string // "" when allowed, else part of the message
	}{
		{"GDPR on the last day of the first month", calendar.RegimeGDPR, calendar.TypeAccess, "2026-06-10", ""},
		{"GDPR on the day of receipt", calendar.RegimeGDPR, calendar.TypeErasure, "2026-05-10", ""},
		{"GDPR a day late", calendar.RegimeGDPR, calendar.TypeAccess, "2026-06-11", "GDPR extensions must be notified within the first month, by 2026-06-10"},
		{"UK GDPR a day late", calendar.RegimeUKGDPR, calendar.TypeAccess, "2026-06-11", "UK GDPR extensions must be notified within the first month, by 2026-06-10"},
		{"CCPA on day 45", calendar.RegimeCCPA, calendar.TypeKnow, "2026-06-24", ""},
		{"CCPA synonym on day 45", calendar.RegimeCCPA, calendar.TypeErasure, "2026-06-24", ""},
		{"CCPA on day 46", calendar.RegimeCCPA, calendar.TypeDelete, "2026-06-25", "CCPA extensions must be notified within the first 45 days, by 2026-06-24"},
		{"CCPA opt-out never", calendar.RegimeCCPA, calendar.TypeOptOutSale, "2026-05-10", "cannot be extended"},
		{"CCPA objection never", calendar.RegimeCCPA, calendar.TypeObjection, "2026-05-10", "cannot be extended"},
		{"CCPA other type never", calendar.RegimeCCPA, calendar.TypeOther, "2026-05-10", "only for requests to know, delete or correct"},
		{"child data never", calendar.RegimeGDPR, calendar.TypeChildData, "2026-05-10", "COPPA"},
		{"regime other never", calendar.RegimeOther, calendar.TypeAccess, "2026-05-10", "set the regime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deadlinesFor(t, tt.regime, tt.typ, "2026-05-10")
			err := calendar.CanExtend(tt.regime, tt.typ, d, mustDate(t, tt.today))
			if tt.want == "" {
				if err != nil {
					t.Errorf("CanExtend on %s: %v, want allowed", tt.today, err)
				}
				return
			}
			v, ok := errs.AsValidation(err)
			if !ok || v.Field != "extension" || !strings.Contains(v.Message, tt.want) {
				t.Errorf("CanExtend on %s: %v, want an extension error containing %q", tt.today, err, tt.want)
			}
		})
	}
}

func TestDeadlineExtensionRefusesDeadlinesWithoutAnExtensionDate(t *testing.T) {
	t.Parallel()
	d := calendar.Deadlines{DueOn: mustDate(t, "2026-06-10")}
	if v, ok := errs.AsValidation(calendar.CanExtend(calendar.RegimeGDPR, calendar.TypeAccess, d, mustDate(t, "2026-05-11"))); !ok || v.Field != "extension" {
		t.Errorf("CanExtend without an extension date: %v, want an extension error", v)
	}
}

func TestDeadlineTypesAndRegimesParseOnlyTheDesignSpellings(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"access", "portability", "rectification", "erasure", "restriction", "objection",
		"opt_out_sale", "know", "delete", "correct", "child_data", "other"} {
		if got, err := calendar.ParseRequestType(typ); err != nil || got != typ {
			t.Errorf("ParseRequestType(%q) = %q, %v", typ, got, err)
		}
	}
	for _, regime := range []string{"gdpr", "uk_gdpr", "ccpa", "other"} {
		if got, err := calendar.ParseRegime(regime); err != nil || got != regime {
			t.Errorf("ParseRegime(%q) = %q, %v", regime, got, err)
		}
	}
	for _, bad := range []string{"", "Access", " access", "opt-out-sale", "sale", "gdpr"} {
		if v, ok := errs.AsValidation(func() error { _, err := calendar.ParseRequestType(bad); return err }()); !ok || v.Field != "type" {
			t.Errorf("ParseRequestType(%q) accepted, want a validation error on type", bad)
		}
	}
	for _, bad := range []string{"", "GDPR", "uk-gdpr", "cpra", "access"} {
		if v, ok := errs.AsValidation(func() error { _, err := calendar.ParseRegime(bad); return err }()); !ok || v.Field != "regime" {
			t.Errorf("ParseRegime(%q) accepted, want a validation error on regime", bad)
		}
	}
	if _, err := calendar.ParseRegime("cpra"); !strings.Contains(err.Error(), "gdpr, uk_gdpr, ccpa, other") {
		t.Errorf("error %q does not list the regimes", err)
	}
}

func TestDeadlineCCPATypeMapsGDPRWordsToCCPARights(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"access": "know", "portability": "know", "know": "know",
		"erasure": "delete", "child_data": "delete", "delete": "delete",
		"rectification": "correct", "correct": "correct",
		"opt_out_sale": "opt_out_sale", "objection": "opt_out_sale", "restriction": "opt_out_sale",
		"other": "other", "nonsense": "other",
	}
	for typ, w := range want {
		if got := calendar.CCPAType(typ); got != w {
			t.Errorf("CCPAType(%q) = %q, want %q", typ, got, w)
		}
	}
}

func TestDeadlineDateArithmetic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  calendar.Date
		want string
	}{
		{"one day after 28 February 2026 is 1 March", mustDate(t, "2026-02-28").AddDays(1), "2026-03-01"},
		{"one day after 28 February 2028 is 29 February", mustDate(t, "2028-02-28").AddDays(1), "2028-02-29"},
		{"five days before 3 March 2026 is 26 February", mustDate(t, "2026-03-03").AddDays(-5), "2026-02-26"},
		{"twelve months after 29 February 2028 is 28 February 2029", mustDate(t, "2028-02-29").AddMonths(12), "2029-02-28"},
		{"one month before 31 March is 28 February", mustDate(t, "2026-03-31").AddMonths(-1), "2026-02-28"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got.String() != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
	a, b := mustDate(t, "2026-12-31"), mustDate(t, "2027-01-01")
	if !a.Before(b) || !b.After(a) || a.Compare(a) != 0 || a.Weekday() != time.Thursday {
		t.Errorf("comparisons of %s and %s are wrong", a, b)
	}
}

func TestDeadlineDateParsesOnlyRealYYYYMMDDDates(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "2026-02-30", "2026-13-01", "2026-1-5", "26-01-05", "2026/01/05", "01/05/2026",
		"2026-01-05T00:00:00Z", " 2026-01-05", "2026-01-05 ", "+2026-01-05"} {
		if d, err := calendar.ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) = %s, want an error", bad, d)
		}
	}
}

func TestDeadlineDateIsYYYYMMDDInJSONAndNullWhenZero(t *testing.T) {
	t.Parallel()
	type doc struct {
		Due calendar.Date  `json:"due"`
		Ack *calendar.Date `json:"ack"`
		Ext calendar.Date  `json:"ext"`
	}
	b, err := json.Marshal(doc{Due: mustDate(t, "2026-06-10")})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"due":"2026-06-10","ack":null,"ext":null}` {
		t.Errorf("JSON %s", b)
	}
	var back doc
	if err := json.Unmarshal([]byte(`{"due":"2026-06-10","ack":"2026-05-22","ext":null}`), &back); err != nil {
		t.Fatal(err)
	}
	if back.Due.String() != "2026-06-10" || back.Ack == nil || back.Ack.String() != "2026-05-22" || !back.Ext.IsZero() {
		t.Errorf("decoded %+v", back)
	}
	for _, bad := range []string{`{"due":"2026-02-30"}`, `{"due":20260610}`, `{"due":"10/06/2026"}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("decoding %s succeeded, want an error", bad)
		}
	}
}

func TestDeadlineDatesRoundTripThroughATextColumn(t *testing.T) {
	t.Parallel()
	db := modeltest.OpenEmpty(t)
	if err := db.Gorm.Exec("CREATE TABLE deadline_dates (id INTEGER PRIMARY KEY, due_on TEXT NOT NULL, ack_due_on TEXT, ext TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID       int
		DueOn    calendar.Date
		AckDueOn *calendar.Date
		Ext      calendar.Date
	}
	due, ack := mustDate(t, "2027-01-31"), mustDate(t, "2026-12-10")
	if err := db.Gorm.Table("deadline_dates").Create(&row{ID: 1, DueOn: due, AckDueOn: &ack}).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Table("deadline_dates").Create(&row{ID: 2, DueOn: due}).Error; err != nil {
		t.Fatal(err)
	}
	var text string
	if err := db.Gorm.Raw("SELECT due_on FROM deadline_dates WHERE id = 1").Scan(&text).Error; err != nil || text != "2027-01-31" {
		t.Errorf("stored text %q (%v), want 2027-01-31", text, err)
	}
	var nulls int
	if err := db.Gorm.Raw("SELECT COUNT(*) FROM deadline_dates WHERE ack_due_on IS NULL AND ext IS NULL").Scan(&nulls).Error; err != nil || nulls != 1 {
		t.Errorf("%d rows with NULL dates (%v), want 1: the zero Date stores NULL", nulls, err)
	}
	var rows []row
	if err := db.Gorm.Table("deadline_dates").Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].DueOn != due || rows[0].AckDueOn == nil || *rows[0].AckDueOn != ack || rows[1].AckDueOn != nil || !rows[1].Ext.IsZero() {
		t.Errorf("read back %+v", rows)
	}
	// Dates in this form sort as text, which the due-date indexes rely on.
	var first string
	if err := db.Gorm.Raw("SELECT MIN(ack_due_on) FROM deadline_dates").Scan(&first).Error; err != nil || first != "2026-12-10" {
		t.Errorf("min %q (%v)", first, err)
	}
}
