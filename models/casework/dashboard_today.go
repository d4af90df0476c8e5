package casework

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	imports "github.com/sendara/console/models/imports"

	requests "github.com/sendara/console/models/requests"

	"context"
	"fmt"
	"slices"
	"time"

	store "github.com/sendara/console/models/store"
)

// DashboardToday is what the dashboard tells each role needs them today. Every
// request figure is the length of a request list view (CountRequests with
// the same filter), so the number and the list it links to agree.
type DashboardToday struct {
	Date   calendar.Date // today in the business time zone
	SoonBy calendar.Date // two business days on: the end of "due soon"

	// Staff: requests by state and due date.
	Overdue            int64
	DueSoon            int64
	Waiting            int64
	WithControllers    int64
	AckDue             int64
	Untriaged          int64 // mail waiting for triage: open requests with no type yet
	ControllersOverdue []CustomerCount
	// OnTime is the on-time rate of the answers given in each of the last
	// 12 months, oldest first.
	OnTime []MonthOnTime

	// Customer admin.
	OptOutWeeks     []calendar.Date  // the Mondays of the last OptOutWeeks weeks, oldest first
	OptOutsBySource map[string][]int // source → opt-outs in each of those weeks
	RepliesToReview int64            // replies held for review
	OldestReply     *time.Time       // when the oldest of them arrived
	InboxPending    int64            // requests from Sendara (routed tasks) to answer
	InboxNextDue    string           // the soonest of their due dates, YYYY-MM-DD
	ImportsByStatus map[string]int64 // import jobs by status

	// Auditor.
	ChainSeq         int64
	ChainHash        string
	Checkpoint       *store.AuditCheckpoint
	MonthStart       calendar.Date
	ExportsThisMonth int64
	RoleChanges      int64 // this month
	FailedSignIns    int64 // this month
}

// CustomerCount is a count for one customer.
type CustomerCount struct {
	CustomerID string
	Name       string
	N          int64
}

// MonthOnTime is one month's answers and how many met their due date.
type MonthOnTime struct {
	Month    calendar.Date // the first of the month
	Answered int
	InTime   int
}

// Rate is the share answered in time, in percent; ok is false when none
// was answered.
func (m MonthOnTime) Rate() (float64, bool) {
	if m.Answered == 0 {
		return 0, false
	}
	return 100 * float64(m.InTime) / float64(m.Answered), true
}

// OptOutWeeks is how many weeks the opt-out chart covers.
const OptOutWeeks = 12

// RoleChangeActions are the audit actions of granting or changing a role.
var RoleChangeActions = []string{"role.grant", "role.change"}

// TodayFigures computes what the dashboard shows the actor, within what
// the actor may see, on today (a date in biz's time zone).
func (db *CaseworkStore) TodayFigures(ctx context.Context, actor store.Actor, biz calendar.Business, today calendar.Date) (*DashboardToday, error) {
	if biz.Loc == nil {
		biz.Loc = time.UTC
	}
	if biz.Calendar == nil {
		biz.Calendar = calendar.DefaultCalendar()
	}
	t := &DashboardToday{Date: today, SoonBy: biz.Calendar.BusinessDaysAfter(today, 2), MonthStart: calendar.Date{Year: today.Year, Month: today.Month, Day: 1}}
	base := RequestFilter{Today: today}
	for _, c := range []struct {
		dst    *int64
		view   string
		status string
		before string
	}{{&t.Overdue, "overdue", "", ""}, {&t.DueSoon, ViewDueSoon, "", t.SoonBy.String()}, {&t.Waiting, "open", requests.StatusWaiting, ""},
		{&t.WithControllers, "awaiting_controller", "", ""}, {&t.AckDue, ViewAckDue, "", ""}, {&t.Untriaged, ViewUntriaged, "", ""}} {
		f := base
		f.View, f.Status, f.DueBefore = c.view, c.status, c.before
		n, err := db.CountRequests(ctx, actor, f)
		if err != nil {
			return nil, err
		}
		*c.dst = n
	}
	g := db.Gorm.WithContext(ctx)

	// Routed tasks past due, per customer, most first.
	var late []CustomerCount
	if err := g.Table("routed_tasks").Scopes(actor.Tenant("routed_tasks.customer_id")).
		Select("routed_tasks.customer_id AS customer_id, customers.name AS name, COUNT(*) AS n").
		Joins("JOIN customers ON customers.id = routed_tasks.customer_id").
		Joins("JOIN privacy_requests ON privacy_requests.id = routed_tasks.request_id").
		Where("routed_tasks.status = ? AND routed_tasks.due_on < ? AND privacy_requests.status IN ?", requests.TaskPending, today.String(), requests.OpenStatuses).
		Group("routed_tasks.customer_id, customers.name").Order("n DESC, customers.name").Scan(&late).Error; err != nil {
		return nil, fmt.Errorf("count late controllers: %w", err)
	}
	t.ControllersOverdue = late

	var err error
	if t.OnTime, err = db.onTimeByMonth(ctx, actor, biz.Loc, today, 12); err != nil {
		return nil, err
	}
	if err := db.optOutsByWeek(ctx, actor, biz.Loc, today, t); err != nil {
		return nil, err
	}

	// Replies held for review, and the oldest one's arrival.
	var oldest []consent.InboundReply
	if err := g.Model(&consent.InboundReply{}).Scopes(actor.Tenant("customer_id")).Where("action = ? AND reviewed_at IS NULL", consent.ReplyReview).
		Count(&t.RepliesToReview).Error; err != nil {
		return nil, fmt.Errorf("count replies to review: %w", err)
	}
	if err := g.Scopes(actor.Tenant("customer_id")).Where("action = ? AND reviewed_at IS NULL", consent.ReplyReview).
		Order("received_at").Limit(1).Find(&oldest).Error; err != nil {
		return nil, fmt.Errorf("find the oldest reply to review: %w", err)
	}
	if len(oldest) == 1 {
		at := oldest[0].ReceivedAt
		t.OldestReply = &at
	}

	// Requests from Sendara to answer (only a customer's own tasks).
	if !actor.Staff() {
		var tasks []requests.RoutedTask
		if err := g.Scopes(actor.Tenant("customer_id")).Where("status = ?", requests.TaskPending).Order("due_on").Find(&tasks).Error; err != nil {
			return nil, fmt.Errorf("read requests to answer: %w", err)
		}
		t.InboxPending = int64(len(tasks))
		if len(tasks) > 0 {
			t.InboxNextDue = tasks[0].DueOn.String()
		}
	}

	// Import jobs by status.
	var jobs []struct {
		Status string
		N      int64
	}
	if err := g.Model(&imports.ImportJob{}).Scopes(actor.Tenant("customer_id")).Select("status, COUNT(*) AS n").Group("status").Scan(&jobs).Error; err != nil {
		return nil, fmt.Errorf("count import jobs: %w", err)
	}
	t.ImportsByStatus = map[string]int64{}
	for _, j := range jobs {
		t.ImportsByStatus[j.Status] = j.N
	}

	// The audit chain and this month's sensitive events.
	if actor.Staff() {
		if t.ChainSeq, t.ChainHash, err = db.AuditHead(ctx); err != nil {
			return nil, err
		}
		if t.Checkpoint, err = db.LastAuditCheckpoint(ctx); err != nil {
			return nil, err
		}
	}
	since, _ := DayRange(t.MonthStart, today, biz.Loc)
	for _, c := range []struct {
		dst     *int64
		actions []string
	}{{&t.ExportsThisMonth, ExportActions}, {&t.RoleChanges, RoleChangeActions}, {&t.FailedSignIns, []string{"user.login_failed"}}} {
		if err := g.Model(&store.AuditEvent{}).Scopes(actor.Tenant("customer_id")).Where("action IN ? AND occurred_at >= ?", c.actions, since).
			Count(c.dst).Error; err != nil {
			return nil, fmt.Errorf("count audit events: %w", err)
		}
	}
	return t, nil
}

