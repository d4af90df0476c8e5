package casework

import (
	calendar "github.com/sendara/console/models/calendar"
	errs "github.com/sendara/console/models/errs"

	imports "github.com/sendara/console/models/imports"

	outbox "github.com/sendara/console/models/outbox"

	requests "github.com/sendara/console/models/requests"

	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// DayRange is the span of instants [start, end) covering the civil dates
// from and to, both included, in loc (the business time zone).
func DayRange(from, to calendar.Date, loc *time.Location) (time.Time, time.Time) {
	if loc == nil {
		loc = time.UTC
	}
	start := time.Date(from.Year, from.Month, from.Day, 0, 0, 0, 0, loc)
	next := to.AddDays(1)
	end := time.Date(next.Year, next.Month, next.Day, 0, 0, 0, 0, loc)
	return start.UTC(), end.UTC()
}

// RequestLogColumns is the header of the request log export: the facts
// §7101(b) asks a business to keep, with the reference and regime.
// Merged duplicates are not rows of their own: the request they were merged
// into names them in merged_references.
var RequestLogColumns = []string{"reference", "date_of_request", "type", "regime", "channel",
	"date_of_response", "outcome", "denial_reason", "merged_references"}

// RequestLogRow is one request in the CCPA request log (§7101).
type RequestLogRow struct {
	Reference    string
	ReceivedOn   calendar.Date
	Type         string // "untriaged" until staff set it
	Regime       string
	Channel      string        // how the request was made: email, web_form, api, manual
	RespondedOn  calendar.Date // zero while the request is open
	Outcome      string        // one of the Outcome constants
	DenialReason string        // the basis for a denial in whole or in part
	// Merged are the references of the duplicates merged into this request.
	Merged []string
}

// Record is the row as CSV cells, in RequestLogColumns order. Free text is
// made safe to open in a spreadsheet.
func (r RequestLogRow) Record() []string {
	return []string{r.Reference, r.ReceivedOn.String(), r.Type, r.Regime, r.Channel,
		r.RespondedOn.String(), r.Outcome, imports.SpreadsheetSafe(r.DenialReason), strings.Join(r.Merged, " ")}
}

// requestLogPage is how many requests the log reads at a time.
const requestLogPage = 500

// CountRequestLog counts the requests received in [from, to) that the
// actor may see: the rows RequestLog will give.
func (db *CaseworkStore) CountRequestLog(ctx context.Context, actor store.Actor, from, to time.Time) (int64, error) {
	var n int64
	err := db.Gorm.WithContext(ctx).Model(&requests.PrivacyRequest{}).Scopes(requests.RequestScope(actor)).
		Where("received_at >= ? AND received_at < ?", from.UTC(), to.UTC()).Where(requests.NotDuplicate).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count request log: %w", err)
	}
	return n, nil
}

// RequestLog calls fn with each request received in [from, to) that the
// actor may see, oldest first, for the CCPA request log (§7101): the business
// keeps 24 months of it. Dates are civil dates in loc, the business time
// zone. It reads keyset pages, so memory holds one page however long the
// log; it returns the number of rows given to fn, and stops at fn's first
// error.
func (db *CaseworkStore) RequestLog(ctx context.Context, actor store.Actor, from, to time.Time, loc *time.Location, fn func(RequestLogRow) error) (int64, error) {
	var (
		rows      int64
		afterAt   time.Time
		afterID   string
		firstPage = true
	)
	for {
		q := db.Gorm.WithContext(ctx).Scopes(requests.RequestScope(actor)).
			Select("id", "reference", "type", "regime", "channel", "status", "received_at", "completed_at", "outcome", "denial_reason").
			Where("received_at >= ? AND received_at < ?", from.UTC(), to.UTC()).Where(requests.NotDuplicate)
		if !firstPage {
			q = q.Where("received_at > ? OR (received_at = ? AND id > ?)", afterAt, afterAt, afterID)
		}
		var page []requests.PrivacyRequest
		if err := q.Order("received_at, id").Limit(requestLogPage).Find(&page).Error; err != nil {
			return rows, fmt.Errorf("read request log: %w", err)
		}
		merged, err := mergedReferences(db.Gorm.WithContext(ctx), page)
		if err != nil {
			return rows, err
		}
		for i := range page {
			row := logRow(&page[i], loc)
			row.Merged = merged[page[i].ID]
			if err := fn(row); err != nil {
				return rows, err
			}
			rows++
		}
		if len(page) < requestLogPage {
			return rows, nil
		}
		last := page[len(page)-1]
		afterAt, afterID, firstPage = last.ReceivedAt, last.ID, false
	}
}

