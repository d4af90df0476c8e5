package casework

import (
	outbox "github.com/sendara/console/models/outbox"
	requests "github.com/sendara/console/models/requests"
	"gorm.io/gorm"
)

// The request list's views the dashboard links to, beside the saved ones.
// Each dashboard figure is the count of one of them (CountRequests), so
// the number and the list it opens agree. Requests waiting on their
// requester are the list's status filter (status=waiting_on_requester).
const (
	ViewDueSoon            = "due_soon"            // open and running, due from today (to DueBefore)
	ViewAckDue             = "ack_due"             // an acknowledgement is owed and not sent yet
	ViewUntriaged          = "untriaged"           // open with no type yet: mail waiting for triage
	ViewControllersOverdue = "controllers_overdue" // a controller's answer is past its due date
)

// dashboardView narrows q to one of the dashboard's views; ok is false
// for a view it does not know. The request list's query calls it for the
// views it has no case of its own for.
func dashboardView(q *gorm.DB, f *RequestFilter) (out *gorm.DB, ok bool) {
	open := requests.OpenStatuses
	due := "COALESCE(extended_to, due_on)"
	switch f.View {
	case ViewDueSoon:
		// A request waiting on its requester has its clock stopped.
		return q.Where("status IN ? AND status <> ? AND "+due+" >= ?", open, requests.StatusWaiting, f.Today), true
	case ViewAckDue:
		return q.Where("status IN ? AND ack_due_on IS NOT NULL", open).
			Where("privacy_requests.id NOT IN (SELECT request_id FROM outbox WHERE request_id IS NOT NULL AND kind = ? AND status = ?)",
				outbox.MailAcknowledgement, outbox.MailSent), true
	case ViewUntriaged:
		return q.Where("status IN ? AND (type IS NULL OR type = '')", open), true
	case ViewControllersOverdue:
		// With a customer, the late controller is that customer.
		late := "SELECT request_id FROM routed_tasks WHERE status = ? AND due_on < ?"
		args := []any{requests.TaskPending, f.Today}
		if f.CustomerID != "" {
			late, args = late+" AND customer_id = ?", append(args, f.CustomerID)
		}
		return q.Where("status IN ?", open).Where("privacy_requests.id IN ("+late+")", args...), true
	}
	return q, false
}
