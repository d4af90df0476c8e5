package requests

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	hooks "github.com/sendara/console/models/hooks"

	outbox "github.com/sendara/console/models/outbox"

	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
)

// PersonMatch is one customer that holds data on a person.
type PersonMatch struct {
	CustomerID   string
	CustomerName string
	CustomerSlug string
	ContactIDs   []string
	Identifiers  []string // the identifiers that matched
}

// FindPerson lists the customers holding any of the identifiers. Only staff
// may look across customers; the search is audited with its purpose (the
// request it serves, when there is one).
func (db *RequestStore) FindPerson(ctx context.Context, actor store.Actor, requestID string, raws []string, region string) ([]PersonMatch, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	ids, err := consent.NormalizeAll("identifiers", raws, region)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, errs.Invalid("identifiers", "give at least one phone number or email address")
	}
	var matches []PersonMatch
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		var err error
		matches, err = findPerson(tx, consent.IdentifierValues(ids))
		if err != nil {
			return err
		}
		purpose := "lookup"
		if requestID != "" {
			purpose = "request " + requestID
		}
		tx.Audit(store.Audit{Action: "person.search", ObjectType: "request", ObjectID: requestID,
			Details: map[string]any{"purpose": purpose, "identifiers": len(ids), "customers": len(matches)}})
		return nil
	})
	return matches, err
}

func findPerson(t *store.Tx, values []string) ([]PersonMatch, error) {
	var rows []struct {
		CustomerID string
		ContactID  string
		Value      string
		Name       string
		Slug       string
	}
	err := t.G.Raw(`SELECT i.customer_id, i.contact_id, i.value, c.name, c.slug FROM contact_identifiers i
		JOIN customers c ON c.id = i.customer_id WHERE i.value IN ? ORDER BY c.name`, values).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("find person: %w", err)
	}
	byCustomer := map[string]*PersonMatch{}
	var order []string
	for _, r := range rows {
		m, ok := byCustomer[r.CustomerID]
		if !ok {
			m = &PersonMatch{CustomerID: r.CustomerID, CustomerName: r.Name, CustomerSlug: r.Slug}
			byCustomer[r.CustomerID] = m
			order = append(order, r.CustomerID)
		}
		if !slices.Contains(m.ContactIDs, r.ContactID) {
			m.ContactIDs = append(m.ContactIDs, r.ContactID)
		}
		m.Identifiers = append(m.Identifiers, r.Value)
	}
	out := make([]PersonMatch, len(order))
	for i, id := range order {
		out[i] = *byCustomer[id]
	}
	return out, nil
}

// RoutedTask is a request forwarded to one controller (customer).
type RoutedTask struct {
	CustomerID string `gorm:"primaryKey"`
	ID         string `gorm:"primaryKey"`
	RequestID  string
	ContactIDs string
	Status     string // pending, approved, denied, instructed
	DueOn      calendar.Date
	RoutedAt   time.Time
	AnsweredAt *time.Time
	AnsweredBy string
	Decision   string
	Reason     string
}

// Task decisions a controller may give.
const (
	TaskPending    = "pending"
	TaskApproved   = "approved"
	TaskDenied     = "denied"
	TaskInstructed = "instructed"
)

// StopTypes are requests to stop contacting the person: suppression is
// applied at once, at intake, before verification and before the
// controllers answer (DESIGN §3; the CCPA requires no verification for an
// opt-out, §7026).
var StopTypes = []string{calendar.TypeObjection, calendar.TypeOptOutSale, calendar.TypeRestriction}

// stopRequested says whether r asks to stop contacting the person, and
// with which suppression reason: a request of a stop type (or, untriaged,
// suggested as one), or any request whose text revokes consent the way a
// reply would ("please stop texting me", DESIGN §4). Opt-outs err on the
// side of suppression.
func stopRequested(r *PrivacyRequest) (string, bool) {
	if typ := r.TypeOr(r.SuggestedType); slices.Contains(StopTypes, typ) {
		return stopReason(typ), true
	}
	if consent.ClassifyReply(r.Details) == consent.ReplyOptOut {
		return consent.ReasonOptOut, true
	}
	return "", false
}