// mergedReferences maps each of the requests to the references of the
// duplicates merged into it.
func mergedReferences(g *gorm.DB, page []requests.PrivacyRequest) (map[string][]string, error) {
	out := map[string][]string{}
	if len(page) == 0 {
		return out, nil
	}
	ids := make([]string, len(page))
	for i, r := range page {
		ids[i] = r.ID
	}
	var rows []struct {
		DuplicateOf string
		Reference   string
	}
	if err := g.Raw(`SELECT d.duplicate_of, p.reference FROM request_duplicates d JOIN privacy_requests p ON p.id = d.request_id
		WHERE d.duplicate_of IN ? ORDER BY p.reference`, ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read merged duplicates: %w", err)
	}
	for _, r := range rows {
		out[r.DuplicateOf] = append(out[r.DuplicateOf], r.Reference)
	}
	return out, nil
}

func logRow(r *requests.PrivacyRequest, loc *time.Location) RequestLogRow {
	row := RequestLogRow{Reference: r.Reference, ReceivedOn: calendar.DateOf(r.ReceivedAt, loc), Type: r.TypeOr("untriaged"),
		Regime: r.Regime, Channel: r.Channel, Outcome: requests.OutcomeOf(r.Status, r.Outcome)}
	if r.CompletedAt != nil && row.Outcome != requests.OutcomeOpen {
		row.RespondedOn = calendar.DateOf(*r.CompletedAt, loc)
	}
	switch row.Outcome {
	case requests.OutcomeDenied:
		row.DenialReason = r.DenialReason
	case requests.OutcomeCompliedInPart:
		// The note a partial answer was recorded with says what was
		// withheld and why: the basis of the partial denial.
		row.DenialReason = strings.TrimSpace(r.Outcome)
	}
	return row
}

// MetricsTypes are the kinds of request the CCPA metrics (§7102) count, in
// the order they are shown; requests are grouped by CCPAType, so access
// counts as know, erasure as delete, rectification as correct.
var MetricsTypes = []string{calendar.TypeKnow, calendar.TypeDelete, calendar.TypeCorrect, calendar.TypeOptOutSale, calendar.TypeOther}

// TypeMetrics are the §7102 figures for one kind of request (or all).
type TypeMetrics struct {
	Type           string // one of MetricsTypes, or "" for the total
	Received       int
	Complied       int // in whole
	CompliedInPart int
	Denied         int
	Withdrawn      int
	Open           int // still open when the report is made
	// Responded counts the requests answered (complied with or denied);
	// MedianDays and MeanDays are the calendar days from their receipt to
	// their answer, in the business time zone. Both are 0 when none was.
	Responded  int
	MedianDays float64
	MeanDays   float64
}

// OnTime is how often answers met their due date, for one regime (or all).
type OnTime struct {
	Regime string // "" for all regimes
	// Answered counts requests completed or denied; withdrawn ones were
	// not answered and are left out.
	Answered int
	// InTime counts the answers given on or before the effective due date
	// (extended_to when the request was extended, else due_on).
	InTime int
	// OpenOverdue counts requests still open past their due date: they are
	// late already, though not in the rate until answered.
	OpenOverdue int
}

// Rate is the share of answers given in time, from 0 to 1; ok is false
// when nothing was answered.
func (o OnTime) Rate() (rate float64, ok bool) {
	if o.Answered == 0 {
		return 0, false
	}
	return float64(o.InTime) / float64(o.Answered), true
}

