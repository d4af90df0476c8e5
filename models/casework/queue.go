package casework

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	errs "github.com/sendara/console/models/errs"

	imports "github.com/sendara/console/models/imports"

	requests "github.com/sendara/console/models/requests"

	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// RequestFilter narrows the request list. View is one of the built-in
// views; the other fields narrow it further.
type RequestFilter struct {
	View string // "", open, mine, due_this_week, overdue, awaiting_controller, closed
	// Status is "" (the view decides; open by default), "open", "closed",
	// "all", or one status.
	Status     string
	Type       string
	Regime     string
	AssigneeID string // a staff user's id, or "none" for unassigned
	CustomerID string // the request's customer or one it was routed to
	DueBefore  string // YYYY-MM-DD: due (in force) on or before this day
	// Query is a reference, part of the requester's name, an email or a
	// phone number (requester or subject identifier). Without a status it
	// searches every status.
	Query   string
	Sort    string        // "" or due (soonest first), received (newest first), reference
	UserID  string        // for "mine"
	Today   calendar.Date // in the business time zone
	WeekEnd calendar.Date
	Region  string // reads phone numbers written without a country code
	Limit   int    // at most 500; 200 when zero
	Offset  int    // at most MaxRequestOffset
}

// RequestSorts lists the request list's orders.
var RequestSorts = []string{"due", "received", "reference"}

// RequestStatusChoices are the status filter's values besides single statuses.
var RequestStatusChoices = []string{"open", "closed", "all"}

// MaxRequestOffset bounds paging: past it, narrow the filters.
const MaxRequestOffset = 10000

// Check validates the filter, naming the field at fault.
func (f *RequestFilter) Check() error {
	f.Query = strings.TrimSpace(f.Query)
	if len(f.Query) > 200 {
		return errs.Invalid("q", "search for at most 200 characters")
	}
	if f.Status != "" && !slices.Contains(RequestStatusChoices, f.Status) && !slices.Contains(requests.RequestStatuses, f.Status) {
		return errs.Invalid("status", "unknown status %q", f.Status)
	}
	if f.Type != "" {
		if _, err := calendar.ParseRequestType(f.Type); err != nil {
			return errs.Invalid("type", "unknown request type %q", f.Type)
		}
	}
	if f.Regime != "" {
		if _, err := calendar.ParseRegime(f.Regime); err != nil {
			return errs.Invalid("regime", "unknown regime %q", f.Regime)
		}
	}
	if f.AssigneeID != "" && f.AssigneeID != "none" && !store.ValidID(f.AssigneeID) {
		return errs.Invalid("assignee", "no such user")
	}
	if f.CustomerID != "" && !store.ValidID(f.CustomerID) {
		return errs.Invalid("customer", "no such customer")
	}
	if f.DueBefore != "" {
		if _, err := calendar.ParseDate(f.DueBefore); err != nil {
			return errs.Invalid("due_before", "give a date as YYYY-MM-DD")
		}
	}
	if f.Sort != "" && !slices.Contains(RequestSorts, f.Sort) {
		return errs.Invalid("sort", "sort by due, received or reference")
	}
	if f.Offset < 0 || f.Offset > MaxRequestOffset {
		return errs.Invalid("page", "pages end after %d requests: narrow the filters", MaxRequestOffset)
	}
	return nil
}