// AsksToStop reports whether the request asks to stop contacting the
// person, which is applied at intake.
func (r *PrivacyRequest) AsksToStop() bool {
	_, ok := stopRequested(r)
	return ok
}

// stopSending suppresses the request's subject at every customer holding
// any of its identifiers, verified or not (an opt-out needs no
// verification), with consent events of source privacy_request. It
// returns the customers holding the person and how many contacts became
// suppressed now. Running it again changes nothing.
func stopSending(t *store.Tx, r *PrivacyRequest, reason string) ([]PersonMatch, int, error) {
	matches, err := findPerson(t, r.Identifiers())
	if err != nil {
		return nil, 0, err
	}
	changed := 0
	for _, m := range matches {
		for _, contactID := range m.ContactIDs {
			cr, err := consent.RecordConsent(t, m.CustomerID, store.Identifier{}, consent.ConsentInput{ContactID: contactID, Kind: consent.OptOut,
				Reason: reason, Source: "privacy_request", Evidence: "privacy request " + r.Reference})
			if err != nil {
				return nil, 0, err
			}
			if cr.Changed {
				changed++
			}
		}
		if err := RecordAction(t, r.ID, m.CustomerID, ActionSuppressed, fmt.Sprintf("%d contact(s), reason %s", len(m.ContactIDs), reason)); err != nil {
			return nil, 0, err
		}
	}
	if _, err := addToStopList(t, r, reason, matches); err != nil {
		return nil, 0, err
	}
	return matches, changed, nil
}

// stopAtOnce applies a stop request's suppression and notes it on the
// timeline; other requests are left alone.
func stopAtOnce(t *store.Tx, r *PrivacyRequest) error {
	reason, ok := stopRequested(r)
	if !ok {
		return nil
	}
	matches, changed, err := stopSending(t, r, reason)
	if err != nil {
		return err
	}
	if len(matches) == 0 {
		t.Event(r.ID, "suppressed", "Asks to stop contact: no customer holds these identifiers, so there is nothing to stop.")
		return nil
	}
	names := make(outbox.MailList, len(matches))
	for i, m := range matches {
		names[i] = m.CustomerName
	}
	t.Event(r.ID, "suppressed", fmt.Sprintf("Asks to stop contact: sending stopped at once at %s (%d contact(s) newly suppressed, reason %s), without waiting for verification or the controllers.",
		names.String(), changed, reason))
	return nil
}

// RouteResult is what routing did.
type RouteResult struct {
	Tasks      []RoutedTask
	Matches    []PersonMatch
	Suppressed int // contacts suppressed by routing (most are at intake)
}

