package casework

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	consent "github.com/sendara/console/models/consent"

	fulfilment "github.com/sendara/console/models/fulfilment"

	requests "github.com/sendara/console/models/requests"

	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// EvidenceReport names one auditor report.
type EvidenceReport struct {
	Name  string // in the URL: /reports/audit/{name}
	Title string
	About string // what the figures mean, shown above the table
}

// EvidenceReports lists the auditor reports in the order the index shows.
var EvidenceReports = []EvidenceReport{
	{"opt-out-latency", "Opt-out latency", "Each opt-out from when it happened to when it was recorded and in effect, in business days (the day it happened does not count), by customer and source. The console applies the suppression in the transaction that records the opt-out, so it is in effect when recorded. TCPA: honour a revocation within 10 business days; slower ones are flagged."},
	{"reply-queue", "Reply queue age", "Replies awaiting review (they may revoke consent and are not suppressed until decided), by customer: how many, the oldest, and how many are past their 10-business-day review date."},
	{"on-time", "Requests answered on time", "Per request received in the range: its due date (the extended one if extended), when it was answered, by whom, and whether in time; above, the on-time rate per regime and type. Withdrawn requests were not answered and are left out of the rate."},
	{"access-review", "Access review", "Who held which role when (from the audit log's role grants and changes and the users' disabling), with each user's last sign-in and second factor."},
	{"erasure", "Erasure completeness", "For each erasure or deletion request completed in the range: whether any of the subject's identifiers is still held at any customer, and whether a legal hold keeps it."},
	{"exports", "Exports of personal data", "Every export or download of personal data in the range: who, what, when, for which customer (from the audit log)."},
}

// ExportActions are the audit actions that export or download personal
// data (or the log about it): the exports report lists them.
var ExportActions = []string{"contact.export", "import.bad_rows_export", "request.export", "request.export_download",
	"request.export_reissue", "request.case_file_export", "request.list_export", "request.proof_download",
	"customer.account_bundle", "audit.export", "report.request_log", "report.export"}

// EvidenceTable is a report as rows of text, for the page and the CSV.
type EvidenceTable struct {
	Columns []string
	Rows    [][]string
	Flagged []bool // rows the report flags (late, incomplete...)
}

func (t *EvidenceTable) add(flag bool, cells ...string) {
	t.Rows = append(t.Rows, cells)
	t.Flagged = append(t.Flagged, flag)
}

