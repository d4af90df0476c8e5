package models

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
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
func (db *DB) FindPerson(ctx context.Context, actor Actor, requestID string, raws []string, region string) ([]PersonMatch, error) {
	if !actor.Staff() {
		return nil, ErrNotFound
	}
	ids, err := normalizeAll("identifiers", raws, region)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, Invalid("identifiers", "give at least one phone number or email address")
	}
	var matches []PersonMatch
	err = db.Tx(ctx, actor, func(tx *Tx) error {
		var err error
		matches, err = tx.findPerson(identifierValues(ids))
		if err != nil {
			return err
		}
		purpose := "lookup"
		if requestID != "" {
			purpose = "request " + requestID
		}
		tx.Audit(Audit{Action: "person.search", ObjectType: "request", ObjectID: requestID,
			Details: map[string]any{"purpose": purpose, "identifiers": len(ids), "customers": len(matches)}})
		return nil
	})
	return matches, err
}

func (t *Tx) findPerson(values []string) ([]PersonMatch, error) {
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
	DueOn      string
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

// stopTypes are requests to stop contacting the person: suppression is
// applied at once, before the controllers answer (DESIGN §3).
var stopTypes = []string{TypeObjection, TypeOptOutSale, TypeRestriction}

// RouteResult is what routing did.
type RouteResult struct {
	Tasks      []RoutedTask
	Matches    []PersonMatch
	Suppressed int // contacts suppressed at once
}

// Route forwards an end user's request to every customer that holds the
// person: one task each, due by the controller date. A request to stop
// contacting the person is applied as suppression at once.
func (db *DB) Route(ctx context.Context, actor Actor, biz Business, id, inboxLink string) (*RouteResult, error) {
	res := &RouteResult{}
	err := db.Tx(ctx, actor, func(tx *Tx) error {
		r, err := tx.updateRequest(id, "request.route", func(r *PrivacyRequest) (string, map[string]any, error) {
			stop := slices.Contains(stopTypes, r.TypeOr(""))
			switch {
			case r.Type == nil:
				return "", nil, Invalid("type", "set the request's type before routing it")
			case r.Status != StatusVerified && !(stop && (r.Status == StatusReceived || r.Status == StatusVerifying)):
				return "", nil, &ConflictError{Field: "status", Message: "verify the requester before routing (opt-out and objection requests need no verification)"}
			case r.Relationship == "account_holder":
				return "", nil, Invalid("relationship", "a customer's own account data is Sendara's as controller: handle it directly, not by routing")
			}
			matches, err := tx.findPerson(r.Identifiers())
			if err != nil {
				return "", nil, err
			}
			res.Matches = matches
			if len(matches) == 0 {
				return "No customer holds this person: nothing to route.", map[string]any{"customers": 0}, nil
			}
			d := ComputeDeadlines(r.Regime, r.TypeOr(TypeOther), r.ReceivedAt, biz.Loc, biz.Calendar, biz.Policy)
			names := []string{}
			now := Now()
			for _, m := range matches {
				contacts, _ := json.Marshal(m.ContactIDs)
				task := RoutedTask{CustomerID: m.CustomerID, ID: uuid.Must(uuid.NewV7()).String(), RequestID: r.ID,
					ContactIDs: string(contacts), Status: TaskPending, DueOn: d.ControllerDueOn.String(), RoutedAt: now}
				if err := tx.G.Create(&task).Error; err != nil {
					return "", nil, fmt.Errorf("route to %s: %w", m.CustomerSlug, err)
				}
				res.Tasks = append(res.Tasks, task)
				if err := tx.taskEvent(EventRequestRouted, r, &task); err != nil {
					return "", nil, err
				}
				names = append(names, m.CustomerName)
				var cust Customer
				if err := tx.G.First(&cust, "id = ?", m.CustomerID).Error; err != nil {
					return "", nil, err
				}
				if err := tx.mailController(r, task, cust, inboxLink); err != nil {
					return "", nil, err
				}
				if stop {
					for _, contactID := range m.ContactIDs {
						cr, err := tx.RecordConsent(m.CustomerID, Identifier{}, ConsentInput{ContactID: contactID, Kind: OptOut,
							Reason: stopReason(r.TypeOr("")), Source: "privacy_request", Evidence: "privacy request " + r.Reference})
						if err != nil {
							return "", nil, err
						}
						if cr.Changed {
							res.Suppressed++
						}
					}
				}
			}
			r.Status = StatusWithController
			text := fmt.Sprintf("Routed to %s; they answer by %s.", strings.Join(names, ", "), d.ControllerDueOn)
			if stop {
				text += fmt.Sprintf(" Sending stopped at once for %d contact(s).", res.Suppressed)
			}
			return text, map[string]any{"customers": len(matches), "suppressed": res.Suppressed}, nil
		})
		if err != nil || len(res.Tasks) == 0 {
			return err
		}
		// The requester is told which businesses were informed (DESIGN §3).
		names := make(MailList, len(res.Matches))
		for i, m := range res.Matches {
			names[i] = m.CustomerName
		}
		subject := "Your privacy request " + r.Reference + ": the businesses we informed"
		body := fmt.Sprintf("Hello %s,\n\nSendara sends messages for businesses, which decide how your data is used. "+
			"We have passed your request %s to %s. We act on their instructions and will answer you by %s.\n\nSendara privacy team\n",
			firstNonEmptyString(r.RequesterName, "there"), r.Reference, names.String(), r.EffectiveDueOn())
		return tx.mailRequesterText(r, subject, body)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func stopReason(typ string) string {
	if typ == TypeRestriction {
		return ReasonRestriction
	}
	return ReasonObjection
}

// Tasks lists a request's routed tasks.
func (db *DB) Tasks(ctx context.Context, actor Actor, requestID string) ([]RoutedTask, error) {
	var ts []RoutedTask
	err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).Where("request_id = ?", requestID).Order("routed_at").Find(&ts).Error
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return ts, nil
}

// Inbox lists the tasks routed to the actor's customer, open ones first
// and soonest due first.
func (db *DB) Inbox(ctx context.Context, actor Actor, includeAnswered bool) ([]RoutedTask, error) {
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
func (db *DB) AnswerTask(ctx context.Context, actor Actor, taskID, decision, text string) (*RoutedTask, error) {
	text = strings.TrimSpace(text)
	switch decision {
	case TaskApproved:
	case TaskDenied:
		if text == "" {
			return nil, Invalid("reason", "a denial needs a reason; it is shown to the requester")
		}
	case TaskInstructed:
		if text == "" {
			return nil, Invalid("reason", "say what Sendara should do")
		}
	default:
		return nil, Invalid("decision", "must be approved, denied or instructed")
	}
	if !validID(taskID) {
		return nil, ErrNotFound
	}
	var task RoutedTask
	err := db.Tx(ctx, actor, func(tx *Tx) error {
		if err := tx.G.Scopes(actor.Tenant("customer_id")).First(&task, "id = ?", taskID).Error; err != nil {
			return notFound(err)
		}
		if task.Status != TaskPending {
			return &ConflictError{Field: "decision", Message: "this request was already answered (" + task.Status + ")"}
		}
		now := Now()
		task.Status, task.Decision, task.Reason, task.AnsweredAt, task.AnsweredBy = decision, decision, text, &now, actor.Label
		if err := tx.G.Save(&task).Error; err != nil {
			return fmt.Errorf("answer task: %w", err)
		}
		var pending int64
		if err := tx.G.Model(&RoutedTask{}).Where("request_id = ? AND status = ?", task.RequestID, TaskPending).Count(&pending).Error; err != nil {
			return err
		}
		var cust Customer
		if err := tx.G.Select("name").First(&cust, "id = ?", task.CustomerID).Error; err != nil {
			return err
		}
		// The controller acts on Sendara's request as processor; the
		// request's own update runs as the system on its behalf.
		sys := &Tx{G: tx.G, Actor: actor.onSendarasRecord(), dialect: tx.dialect}
		r, err := sys.updateRequest(task.RequestID, "request.controller_answer", func(r *PrivacyRequest) (string, map[string]any, error) {
			if pending == 0 && r.Status == StatusWithController {
				r.Status = StatusInProgress
			}
			msg := fmt.Sprintf("%s %s the request", cust.Name, decision)
			if text != "" {
				msg += ": " + text
			}
			return msg + ".", map[string]any{"customer": task.CustomerID, "decision": decision}, nil
		})
		if err != nil {
			return err
		}
		tx.audits = append(tx.audits, sys.audits...)
		return tx.taskEvent(EventRequestAnswered, r, &task)
	})
	if err != nil {
		return nil, err
	}
	return &task, nil
}