// Route forwards an end user's request to every customer that holds the
// person: one task each, due by the controller date. A request to stop
// contacting the person is applied as suppression at once.
func (db *RequestStore) Route(ctx context.Context, actor store.Actor, biz calendar.Business, id, inboxLink string) (*RouteResult, error) {
	res := &RouteResult{}
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		r, err := UpdateRequest(tx, id, "request.route", func(r *PrivacyRequest) (string, map[string]any, error) {
			_, stop := stopRequested(r)
			switch {
			case r.Type == nil:
				return "", nil, errs.Invalid("type", "set the request's type before routing it")
			case r.Status != StatusVerified && !(stop && (r.Status == StatusReceived || r.Status == StatusVerifying)):
				return "", nil, &errs.ConflictError{Field: "status", Message: "verify the requester before routing (opt-out and objection requests need no verification)"}
			case r.Relationship == "account_holder":
				return "", nil, errs.Invalid("relationship", "a customer's own account data is Sendara's as controller: handle it directly, not by routing")
			}
			if err := RequireProof(tx.G, r); err != nil {
				return "", nil, err
			}
			values, err := UsableIdentifiers(tx.G, r)
			if err != nil {
				return "", nil, err
			}
			matches, err := findPerson(tx, values)
			if err != nil {
				return "", nil, err
			}
			res.Matches = matches
			unverified := ""
			if n := len(r.Identifiers()) - len(values); n > 0 {
				unverified = fmt.Sprintf(" %d unverified identifier(s) were not searched.", n)
			}
			if len(matches) == 0 {
				return "No customer holds this person: nothing to route." + unverified, map[string]any{"customers": 0}, nil
			}
			d := calendar.ComputeDeadlines(r.Regime, r.TypeOr(calendar.TypeOther), r.ReceivedAt, biz.Loc, biz.Calendar, biz.Policy)
			names := []string{}
			now := store.Now()
			for _, m := range matches {
				contacts, _ := json.Marshal(m.ContactIDs)
				task := RoutedTask{CustomerID: m.CustomerID, ID: uuid.Must(uuid.NewV7()).String(), RequestID: r.ID,
					ContactIDs: string(contacts), Status: TaskPending, DueOn: d.ControllerDueOn, RoutedAt: now}
				if err := tx.G.Create(&task).Error; err != nil {
					return "", nil, fmt.Errorf("route to %s: %w", m.CustomerSlug, err)
				}
				res.Tasks = append(res.Tasks, task)
				if err := taskEvent(tx, hooks.EventRequestRouted, r, &task); err != nil {
					return "", nil, err
				}
				names = append(names, m.CustomerName)
				// Each controller sees in its own log that a request about
				// its contacts was routed to it.
				tx.Audit(store.Audit{Action: "routed_task.create", ObjectType: "routed_task", ObjectID: task.ID, CustomerID: m.CustomerID,
					Details: map[string]any{"reference": r.Reference, "request": r.ID, "contacts": len(m.ContactIDs), "due_on": task.DueOn}})
				var cust customers.Customer
				if err := tx.G.First(&cust, "id = ?", m.CustomerID).Error; err != nil {
					return "", nil, err
				}
				if err := mailController(tx, r, task, cust, inboxLink); err != nil {
					return "", nil, err
				}
			}
			if reason, ok := stopRequested(r); ok {
				// Applied at intake already; contacts created since are
				// caught here.
				if _, res.Suppressed, err = stopSending(tx, r, reason); err != nil {
					return "", nil, err
				}
			}
			r.Status = StatusWithController
			text := fmt.Sprintf("Routed to %s; they answer by %s.", strings.Join(names, ", "), d.ControllerDueOn)
			if stop {
				text += fmt.Sprintf(" Sending to the person is stopped at each of them (%d contact(s) newly suppressed now).", res.Suppressed)
			}
			text += unverified
			return text, map[string]any{"customers": len(matches), "suppressed": res.Suppressed}, nil
		})
		if err != nil || len(res.Tasks) == 0 {
			return err
		}
		// The requester is told which businesses were informed (DESIGN §3).
		names := make(outbox.MailList, len(res.Matches))
		for i, m := range res.Matches {
			names[i] = m.CustomerName
		}
		subject := "Your privacy request " + r.Reference + ": the businesses we informed"
		body := fmt.Sprintf("Hello %s,\n\nSendara sends messages for businesses, which decide how your data is used. "+
			"We have passed your request %s to %s. We act on their instructions and will answer you by %s.\n\nSendara privacy team\n",
			store.FirstNonEmptyString(r.RequesterName, "there"), r.Reference, names.String(), r.EffectiveDueOn())
		return mailRequesterText(tx, r, subject, body)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func stopReason(typ string) string {
	if typ == calendar.TypeRestriction {
		return consent.ReasonRestriction
	}
	return consent.ReasonObjection
}

// Tasks lists a request's routed tasks.
func (db *RequestStore) Tasks(ctx context.Context, actor store.Actor, requestID string) ([]RoutedTask, error) {
	var ts []RoutedTask
	err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).Where("request_id = ?", requestID).Order("routed_at").Find(&ts).Error
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return ts, nil
}