// requestQuery builds the list's query without order or paging.
func (db *CaseworkStore) requestQuery(ctx context.Context, actor store.Actor, f *RequestFilter) (*gorm.DB, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	open := requests.OpenStatuses
	q := db.Gorm.WithContext(ctx).Model(&requests.PrivacyRequest{}).Scopes(requests.RequestScope(actor))
	// The view's own status rule applies unless a status is chosen; a
	// search without a status looks through every status.
	statusFree := f.Status != "" || f.Query != ""
	switch f.View {
	case "mine":
		q = q.Where("assignee_id = ?", f.UserID)
		if !statusFree {
			q = q.Where("status IN ?", open)
		}
	case "due_this_week":
		q = q.Where(requests.DueInForce+" <= ?", f.WeekEnd)
		if !statusFree {
			q = q.Where("status IN ?", open)
		}
	case "overdue":
		// A request waiting on its requester has its clock stopped: its
		// due date moves on when they answer.
		q = q.Where("status IN ? AND status <> ? AND "+requests.DueInForce+" < ?", open, requests.StatusWaiting, f.Today)
	case "awaiting_controller":
		q = q.Where("status = ?", requests.StatusWithController)
	case "closed":
		q = q.Where("status NOT IN ?", open)
	case "", "open":
		if !statusFree {
			q = q.Where("status IN ?", open)
		}
	default:
		// The dashboard's figures link to views of their own
		// (dashboard_views.go).
		var ok bool
		if q, ok = dashboardView(q, f); !ok {
			return nil, errs.Invalid("view", "unknown view %q", f.View)
		}
	}
	switch f.Status {
	case "", "all":
	case "open":
		q = q.Where("status IN ?", open)
	case "closed":
		q = q.Where("status NOT IN ?", open)
	default:
		q = q.Where("status = ?", f.Status)
	}
	if f.Type != "" {
		q = q.Where("type = ?", f.Type)
	}
	if f.Regime != "" {
		q = q.Where("regime = ?", f.Regime)
	}
	switch f.AssigneeID {
	case "":
	case "none":
		q = q.Where("assignee_id IS NULL")
	default:
		q = q.Where("assignee_id = ?", f.AssigneeID)
	}
	if f.CustomerID != "" {
		q = q.Where("privacy_requests.customer_id = ? OR privacy_requests.id IN (SELECT request_id FROM routed_tasks WHERE customer_id = ?)",
			f.CustomerID, f.CustomerID)
	}
	if f.DueBefore != "" {
		q = q.Where(requests.DueInForce+" <= ?", f.DueBefore)
	}
	if f.Query != "" {
		values := []string{strings.ToLower(f.Query)}
		if id, err := store.NormalizeIdentifier("q", f.Query, f.Region); err == nil && !slices.Contains(values, id.Value) {
			values = append(values, id.Value)
		}
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(f.Query)) + "%"
		q = q.Where(`reference = ? OR requester_email IN ? OR requester_phone IN ? OR LOWER(requester_name) LIKE ? ESCAPE '\'
			OR privacy_requests.id IN (SELECT request_id FROM request_identifiers WHERE value IN ?)`,
			strings.ToUpper(f.Query), values, values, like, values)
	}
	return q, nil
}

func requestOrder(sort string) string {
	switch sort {
	case "received":
		return "received_at DESC, id DESC"
	case "reference":
		return "reference, id"
	}
	return requests.DueInForce + ", received_at, id"
}

// ListRequests lists requests the actor may see, by f.Sort (soonest due
// first by default), one page of f.Limit from f.Offset.
func (db *CaseworkStore) ListRequests(ctx context.Context, actor store.Actor, f RequestFilter) ([]requests.PrivacyRequest, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	q, err := db.requestQuery(ctx, actor, &f)
	if err != nil {
		return nil, err
	}
	var rs []requests.PrivacyRequest
	if err := q.Order(requestOrder(f.Sort)).Offset(f.Offset).Limit(f.Limit).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return rs, nil
}

// CountRequests counts the requests the filter finds.
func (db *CaseworkStore) CountRequests(ctx context.Context, actor store.Actor, f RequestFilter) (int64, error) {
	q, err := db.requestQuery(ctx, actor, &f)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count requests: %w", err)
	}
	return n, nil
}

// MaxRequestExport bounds one CSV export of the list.
const MaxRequestExport = 50000

// RequestCSVColumns is the header of the list's CSV export.
var RequestCSVColumns = []string{"reference", "type", "regime", "status", "channel", "requester_name", "requester_email",
	"requester_phone", "received_at", "acknowledge_by", "due_on", "assignee", "outcome"}