// onTimeByMonth gives, for each of the n months up to today's, the
// answers (completed or denied) given in that month and how many were on
// or before their effective due date. The rules are Metrics' (OutcomeOf,
// the business time zone); duplicates merged into another do not count.
func (db *CaseworkStore) onTimeByMonth(ctx context.Context, actor store.Actor, loc *time.Location, today calendar.Date, n int) ([]MonthOnTime, error) {
	first := calendar.Date{Year: today.Year, Month: today.Month, Day: 1}.AddMonths(-(n - 1))
	out := make([]MonthOnTime, n)
	index := map[calendar.Date]int{}
	for i := range out {
		out[i].Month = first.AddMonths(i)
		index[out[i].Month] = i
	}
	from, to := DayRange(first, today, loc)
	var rs []requests.PrivacyRequest
	if err := db.Gorm.WithContext(ctx).Scopes(requests.RequestScope(actor)).Select("status", "outcome", "completed_at", "due_on", "extended_to").
		Where("completed_at >= ? AND completed_at < ? AND status IN ?", from, to, []string{requests.StatusCompleted, requests.StatusDenied}).
		Where(requests.NotDuplicate).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("read answered requests: %w", err)
	}
	for _, r := range rs {
		on := calendar.DateOf(*r.CompletedAt, loc)
		i, ok := index[calendar.Date{Year: on.Year, Month: on.Month, Day: 1}]
		if !ok {
			continue
		}
		due := r.EffectiveDueOn()
		out[i].Answered++
		if !on.After(due) {
			out[i].InTime++
		}
	}
	return out, nil
}

// optOutsByWeek counts the opt-outs recorded in each of the last
// OptOutWeeks weeks (Monday to Sunday, in loc) by their source.
func (db *CaseworkStore) optOutsByWeek(ctx context.Context, actor store.Actor, loc *time.Location, today calendar.Date, t *DashboardToday) error {
	monday := today.AddDays(-((int(today.Weekday()) + 6) % 7))
	first := monday.AddDays(-7 * (OptOutWeeks - 1))
	for i := range OptOutWeeks {
		t.OptOutWeeks = append(t.OptOutWeeks, first.AddDays(7*i))
	}
	from, to := DayRange(first, today, loc)
	var evs []consent.ConsentEvent
	if err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).Select("source", "occurred_at").
		Where("kind = ? AND occurred_at >= ? AND occurred_at < ?", consent.OptOut, from, to).Find(&evs).Error; err != nil {
		return fmt.Errorf("read opt-outs: %w", err)
	}
	t.OptOutsBySource = map[string][]int{}
	for _, e := range evs {
		week := store.DaysBetween(first, calendar.DateOf(e.OccurredAt, loc)) / 7
		if week < 0 || week >= OptOutWeeks {
			continue
		}
		if t.OptOutsBySource[e.Source] == nil {
			t.OptOutsBySource[e.Source] = make([]int, OptOutWeeks)
		}
		t.OptOutsBySource[e.Source][week]++
	}
	return nil
}

// OptOutSources are the sources with opt-outs in the chart's weeks, in
// ConsentSources order (then any other, sorted).
func (t *DashboardToday) OptOutSources() []string {
	var out, other []string
	for _, s := range consent.ConsentSources {
		if t.OptOutsBySource[s] != nil {
			out = append(out, s)
		}
	}
	for s := range t.OptOutsBySource {
		if !slices.Contains(consent.ConsentSources, s) {
			other = append(other, s)
		}
	}
	slices.Sort(other)
	return append(out, other...)
}