// Inbox lists the tasks routed to the actor's customer, open ones first
// and soonest due first.
func (db *RequestStore) Inbox(ctx context.Context, actor store.Actor, includeAnswered bool) ([]RoutedTask, error) {
	q := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id"))
	if !includeAnswered {
		q = q.Where("status = ?", TaskPending)
	}
	var ts []RoutedTask
	if err := q.Order("status DESC, due_on, routed_at").Limit(500).Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("list inbox: %w", err)
	}
	return ts, nil
}

// AnswerTask records the controller's answer to a routed task: approve,
// deny (with a reason shown to the requester) or instruct (with what to do).
// When every task of the request is answered, the request moves on to work.
func (db *RequestStore) AnswerTask(ctx context.Context, actor store.Actor, taskID, decision, text string) (*RoutedTask, error) {
	text = strings.TrimSpace(text)
	switch decision {
	case TaskApproved:
	case TaskDenied:
		if text == "" {
			return nil, errs.Invalid("reason", "a denial needs a reason; it is shown to the requester")
		}
	case TaskInstructed:
		if text == "" {
			return nil, errs.Invalid("reason", "say what Sendara should do")
		}
	default:
		return nil, errs.Invalid("decision", "must be approved, denied or instructed")
	}
	if !store.ValidID(taskID) {
		return nil, store.ErrNotFound
	}
	var task RoutedTask
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := tx.G.Scopes(actor.Tenant("customer_id")).First(&task, "id = ?", taskID).Error; err != nil {
			return store.NotFound(err)
		}
		if task.Status != TaskPending {
			return &errs.ConflictError{Field: "decision", Message: "this request was already answered (" + task.Status + ")"}
		}
		now := store.Now()
		task.Status, task.Decision, task.Reason, task.AnsweredAt, task.AnsweredBy = decision, decision, text, &now, actor.Label
		if err := tx.G.Save(&task).Error; err != nil {
			return fmt.Errorf("answer task: %w", err)
		}
		var pending int64
		if err := tx.G.Model(&RoutedTask{}).Where("request_id = ? AND status = ?", task.RequestID, TaskPending).Count(&pending).Error; err != nil {
			return err
		}
		var cust customers.Customer
		if err := tx.G.Select("name").First(&cust, "id = ?", task.CustomerID).Error; err != nil {
			return err
		}
		// The controller acts on Sendara's request as processor; the
		// request's own update runs as the system on its behalf.
		sys := &store.Tx{G: tx.G, Actor: actor.OnSendarasRecord(), Dialect: tx.Dialect, Keys: tx.Keys, StatusLink: tx.StatusLink}
		r, err := UpdateRequest(sys, task.RequestID, "request.controller_answer", func(r *PrivacyRequest) (string, map[string]any, error) {
			if pending == 0 && r.Status == StatusWithController {
				r.Status = StatusInProgress
			}
			msg := fmt.Sprintf("%s %s the request", cust.Name, decision)
			if text != "" {
				msg += ": " + text
			}
			details := map[string]any{"customer": task.CustomerID, "decision": decision}
			if text != "" {
				details["reason"] = text
			}
			return msg + ".", details, nil
		})
		if err != nil {
			return err
		}
		// The answer is about the controller's data: its admins see it in
		// their own log.
		for i := range sys.Audits {
			if sys.Audits[i].CustomerID == "" {
				sys.Audits[i].CustomerID = task.CustomerID
			}
		}
		tx.Audits = append(tx.Audits, sys.Audits...)
		if _, err := notifyRequest(tx, r, NotifyControllerAnswered, fmt.Sprintf("%s: %s %s the request.", r.Reference, cust.Name, decision), ""); err != nil {
			return err
		}
		return taskEvent(tx, hooks.EventRequestAnswered, r, &task)
	})
	if err != nil {
		return nil, err
	}
	return &task, nil
}
