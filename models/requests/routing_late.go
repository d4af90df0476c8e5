package requests

import (
	calendar "github.com/sendara/console/models/calendar"
	customers "github.com/sendara/console/models/customers"

	hooks "github.com/sendara/console/models/hooks"

	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
)

// lateTaskDue is when a controller told about a request after it was
// routed answers: ControllerBusinessDays business days from today, but
// ControllerMarginDays before the person must be answered, never before
// today.
func lateTaskDue(biz calendar.Business, r *PrivacyRequest) calendar.Date {
	today := calendar.DateOf(store.Now(), biz.Loc)
	cal := biz.Calendar
	if cal == nil {
		cal = calendar.DefaultCalendar()
	}
	due := cal.BusinessDaysAfter(today, biz.Policy.ControllerBusinessDays)
	if personDue := r.EffectiveDueOn(); !personDue.IsZero() {
		if margin := personDue.AddDays(-max(biz.Policy.ControllerMarginDays, 0)); margin.Before(due) {
			due = margin
		}
	}
	if due.Before(today) {
		due = today
	}
	return due
}

// routeLate takes an identifier verified after the request was routed to
// the controllers holding it: a customer with a pending task has the new
// contacts added to it (an amendment); any other holds them in a new task.
// Each is mailed "please answer Sendara by D1; the person must be answered
// by D2" and audited (routed_task.amend, routed_task.create). Contacts a
// task of the customer covers already change nothing. It returns the
// sentence for the timeline ("" when nothing was routed).
func routeLate(t *store.Tx, biz calendar.Business, r *PrivacyRequest, value, inboxLink string) (string, error) {
	var tasks []RoutedTask
	if err := t.G.Where("request_id = ?", r.ID).Order("routed_at, id").Find(&tasks).Error; err != nil {
		return "", fmt.Errorf("read the request's tasks: %w", err)
	}
	if len(tasks) == 0 {
		return "", nil // not routed yet: routing will search it
	}
	matches, err := findPerson(t, []string{value})
	if err != nil {
		return "", err
	}
	var told []string
	newTask := false
	for _, m := range matches {
		covered := map[string]bool{}
		var pending *RoutedTask
		for i, task := range tasks {
			if task.CustomerID != m.CustomerID {
				continue
			}
			var ids []string
			if err := json.Unmarshal([]byte(task.ContactIDs), &ids); err != nil {
				return "", fmt.Errorf("read the task's contacts: %w", err)
			}
			for _, id := range ids {
				covered[id] = true
			}
			if task.Status == TaskPending {
				pending = &tasks[i]
			}
		}
		var fresh []string
		for _, id := range m.ContactIDs {
			if !covered[id] {
				fresh = append(fresh, id)
			}
		}
		if len(fresh) == 0 {
			continue
		}
		var task RoutedTask
		how := "amended"
		if pending != nil {
			var ids []string
			_ = json.Unmarshal([]byte(pending.ContactIDs), &ids)
			all, _ := json.Marshal(append(ids, fresh...))
			pending.ContactIDs = string(all)
			if err := t.G.Model(&RoutedTask{}).Where("customer_id = ? AND id = ?", pending.CustomerID, pending.ID).
				Update("contact_ids", pending.ContactIDs).Error; err != nil {
				return "", fmt.Errorf("amend the task of %s: %w", m.CustomerSlug, err)
			}
			task = *pending
			t.Audit(store.Audit{Action: "routed_task.amend", ObjectType: "routed_task", ObjectID: task.ID, CustomerID: m.CustomerID,
				Details: map[string]any{"reference": r.Reference, "request": r.ID, "contacts_added": len(fresh), "due_on": task.DueOn}})
		} else {
			how, newTask = "new task", true
			contacts, _ := json.Marshal(fresh)
			task = RoutedTask{CustomerID: m.CustomerID, ID: uuid.Must(uuid.NewV7()).String(), RequestID: r.ID,
				ContactIDs: string(contacts), Status: TaskPending, DueOn: lateTaskDue(biz, r), RoutedAt: store.Now()}
			if err := t.G.Create(&task).Error; err != nil {
				return "", fmt.Errorf("route to %s: %w", m.CustomerSlug, err)
			}
			if err := taskEvent(t, hooks.EventRequestRouted, r, &task); err != nil {
				return "", err
			}
			t.Audit(store.Audit{Action: "routed_task.create", ObjectType: "routed_task", ObjectID: task.ID, CustomerID: m.CustomerID,
				Details: map[string]any{"reference": r.Reference, "request": r.ID, "contacts": len(fresh), "due_on": task.DueOn, "late": true}})
			tasks = append(tasks, task)
		}
		var cust customers.Customer
		if err := t.G.First(&cust, "id = ?", m.CustomerID).Error; err != nil {
			return "", err
		}
		if err := mailController(t, r, task, cust, inboxLink); err != nil {
			return "", err
		}
		told = append(told, fmt.Sprintf("%s (%s, %d contact(s), answer by %s)", m.CustomerName, how, len(fresh), task.DueOn))
	}
	if len(told) == 0 {
		return "", nil
	}
	// A controller has a question open again: the request waits for it.
	if newTask {
		switch {
		case r.Status == StatusInProgress:
			r.Status = StatusWithController
		case r.Status == StatusWaiting && r.PausedFrom == StatusInProgress:
			r.PausedFrom = StatusWithController
		}
	}
	slices.Sort(told)
	return " Routed to the controllers holding it: " + strings.Join(told, "; ") + ".", nil
}