func fmtStamp(t *time.Time, loc *time.Location) string {
	if t == nil {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// OptOutLatencyLimit is the TCPA's time to honour a revocation, in
// business days (47 CFR 64.1200(a)(10)).
const OptOutLatencyLimit = 10

// OptOutLatencyGroup is one customer and source.
type OptOutLatencyGroup struct {
	Customer string
	Source   string
	OptOuts  int
	// Business days from happened to recorded (= in effect).
	MedianDays float64
	MaxDays    int
	Late       int // more than OptOutLatencyLimit business days
}

// LateOptOut is one opt-out honoured after the limit.
type LateOptOut struct {
	Customer   string
	Source     string
	ContactID  string
	Happened   time.Time
	Recorded   time.Time
	InEffect   time.Time
	Days       int
	RecordedBy string
}

// OptOutLatency is report (a).
type OptOutLatency struct {
	Groups []OptOutLatencyGroup
	Late   []LateOptOut // at most maxLateListed, by customer, source and time; the groups count them all
}

// maxLateListed bounds the late opt-outs listed one by one.
const maxLateListed = 1000

// OptOutLatencyReport computes the latency of the opt-outs that happened
// in [from, to).
func (db *CaseworkStore) OptOutLatencyReport(ctx context.Context, actor store.Actor, biz calendar.Business, from, to time.Time) (*OptOutLatency, error) {
	g := db.Gorm.WithContext(ctx)
	names, err := customerNames(g)
	if err != nil {
		return nil, err
	}
	rows, err := g.Model(&consent.ConsentEvent{}).Scopes(actor.Tenant("customer_id")).
		Select("customer_id", "contact_id", "source", "occurred_at", "recorded_at", "actor_label").
		Where("kind = ? AND occurred_at >= ? AND occurred_at < ?", consent.OptOut, from.UTC(), to.UTC()).
		Order("customer_id, source, occurred_at").Rows()
	if err != nil {
		return nil, fmt.Errorf("read opt-outs: %w", err)
	}
	defer rows.Close()
	type key struct{ customer, source string }
	days := map[key][]int{}
	out := &OptOutLatency{}
	for rows.Next() {
		var e consent.ConsentEvent
		if err := g.ScanRows(rows, &e); err != nil {
			return nil, fmt.Errorf("read opt-outs: %w", err)
		}
		// In effect: the suppression lookup is updated in the transaction
		// that records the event.
		inEffect := e.RecordedAt
		if inEffect.Before(e.OccurredAt) {
			inEffect = e.OccurredAt
		}
		n := biz.Calendar.BusinessDaysBetween(calendar.DateOf(e.OccurredAt, biz.Loc), calendar.DateOf(inEffect, biz.Loc))
		k := key{names[e.CustomerID], e.Source}
		days[k] = append(days[k], n)
		if n > OptOutLatencyLimit && len(out.Late) < maxLateListed {
			out.Late = append(out.Late, LateOptOut{Customer: k.customer, Source: e.Source, ContactID: e.ContactID, Happened: e.OccurredAt,
				Recorded: e.RecordedAt, InEffect: inEffect, Days: n, RecordedBy: e.ActorLabel})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read opt-outs: %w", err)
	}
	for k, ds := range days {
		grp := OptOutLatencyGroup{Customer: k.customer, Source: k.source, OptOuts: len(ds), MaxDays: slices.Max(ds)}
		_, grp.MedianDays, _ = dayStats(ds)
		for _, d := range ds {
			if d > OptOutLatencyLimit {
				grp.Late++
			}
		}
		out.Groups = append(out.Groups, grp)
	}
	slices.SortFunc(out.Groups, func(a, b OptOutLatencyGroup) int {
		return strings.Compare(a.Customer+"\x00"+a.Source, b.Customer+"\x00"+b.Source)
	})
	return out, nil
}

// Table shows the groups, then each late opt-out.
func (r *OptOutLatency) Table(loc *time.Location) EvidenceTable {
	t := EvidenceTable{Columns: []string{"customer", "source", "opt_outs", "median_business_days", "max_business_days",
		"over_10_business_days", "contact", "happened", "recorded", "in_effect"}}
	for _, g := range r.Groups {
		t.add(g.Late > 0, g.Customer, g.Source, strconv.Itoa(g.OptOuts), strconv.FormatFloat(g.MedianDays, 'f', 1, 64),
			strconv.Itoa(g.MaxDays), strconv.Itoa(g.Late), "", "", "", "")
	}
	for _, l := range r.Late {
		t.add(true, l.Customer, l.Source, "1", strconv.Itoa(l.Days), strconv.Itoa(l.Days), "1", l.ContactID,
			fmtStamp(&l.Happened, loc), fmtStamp(&l.Recorded, loc), fmtStamp(&l.InEffect, loc))
	}
	return t
}

// ReplyQueueRow is one customer's replies awaiting review.
type ReplyQueueRow struct {
	Customer    string
	Waiting     int
	Oldest      time.Time
	OldestDays  int // business days the oldest has waited
	Overdue     int // past their review date
	NextDueOn   calendar.Date
	OldestDueOn calendar.Date
}

// ReplyQueueReport is report (b), as of today.
func (db *CaseworkStore) ReplyQueueReport(ctx context.Context, actor store.Actor, biz calendar.Business) ([]ReplyQueueRow, error) {
	g := db.Gorm.WithContext(ctx)
	names, err := customerNames(g)
	if err != nil {
		return nil, err
	}
	var rs []consent.InboundReply
	if err := g.Scopes(actor.Tenant("customer_id")).Select("customer_id", "id", "received_at", "review_due_on").
		Where("action = ? AND reviewed_at IS NULL", "review").Order("received_at").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("read the review queue: %w", err)
	}
	today := calendar.TodayIn(biz.Loc)
	by := map[string]*ReplyQueueRow{}
	var order []string
	for _, r := range rs {
		row, ok := by[r.CustomerID]
		if !ok {
			row = &ReplyQueueRow{Customer: names[r.CustomerID], Oldest: r.ReceivedAt,
				OldestDays: biz.Calendar.BusinessDaysBetween(calendar.DateOf(r.ReceivedAt, biz.Loc), today)}
			if r.ReviewDueOn != nil {
				row.OldestDueOn = *r.ReviewDueOn
			}
			by[r.CustomerID] = row
			order = append(order, r.CustomerID)
		}
		row.Waiting++
		if r.ReviewDueOn != nil {
			if r.ReviewDueOn.Before(today) {
				row.Overdue++
			}
			if row.NextDueOn.IsZero() || r.ReviewDueOn.Before(row.NextDueOn) {
				row.NextDueOn = *r.ReviewDueOn
			}
		}
	}
	out := make([]ReplyQueueRow, 0, len(order))
	for _, id := range order {
		out = append(out, *by[id])
	}
	slices.SortStableFunc(out, func(a, b ReplyQueueRow) int { return a.Oldest.Compare(b.Oldest) })
	return out, nil
}

// ReplyQueueTable shows report (b).
func ReplyQueueTable(rows []ReplyQueueRow, loc *time.Location) EvidenceTable {
	t := EvidenceTable{Columns: []string{"customer", "awaiting_review", "oldest_received", "oldest_waiting_business_days",
		"oldest_review_due_on", "overdue", "next_review_due_on"}}
	for _, r := range rows {
		t.add(r.Overdue > 0, r.Customer, strconv.Itoa(r.Waiting), fmtStamp(&r.Oldest, loc), strconv.Itoa(r.OldestDays),
			r.OldestDueOn.String(), strconv.Itoa(r.Overdue), r.NextDueOn.String())
	}
	return t
}

// OnTimeRequest is one request of the on-time report.
type OnTimeRequest struct {
	ID          string
	Reference   string
	Regime      string
	Type        string
	ReceivedOn  calendar.Date
	DueOn       calendar.Date // the effective due date
	Status      string
	AnsweredOn  string // the date of completion or denial; "" while open or withdrawn
	CompletedBy string // who closed it (the audit entry of the status change)
	// OnTime: "yes", "no", "open" (not answered yet, not late), "late"
	// (open past its due date) or "withdrawn".
	OnTime string
}

// OnTimeGroup is the rate for one regime and type.
type OnTimeGroup struct {
	Regime   string
	Type     string
	Answered int
	InTime   int
}

// Rate is InTime/Answered; ok false when none was answered.
func (g OnTimeGroup) Rate() (float64, bool) {
	if g.Answered == 0 {
		return 0, false
	}
	return float64(g.InTime) / float64(g.Answered), true
}

// OnTimeReport is report (c).
type OnTimeReport struct {
	Groups   []OnTimeGroup
	Requests []OnTimeRequest
}

// OnTimeRequests computes report (c) for the requests received in
// [from, to).
func (db *CaseworkStore) OnTimeRequests(ctx context.Context, actor store.Actor, biz calendar.Business, from, to time.Time) (*OnTimeReport, error) {
	g := db.Gorm.WithContext(ctx)
	var rs []requests.PrivacyRequest
	if err := g.Scopes(requests.RequestScope(actor)).Where("received_at >= ? AND received_at < ?", from.UTC(), to.UTC()).
		Where(requests.NotDuplicate).Order("received_at, reference").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("read requests: %w", err)
	}
	closers, err := requestClosers(g, rs)
	if err != nil {
		return nil, err
	}
	today := calendar.TodayIn(biz.Loc)
	out := &OnTimeReport{}
	groups := map[[2]string]*OnTimeGroup{}
	for _, r := range rs {
		row := OnTimeRequest{ID: r.ID, Reference: r.Reference, Regime: r.Regime, Type: r.TypeOr(calendar.TypeOther),
			ReceivedOn: calendar.DateOf(r.ReceivedAt, biz.Loc), DueOn: r.EffectiveDueOn(), Status: r.Status, CompletedBy: closers[r.ID]}
		due := row.DueOn
		if due.IsZero() {
			return nil, fmt.Errorf("request %s: no due date", r.Reference)
		}
		k := [2]string{row.Regime, row.Type}
		grp, ok := groups[k]
		if !ok {
			grp = &OnTimeGroup{Regime: row.Regime, Type: row.Type}
			groups[k] = grp
		}
		outcome := requests.OutcomeOf(r.Status, r.Outcome)
		switch {
		case (outcome == requests.OutcomeComplied || outcome == requests.OutcomeCompliedInPart || outcome == requests.OutcomeDenied) && r.CompletedAt != nil:
			answered := calendar.DateOf(*r.CompletedAt, biz.Loc)
			row.AnsweredOn = answered.String()
			grp.Answered++
			if answered.After(due) {
				row.OnTime = "no"
			} else {
				row.OnTime = "yes"
				grp.InTime++
			}
		case outcome == requests.OutcomeWithdrawn:
			row.OnTime = "withdrawn"
		case due.Before(today):
			row.OnTime = "late"
		default:
			row.OnTime = "open"
		}
		out.Requests = append(out.Requests, row)
	}
	for _, grp := range groups {
		out.Groups = append(out.Groups, *grp)
	}
	slices.SortFunc(out.Groups, func(a, b OnTimeGroup) int { return strings.Compare(a.Regime+"\x00"+a.Type, b.Regime+"\x00"+b.Type) })
	return out, nil
}

// requestClosers reads who closed each request: the actor of its last
// status change to completed or denied.
func requestClosers(g *gorm.DB, rs []requests.PrivacyRequest) (map[string]string, error) {
	out := map[string]string{}
	var ids []string
	for _, r := range rs {
		if r.Status == requests.StatusCompleted || r.Status == requests.StatusDenied {
			ids = append(ids, r.ID)
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		var es []store.AuditEvent
		if err := g.Select("seq", "object_id", "actor_label", "details").Where("action = ? AND object_id IN ?", "request.status", ids[:n]).
			Order("seq").Find(&es).Error; err != nil {
			return nil, fmt.Errorf("read status changes: %w", err)
		}
		for _, e := range es {
			var d struct {
				To string `json:"to"`
			}
			if json.Unmarshal([]byte(e.Details), &d) == nil && (d.To == requests.StatusCompleted || d.To == requests.StatusDenied) {
				out[e.ObjectID] = e.ActorLabel
			}
		}
		ids = ids[n:]
	}
	return out, nil
}

// Table shows the rates per regime and type, then each request.
func (r *OnTimeReport) Table() EvidenceTable {
	t := EvidenceTable{Columns: []string{"regime", "type", "reference", "received_on", "due_on", "status", "answered_on",
		"completed_by", "on_time", "answered", "in_time", "on_time_rate"}}
	for _, g := range r.Groups {
		rate := ""
		if v, ok := g.Rate(); ok {
			rate = strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
		}
		t.add(g.InTime < g.Answered, g.Regime, g.Type, "", "", "", "", "", "", "", strconv.Itoa(g.Answered), strconv.Itoa(g.InTime), rate)
	}
	for _, q := range r.Requests {
		t.add(q.OnTime == "no" || q.OnTime == "late", q.Regime, q.Type, q.Reference, q.ReceivedOn.String(), q.DueOn.String(), q.Status,
			q.AnsweredOn, q.CompletedBy, q.OnTime, "", "", "")
	}
	return t
}

// RolePeriod is one role a user held, from when until when (nil: still).
type RolePeriod struct {
	UserID       string
	Email        string
	Customer     string
	Role         string
	From         time.Time
	Until        *time.Time
	GrantedBy    string
	Disabled     bool // the user is disabled now
	LastSignIn   *time.Time
	SecondFactor string // "enrolled YYYY-MM-DD" or "none"
}

// AccessReview is report (d): every user's role periods, from the audit
// log (user.create, role.grant, role.change, user.disable, user.enable),
// with the current assignment where the log has none (a user created
// before the log).
func (db *CaseworkStore) AccessReview(ctx context.Context, actor store.Actor, loc *time.Location) ([]RolePeriod, error) {
	g := db.Gorm.WithContext(ctx)
	names, err := customerNames(g)
	if err != nil {
		return nil, err
	}
	var users []accounts.User
	if err := g.Scopes(actor.Tenant("customer_id")).Preload("Roles").Order("email").Find(&users).Error; err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	var es []store.AuditEvent
	if err := g.Scopes(actor.Tenant("customer_id")).Select("seq", "occurred_at", "actor_label", "action", "object_id", "details").
		Where("object_type = ? AND action IN ?", "user", []string{"role.grant", "role.change", "user.disable", "user.enable"}).
		Order("seq").Find(&es).Error; err != nil {
		return nil, fmt.Errorf("read role history: %w", err)
	}
	history := map[string][]store.AuditEvent{}
	for _, e := range es {
		history[e.ObjectID] = append(history[e.ObjectID], e)
	}
	var out []RolePeriod
	for _, u := range users {
		base := RolePeriod{UserID: u.ID, Email: u.Email, Customer: names[store.DerefString(u.CustomerID)], Disabled: u.DisabledAt != nil,
			LastSignIn: u.LastLoginAt, SecondFactor: "none"}
		if u.TOTPEnabledAt != nil {
			base.SecondFactor = "enrolled " + calendar.DateOf(*u.TOTPEnabledAt, loc).String()
		}
		var periods []RolePeriod
		open := -1 // index of the period still running
		closeOpen := func(at time.Time) {
			if open >= 0 {
				t := at
				periods[open].Until = &t
				open = -1
			}
		}
		current := ""
		for _, e := range history[u.ID] {
			var d struct {
				Role  string `json:"role"`
				After string `json:"after"`
			}
			_ = json.Unmarshal([]byte(e.Details), &d)
			switch e.Action {
			case "role.grant", "role.change":
				role := store.FirstNonEmptyString(d.After, d.Role)
				closeOpen(e.OccurredAt)
				current = role
				p := base
				p.Role, p.From, p.GrantedBy = role, e.OccurredAt, e.ActorLabel
				periods = append(periods, p)
				open = len(periods) - 1
			case "user.disable":
				closeOpen(e.OccurredAt)
			case "user.enable":
				if current != "" {
					p := base
					p.Role, p.From, p.GrantedBy = current, e.OccurredAt, e.ActorLabel+" (re-enabled)"
					periods = append(periods, p)
					open = len(periods) - 1
				}
			}
		}
		if len(periods) == 0 {
			for _, ra := range u.Roles {
				p := base
				p.Role, p.From, p.GrantedBy = string(ra.Role), ra.CreatedAt, "(before the audit log)"
				if u.DisabledAt != nil {
					p.Until = u.DisabledAt
				}
				periods = append(periods, p)
			}
		}
		out = append(out, periods...)
	}
	return out, nil
}

// RolePeriodsDuring keeps the role periods that overlap [from, to): begun
// before to and not ended before from (a period still running has no
// end). The access review of a year lists who could act in that year.
func RolePeriodsDuring(ps []RolePeriod, from, to time.Time) []RolePeriod {
	out := make([]RolePeriod, 0, len(ps))
	for _, p := range ps {
		if p.From.Before(to) && (p.Until == nil || !p.Until.Before(from)) {
			out = append(out, p)
		}
	}
	return out
}

// AccessReviewTable shows report (d).
func AccessReviewTable(ps []RolePeriod, loc *time.Location) EvidenceTable {
	t := EvidenceTable{Columns: []string{"user", "customer", "role", "from", "until", "granted_by", "disabled", "last_sign_in", "second_factor"}}
	for _, p := range ps {
		until := "now"
		if p.Until != nil {
			until = fmtStamp(p.Until, loc)
		}
		staffNoMFA := p.Customer == "" && p.SecondFactor == "none" && p.Until == nil
		t.add(staffNoMFA, p.Email, p.Customer, p.Role, fmtStamp(&p.From, loc), until, p.GrantedBy, yesNo(p.Disabled),
			fmtStamp(p.LastSignIn, loc), p.SecondFactor)
	}
	return t
}

// ErasureCheck is one completed erasure request.
type ErasureCheck struct {
	ID          string
	Reference   string
	Type        string
	CompletedAt time.Time
	Identifiers int
	LeftAt      []string // customers still holding an identifier of the subject, no hold
	HeldAt      []string // customers keeping one under a legal hold
	Complete    bool     // nothing left but what a hold keeps
}

// ErasureCompleteness is report (e) for the erasure, deletion and child
// data requests completed in [from, to).
func (db *CaseworkStore) ErasureCompleteness(ctx context.Context, actor store.Actor, from, to time.Time) ([]ErasureCheck, error) {
	g := db.Gorm.WithContext(ctx)
	names, err := customerNames(g)
	if err != nil {
		return nil, err
	}
	var rs []requests.PrivacyRequest
	if err := g.Scopes(requests.RequestScope(actor)).Where("status = ? AND type IN ? AND completed_at >= ? AND completed_at < ?",
		requests.StatusCompleted, []string{calendar.TypeErasure, calendar.TypeDelete, calendar.TypeChildData}, from.UTC(), to.UTC()).
		Order("completed_at, reference").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("read erasure requests: %w", err)
	}
	var (
		out []ErasureCheck
		key []byte // the erasure key, read when first needed
	)
	for _, r := range rs {
		ids := r.Identifiers()
		c := ErasureCheck{ID: r.ID, Reference: r.Reference, Type: r.TypeOr(calendar.TypeOther), CompletedAt: *r.CompletedAt, Identifiers: len(ids)}
		if len(ids) > 0 {
			var left []struct {
				CustomerID string
				ContactID  string
				Value      string
			}
			if err := g.Table("contact_identifiers").Scopes(actor.Tenant("customer_id")).Select("customer_id", "contact_id", "value").
				Where("value IN ?", ids).Find(&left).Error; err != nil {
				return nil, fmt.Errorf("look for identifiers left: %w", err)
			}
			type held struct{ contact, hash string }
			byCustomer := map[string][]held{}
			for _, l := range left {
				if key == nil {
					if key, err = db.ErasureKey(ctx); err != nil {
						return nil, err
					}
				}
				byCustomer[l.CustomerID] = append(byCustomer[l.CustomerID], held{l.ContactID, consent.IdentifierHash(key, l.CustomerID, l.Value)})
			}
			for cust, rows := range byCustomer {
				var contacts, hashes []string
				for _, r := range rows {
					contacts, hashes = append(contacts, r.contact), append(hashes, r.hash)
				}
				byContact, byHash, err := fulfilment.ActiveHolds(g, cust, contacts, hashes)
				if err != nil {
					return nil, err
				}
				allHeld := true
				for _, r := range rows {
					_, c1 := byContact[r.contact]
					_, c2 := byHash[r.hash]
					if !c1 && !c2 {
						allHeld = false
					}
				}
				if allHeld {
					c.HeldAt = append(c.HeldAt, names[cust])
				} else {
					c.LeftAt = append(c.LeftAt, names[cust])
				}
			}
			sort.Strings(c.LeftAt)
			sort.Strings(c.HeldAt)
		}
		c.Complete = len(c.LeftAt) == 0
		out = append(out, c)
	}
	return out, nil
}

// ErasureTable shows report (e).
func ErasureTable(cs []ErasureCheck, loc *time.Location) EvidenceTable {
	t := EvidenceTable{Columns: []string{"reference", "type", "completed", "identifiers", "complete", "left_at", "kept_under_legal_hold_at"}}
	for _, c := range cs {
		t.add(!c.Complete, c.Reference, c.Type, fmtStamp(&c.CompletedAt, loc), strconv.Itoa(c.Identifiers), yesNo(c.Complete),
			strings.Join(c.LeftAt, "; "), strings.Join(c.HeldAt, "; "))
	}
	return t
}

// ExportEvent is one export or download of personal data.
type ExportEvent struct {
	Seq      int64
	At       time.Time
	Who      string
	Action   string
	Object   string // the reference, or the object's type and id
	Customer string
	Details  string
}

// PersonalDataExports is report (f): the ExportActions entries of the
// audit log in [from, to), newest first (at most limit).
func (db *CaseworkStore) PersonalDataExports(ctx context.Context, actor store.Actor, from, to time.Time, limit int) ([]ExportEvent, error) {
	g := db.Gorm.WithContext(ctx)
	names, err := customerNames(g)
	if err != nil {
		return nil, err
	}
	var es []store.AuditEvent
	if err := g.Scopes(actor.Tenant("customer_id")).Where("action IN ? AND occurred_at >= ? AND occurred_at < ?", ExportActions, from.UTC(), to.UTC()).
		Order("seq DESC").Limit(limit).Find(&es).Error; err != nil {
		return nil, fmt.Errorf("read exports: %w", err)
	}
	out := make([]ExportEvent, 0, len(es))
	for _, e := range es {
		var d map[string]any
		_ = json.Unmarshal([]byte(e.Details), &d)
		obj := strings.TrimSpace(e.ObjectType + " " + e.ObjectID)
		if ref, ok := d["reference"].(string); ok && ref != "" {
			obj = ref
		}
		out = append(out, ExportEvent{Seq: e.Seq, At: e.OccurredAt, Who: e.ActorLabel, Action: e.Action, Object: obj,
			Customer: names[e.CustomerID], Details: e.Details})
	}
	return out, nil
}

// ExportsTable shows report (f).
func ExportsTable(es []ExportEvent, loc *time.Location) EvidenceTable {
	t := EvidenceTable{Columns: []string{"audit_seq", "when", "who", "action", "what", "customer", "details"}}
	for _, e := range es {
		t.add(false, strconv.FormatInt(e.Seq, 10), fmtStamp(&e.At, loc), e.Who, e.Action, e.Object, e.Customer, e.Details)
	}
	return t
}