// Metrics are the CCPA §7102 figures for the requests received in one
// calendar year in the business time zone, and the on-time rate.
type Metrics struct {
	Year   int
	Regime string        // "" for every regime
	Today  calendar.Date // the day the figures were computed (open, overdue)
	Types  []TypeMetrics
	Total  TypeMetrics
	// OnTime has one entry per regime in Regimes order (only the chosen
	// one when Regime is set); OnTimeAll is over every request counted.
	OnTime    []OnTime
	OnTimeAll OnTime
	// ReceivedByMonth counts the requests received in each month of the
	// year; AnsweredByMonth those of them answered (complied with, in
	// whole or part, or denied) in each month of the year.
	ReceivedByMonth [12]int
	AnsweredByMonth [12]int
}

// Metrics computes the CCPA §7102 metrics of the requests received in year
// (by their date of receipt in loc, the business time zone) that the actor
// may see, limited to regime when it is not empty; a request merged into
// another as its duplicate is counted once, as the other. Counting is done here
// rather than in SQL: the grouping (CCPAType), the outcome (OutcomeOf) and
// the day counts in the business time zone follow the same rules as the
// rest of the console on both databases, and one year of requests is a
// bounded set, read as a stream.
func (db *CaseworkStore) Metrics(ctx context.Context, actor store.Actor, year int, loc *time.Location, regime string) (*Metrics, error) {
	if year < 1970 || year > 9998 {
		return nil, errs.Invalid("year", "choose a year")
	}
	if regime != "" {
		if _, err := calendar.ParseRegime(regime); err != nil {
			return nil, err
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	from, to := DayRange(calendar.Date{Year: year, Month: time.January, Day: 1}, calendar.Date{Year: year, Month: time.December, Day: 31}, loc)
	q := db.Gorm.WithContext(ctx).Model(&requests.PrivacyRequest{}).Scopes(requests.RequestScope(actor)).
		Select("type", "regime", "status", "received_at", "completed_at", "outcome", "due_on", "extended_to").
		Where("received_at >= ? AND received_at < ?", from, to).Where(requests.NotDuplicate)
	if regime != "" {
		q = q.Where("regime = ?", regime)
	}
	rows, err := q.Rows()
	if err != nil {
		return nil, fmt.Errorf("read requests for metrics: %w", err)
	}
	defer rows.Close()

	m := &Metrics{Year: year, Regime: regime, Today: calendar.TodayIn(loc)}
	byType := map[string]*TypeMetrics{}
	days := map[string][]int{}
	byRegime := map[string]*OnTime{}
	for _, t := range MetricsTypes {
		byType[t] = &TypeMetrics{Type: t}
	}
	for _, g := range calendar.Regimes {
		byRegime[g] = &OnTime{Regime: g}
	}
	for rows.Next() {
		var r requests.PrivacyRequest
		if err := db.Gorm.ScanRows(rows, &r); err != nil {
			return nil, fmt.Errorf("read requests for metrics: %w", err)
		}
		typ := calendar.CCPAType(r.TypeOr(calendar.TypeOther))
		tm := byType[typ]
		tm.Received++
		m.ReceivedByMonth[calendar.DateOf(r.ReceivedAt, loc).Month-1]++
		outcome := requests.OutcomeOf(r.Status, r.Outcome)
		switch outcome {
		case requests.OutcomeComplied:
			tm.Complied++
		case requests.OutcomeCompliedInPart:
			tm.CompliedInPart++
		case requests.OutcomeDenied:
			tm.Denied++
		case requests.OutcomeWithdrawn:
			tm.Withdrawn++
		default:
			tm.Open++
		}
		ot, ok := byRegime[r.Regime]
		if !ok {
			ot = &OnTime{Regime: r.Regime}
			byRegime[r.Regime] = ot
		}
		due := r.EffectiveDueOn()
		answered := (outcome == requests.OutcomeComplied || outcome == requests.OutcomeCompliedInPart || outcome == requests.OutcomeDenied) && r.CompletedAt != nil
		switch {
		case answered:
			answeredOn := calendar.DateOf(*r.CompletedAt, loc)
			if answeredOn.Year == year {
				m.AnsweredByMonth[answeredOn.Month-1]++
			}
			days[typ] = append(days[typ], store.DaysBetween(calendar.DateOf(r.ReceivedAt, loc), answeredOn))
			ot.Answered++
			if !answeredOn.After(due) {
				ot.InTime++
			}
		case outcome == requests.OutcomeOpen && due.Before(m.Today):
			ot.OpenOverdue++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read requests for metrics: %w", err)
	}

	var all []int
	for _, t := range MetricsTypes {
		tm := byType[t]
		tm.Responded, tm.MedianDays, tm.MeanDays = dayStats(days[t])
		m.Types = append(m.Types, *tm)
		all = append(all, days[t]...)
		m.Total.Received += tm.Received
		m.Total.Complied += tm.Complied
		m.Total.CompliedInPart += tm.CompliedInPart
		m.Total.Denied += tm.Denied
		m.Total.Withdrawn += tm.Withdrawn
		m.Total.Open += tm.Open
	}
	m.Total.Responded, m.Total.MedianDays, m.Total.MeanDays = dayStats(all)

	regimes := slices.Clone(calendar.Regimes)
	if regime != "" {
		regimes = []string{regime}
	}
	var retired []string // regimes no longer offered keep their rows
	for g, ot := range byRegime {
		if !slices.Contains(regimes, g) && ot.Answered+ot.OpenOverdue > 0 {
			retired = append(retired, g)
		}
	}
	slices.Sort(retired)
	for _, g := range append(regimes, retired...) {
		ot := byRegime[g]
		m.OnTime = append(m.OnTime, *ot)
		m.OnTimeAll.Answered += ot.Answered
		m.OnTimeAll.InTime += ot.InTime
		m.OnTimeAll.OpenOverdue += ot.OpenOverdue
	}
	return m, nil
}

// dayStats gives the count, median and mean of day counts (0s when empty).
// The median of an even count is the mean of the two middle values.
func dayStats(days []int) (n int, median, mean float64) {
	if len(days) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(days)
	slices.Sort(s)
	sum := 0
	for _, d := range s {
		sum += d
	}
	mid := len(s) / 2
	median = float64(s[mid])
	if len(s)%2 == 0 {
		median = float64(s[mid-1]+s[mid]) / 2
	}
	return len(s), median, float64(sum) / float64(len(s))
}

// ReportYears lists the calendar years (in loc) from the first request the
// actor may see to the current one, newest first: the years a report can
// be made for.
func (db *CaseworkStore) ReportYears(ctx context.Context, actor store.Actor, loc *time.Location) ([]int, error) {
	now := calendar.TodayIn(loc).Year
	var first []requests.PrivacyRequest
	if err := db.Gorm.WithContext(ctx).Scopes(requests.RequestScope(actor)).Select("received_at").
		Order("received_at").Limit(1).Find(&first).Error; err != nil {
		return nil, fmt.Errorf("find the first request: %w", err)
	}
	start := now
	if len(first) == 1 {
		start = min(calendar.DateOf(first[0].ReceivedAt, loc).Year, now)
	}
	var years []int
	for y := now; y >= start; y-- {
		years = append(years, y)
	}
	return years, nil
}

// Board columns, soonest first.
const (
	BoardOverdue  = "overdue"
	BoardThisWeek = "this_week"
	BoardNextWeek = "next_week"
	BoardLater    = "later"
)

// BoardCard is one open request on the deadline board.
type BoardCard struct {
	Request requests.PrivacyRequest
	DueOn   calendar.Date // the effective due date
	// AckDueOn is the day to acknowledge receipt by, while the request is
	// not yet acknowledged: no acknowledgement mail of it was sent (by the
	// sender, or by hand and marked so); empty otherwise. A queued, held or
	// failed acknowledgement acknowledges nothing.
	AckDueOn   calendar.Date
	AckOverdue bool
	// PendingTasks counts the controllers that have not answered yet;
	// TasksDueOn is the earliest of their due dates.
	PendingTasks int
	TasksDueOn   calendar.Date
	TasksOverdue bool
	// PausedSince is the day the clock stopped while the request waits on
	// its requester; DueOn is then the due date should they answer today.
	PausedSince string
}

// BoardColumn is one column of the board.
type BoardColumn struct {
	Key   string // one of the Board constants
	Until string // the last due date in the column; empty for overdue and later
	Cards []BoardCard
}

// Board is the deadline board: the open requests by when they fall due.
type Board struct {
	Today   string
	Columns []BoardColumn // overdue, this week, next week, later
	// Truncated is set when there are more open requests than
	// BoardLimit; the board shows the soonest due.
	Truncated bool
}

// BoardLimit is the most requests the board shows.
const BoardLimit = 500

// DeadlineBoard groups the open requests the actor may see by their
// effective due date: overdue (before today), due this week (to Saturday,
// the week the request list's "due this week" view uses), due next week
// (the seven days after) and later. today is the date in the business
// time zone, loc. Cards are soonest due first, and flag acknowledgements
// due and controllers that have yet to answer; a request waiting on its
// requester is placed by the date it would be due if they answered today.
// A request merged into another as its duplicate is not on the board: the
// other carries its deadlines.
func (db *CaseworkStore) DeadlineBoard(ctx context.Context, actor store.Actor, today calendar.Date, loc *time.Location) (*Board, error) {
	open := requests.OpenStatuses
	var rs []requests.PrivacyRequest
	err := db.Gorm.WithContext(ctx).Scopes(requests.RequestScope(actor)).Where("status IN ?", open).Where(requests.NotDuplicate).
		Order("COALESCE(extended_to, due_on), received_at, id").Limit(BoardLimit + 1).Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("read open requests: %w", err)
	}
	b := &Board{Today: today.String(), Truncated: len(rs) > BoardLimit}
	rs = rs[:min(len(rs), BoardLimit)]

	pending := map[string][]requests.RoutedTask{}
	acknowledged := map[string]bool{}
	if len(rs) > 0 {
		ids := make([]string, len(rs))
		for i, r := range rs {
			ids[i] = r.ID
		}
		var acked []string
		if err := db.Gorm.WithContext(ctx).Model(&outbox.OutboxMail{}).Distinct("request_id").
			Where("request_id IN ? AND kind = ? AND status = ?", ids, outbox.MailAcknowledgement, outbox.MailSent).Pluck("request_id", &acked).Error; err != nil {
			return nil, fmt.Errorf("read sent acknowledgements: %w", err)
		}
		for _, id := range acked {
			acknowledged[id] = true
		}
		var ts []requests.RoutedTask
		if err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).
			Where("request_id IN ? AND status = ?", ids, requests.TaskPending).Order("due_on").Find(&ts).Error; err != nil {
			return nil, fmt.Errorf("read pending routed tasks: %w", err)
		}
		for _, t := range ts {
			pending[t.RequestID] = append(pending[t.RequestID], t)
		}
	}

	weekEnd := today.AddDays(int(time.Saturday - today.Weekday()))
	nextWeekEnd := weekEnd.AddDays(7)
	b.Columns = []BoardColumn{{Key: BoardOverdue}, {Key: BoardThisWeek, Until: weekEnd.String()}, {Key: BoardNextWeek, Until: nextWeekEnd.String()}, {Key: BoardLater}}
	for _, r := range rs {
		c := BoardCard{Request: r, DueOn: r.EffectiveDueOn()}
		if r.Status == requests.StatusWaiting && r.PausedAt != nil {
			since := calendar.DateOf(*r.PausedAt, loc)
			c.DueOn = c.DueOn.AddDays(store.DaysBetween(since, today))
			c.PausedSince = since.String()
		}
		if r.AckDueOn != nil && !acknowledged[r.ID] {
			c.AckDueOn, c.AckOverdue = *r.AckDueOn, r.AckDueOn.OverdueOn(today)
		}
		if ts := pending[r.ID]; len(ts) > 0 {
			c.PendingTasks, c.TasksDueOn = len(ts), ts[0].DueOn
			c.TasksOverdue = c.TasksDueOn.OverdueOn(today)
		}
		col := 3
		switch {
		case c.DueOn.OverdueOn(today):
			col = 0
		case c.DueOn.DueWithin(today, weekEnd):
			col = 1
		case c.DueOn.DueWithin(today, nextWeekEnd):
			col = 2
		}
		b.Columns[col].Cards = append(b.Columns[col].Cards, c)
	}
	return b, nil
}