// RequestCSVRecord is one request as CSV cells. Free text a spreadsheet
// would run as a formula gets an apostrophe; a phone number is written as
// a tel: URI, so a spreadsheet keeps it as text (SpreadsheetSafe).
func RequestCSVRecord(r requests.PrivacyRequest, assignee string) []string {
	phone := ""
	if r.RequesterPhone != "" {
		phone = imports.SpreadsheetIdentifier(store.KindPhone, r.RequesterPhone)
	}
	email := ""
	if r.RequesterEmail != "" {
		email = imports.SpreadsheetIdentifier(store.KindEmail, r.RequesterEmail)
	}
	return []string{r.Reference, r.TypeOr(""), r.Regime, r.Status, r.Channel, imports.SpreadsheetSafe(r.RequesterName), email, phone,
		r.ReceivedAt.UTC().Format(time.RFC3339), calendar.DerefDate(r.AckDueOn).String(), r.EffectiveDueOn().String(), imports.SpreadsheetSafe(assignee),
		imports.SpreadsheetSafe(r.Outcome)}
}

// EachRequest calls fn for every request the filter finds (at most
// MaxRequestExport), in the list's order, reading pages of 1000, and
// returns how many it passed.
func (db *CaseworkStore) EachRequest(ctx context.Context, actor store.Actor, f RequestFilter, fn func(requests.PrivacyRequest) error) (int, error) {
	f.Limit, f.Offset = 1000, 0
	n := 0
	for n < MaxRequestExport {
		q, err := db.requestQuery(ctx, actor, &f)
		if err != nil {
			return n, err
		}
		var rs []requests.PrivacyRequest
		if err := q.Order(requestOrder(f.Sort)).Offset(n).Limit(min(f.Limit, MaxRequestExport-n)).Find(&rs).Error; err != nil {
			return n, fmt.Errorf("export requests: %w", err)
		}
		for _, r := range rs {
			if err := fn(r); err != nil {
				return n, err
			}
			n++
		}
		if len(rs) < f.Limit {
			break
		}
	}
	return n, nil
}

// SavedRequestView is a staff user's named set of list filters.
type SavedRequestView struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	Name      string
	Filters   string // JSON of SavedFilters
	CreatedAt time.Time
}

// TableName is the saved views table.
func (SavedRequestView) TableName() string { return "saved_request_views" }

// SavedFilters are the parts of a RequestFilter a saved view keeps.
type SavedFilters struct {
	View       string `json:"view,omitempty"`
	Status     string `json:"status,omitempty"`
	Type       string `json:"type,omitempty"`
	Regime     string `json:"regime,omitempty"`
	AssigneeID string `json:"assignee,omitempty"`
	CustomerID string `json:"customer,omitempty"`
	DueBefore  string `json:"due_before,omitempty"`
	Query      string `json:"q,omitempty"`
	Sort       string `json:"sort,omitempty"`
}

// Saved returns the filter's savable part.
func (f RequestFilter) Saved() SavedFilters {
	return SavedFilters{View: f.View, Status: f.Status, Type: f.Type, Regime: f.Regime, AssigneeID: f.AssigneeID,
		CustomerID: f.CustomerID, DueBefore: f.DueBefore, Query: f.Query, Sort: f.Sort}
}

// Filter is the saved view's filters.
func (v SavedRequestView) Filter() SavedFilters {
	var f SavedFilters
	_ = json.Unmarshal([]byte(v.Filters), &f)
	return f
}

// MaxSavedViews is how many views one user may keep.
const MaxSavedViews = 50

// SaveRequestView names the actor's filter set. Audited as
// request_view.save.
func (db *CaseworkStore) SaveRequestView(ctx context.Context, actor store.Actor, name string, f RequestFilter) (*SavedRequestView, error) {
	name = requests.CleanName(name)
	if name == "" || len(name) > 80 {
		return nil, errs.Invalid("name", "name the view in at most 80 characters")
	}
	if actor.Type != store.ActorUser || actor.ID == "" {
		return nil, errs.Invalid("name", "only a signed-in user keeps views")
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	js, _ := json.Marshal(f.Saved())
	v := &SavedRequestView{ID: uuid.Must(uuid.NewV7()).String(), UserID: actor.ID, Name: name, Filters: string(js), CreatedAt: store.Now()}
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		var n, same int64
		if err := tx.G.Model(&SavedRequestView{}).Where("user_id = ?", actor.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("count saved views: %w", err)
		}
		if n >= MaxSavedViews {
			return &errs.ConflictError{Field: "name", Message: fmt.Sprintf("you have %d saved views: delete one first", n)}
		}
		if err := tx.G.Model(&SavedRequestView{}).Where("user_id = ? AND name = ?", actor.ID, name).Count(&same).Error; err != nil {
			return fmt.Errorf("check saved views: %w", err)
		}
		if same > 0 {
			return &errs.ConflictError{Field: "name", Message: fmt.Sprintf("you already have a view named %q", name)}
		}
		if err := tx.G.Create(v).Error; err != nil {
			return fmt.Errorf("save view: %w", err)
		}
		tx.Audit(store.Audit{Action: "request_view.save", ObjectType: "request_view", ObjectID: v.ID, Details: map[string]any{"name": name}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// SavedRequestViews lists the actor's own views by name.
func (db *CaseworkStore) SavedRequestViews(ctx context.Context, actor store.Actor) ([]SavedRequestView, error) {
	var vs []SavedRequestView
	if err := db.Gorm.WithContext(ctx).Where("user_id = ?", actor.ID).Order("name").Find(&vs).Error; err != nil {
		return nil, fmt.Errorf("read saved views: %w", err)
	}
	return vs, nil
}

// DeleteRequestView deletes one of the actor's views; another user's view
// is not found. Audited as request_view.delete.
func (db *CaseworkStore) DeleteRequestView(ctx context.Context, actor store.Actor, id string) error {
	if !store.ValidID(id) {
		return store.ErrNotFound
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		var v SavedRequestView
		if err := tx.G.Where("user_id = ?", actor.ID).First(&v, "id = ?", id).Error; err != nil {
			return store.NotFound(err)
		}
		if err := tx.G.Delete(&v).Error; err != nil {
			return fmt.Errorf("delete view: %w", err)
		}
		tx.Audit(store.Audit{Action: "request_view.delete", ObjectType: "request_view", ObjectID: v.ID, Details: map[string]any{"name": v.Name}})
		return nil
	})
}

// AssignableUsers lists the users a request can be assigned to.
func (db *CaseworkStore) AssignableUsers(ctx context.Context) ([]accounts.User, error) {
	var us []accounts.User
	err := db.Gorm.WithContext(ctx).Preload("Roles").
		Where("customer_id IS NULL AND disabled_at IS NULL AND id IN (SELECT user_id FROM role_assignments WHERE role IN ?)", requests.ActingRoles).
		Order("email").Find(&us).Error
	if err != nil {
		return nil, fmt.Errorf("list assignable users: %w", err)
	}
	return us, nil
}

// MaxBulkAssign bounds one bulk assignment.
const MaxBulkAssign = 500

// AssignMany gives every request in ids to one user (or nobody, with "")
// in one transaction: each is audited (request.assign) and on its
// timeline, and the assignee is notified of each. A closed or unknown
// request refuses the whole change, naming it.
func (db *CaseworkStore) AssignMany(ctx context.Context, actor store.Actor, ids []string, userID string) (int, error) {
	seen := map[string]bool{}
	var list []string
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" && !seen[id] {
			seen[id] = true
			list = append(list, id)
		}
	}
	if len(list) == 0 {
		return 0, errs.Invalid("ids", "select at least one request")
	}
	if len(list) > MaxBulkAssign {
		return 0, errs.Invalid("ids", "assign at most %d requests at once", MaxBulkAssign)
	}
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		return requests.Assign(tx, list, userID, true)
	})
	if err != nil {
		return 0, err
	}
	return len(list), nil
}
