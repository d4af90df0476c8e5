package fulfilment

import (
	customers "github.com/sendara/console/models/customers"
	errs "github.com/sendara/console/models/errs"

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

// requiredAction is what Sendara must have done at a controller that
// approved or instructed a request of typ for the request to count as
// complied with there; "" when the controller's own answer is the
// compliance (a request of type other).
func requiredAction(typ string) string {
	switch {
	case slices.Contains(ErasureTypes, typ):
		return requests.ActionErased
	case slices.Contains(ExportTypes, typ):
		return requests.ActionExported
	case slices.Contains(RectifyTypes, typ):
		return requests.ActionRectified
	case slices.Contains(requests.StopTypes, typ):
		return requests.ActionSuppressed
	}
	return ""
}

// BusinessOutcome is what happened to a request at one business: the
// controller's answer and what Sendara did on it.
type BusinessOutcome struct {
	CustomerID string
	Name       string
	Answer     string // the routed task's status; "" for the customer a request never routed concerns
	Reason     string // the controller's reason or instruction
	Actions    map[string]requests.RequestAction
	// Complied is true when the controller complied and Sendara did what
	// the request asks there.
	Complied bool
	// Text tells the requester what happened, in a sentence.
	Text string
	// Shortfall says why it is not compliance, for the record; "" when Complied.
	Shortfall string
}

// Outcome is the result completing a request records: in whole only when
// every business informed complied and Sendara acted at each.
type Outcome struct {
	Businesses []BusinessOutcome
	Pending    []string // businesses that have not answered
	Whole      bool
}

// outcomeOf works out the outcome of r from its routed tasks and the
// actions recorded for it. A request never routed is judged at the
// customer it concerns, if any; one that no business holds data for is
// complied with in whole (the answer is that nothing is held).
func outcomeOf(g *gorm.DB, r *requests.PrivacyRequest) (*Outcome, error) {
	var tasks []requests.RoutedTask
	if err := g.Where("request_id = ?", r.ID).Order("routed_at, id").Find(&tasks).Error; err != nil {
		return nil, fmt.Errorf("read routed tasks: %w", err)
	}
	if len(tasks) == 0 && r.CustomerID != nil {
		tasks = []requests.RoutedTask{{CustomerID: *r.CustomerID}}
	}
	var actions []requests.RequestAction
	if err := g.Where("request_id = ?", r.ID).Find(&actions).Error; err != nil {
		return nil, fmt.Errorf("read what was done: %w", err)
	}
	need := requiredAction(r.TypeOr(""))
	out := &Outcome{Whole: true}
	for _, t := range tasks {
		var c customers.Customer
		if err := g.Select("id", "name").First(&c, "id = ?", t.CustomerID).Error; err != nil {
			return nil, fmt.Errorf("read customer: %w", err)
		}
		b := BusinessOutcome{CustomerID: c.ID, Name: c.Name, Answer: t.Status, Reason: t.Reason, Actions: map[string]requests.RequestAction{}}
		for _, a := range actions {
			if a.CustomerID == c.ID {
				b.Actions[a.Kind] = a
			}
		}
		_, acted := b.Actions[need]
		_, held := b.Actions[requests.ActionHeld]
		switch {
		case t.Status == requests.TaskPending:
			out.Pending = append(out.Pending, c.Name)
			b.Text = c.Name + " has not answered; nothing was done with the data it holds."
			b.Shortfall = c.Name + " did not answer"
		case t.Status == requests.TaskDenied:
			b.Text = c.Name + " refused your request: " + t.Reason
			b.Shortfall = c.Name + " refused: " + t.Reason
		case need == "":
			b.Complied, b.Text = true, c.Name+" agreed to your request."
		case !acted:
			b.Text = c.Name + " agreed, but Sendara has not carried it out."
			b.Shortfall = c.Name + " agreed but Sendara did not act"
		case need == requests.ActionErased && held:
			b.Text = c.Name + ": your data was erased, except what a legal obligation requires us to keep (" + b.Actions[requests.ActionHeld].Detail + ")."
			b.Shortfall = c.Name + ": kept under legal hold (" + b.Actions[requests.ActionHeld].Detail + ")"
		default:
			b.Complied, b.Text = true, c.Name+": "+actionInWords(need)
		}
		out.Whole = out.Whole && b.Complied
		out.Businesses = append(out.Businesses, b)
	}
	return out, nil
}

func actionInWords(kind string) string {
	switch kind {
	case requests.ActionErased:
		return "your data was erased."
	case requests.ActionExported:
		return "your data is in the copy linked below."
	case requests.ActionRectified:
		return "your data was corrected."
	case requests.ActionSuppressed:
		return "messages to you were stopped."
	}
	return "done."
}

// Texts are the sentences the requester's mail lists.
func (o *Outcome) Texts() []string {
	out := make([]string, len(o.Businesses))
	for i, b := range o.Businesses {
		out[i] = b.Text
	}
	return out
}

// record is the outcome stored with the request: "complied" (or the
// staff's note) in whole, "Partial: …" with what fell short otherwise (the
// §7101 log shows it as the basis of the partial denial).
func (o *Outcome) record(note string) (string, bool) {
	if o.Whole && !requests.PartialOutcome(note) {
		return store.FirstNonEmptyString(note, requests.OutcomeComplied), true
	}
	var short []string
	for _, b := range o.Businesses {
		if b.Shortfall != "" {
			short = append(short, b.Shortfall)
		}
	}
	if len(short) == 0 {
		return note, false // staff recorded a partial answer themselves
	}
	text := "Partial: " + strings.Join(short, "; ")
	if note != "" {
		text += ". " + note
	}
	return text, false
}

// Outcome previews what completing the request now would record, for the
// case page.
func (db *FulfilmentStore) Outcome(ctx context.Context, actor store.Actor, r *requests.PrivacyRequest) (*Outcome, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	return outcomeOf(db.Gorm.WithContext(ctx), r)
}

// StatusChange is a move along the lifecycle with what it needs.
type StatusChange struct {
	To   string
	Note string // the outcome note, or the reason of a denial
	// Override is why the request is completed although controllers have
	// not answered; without it such a completion is refused.
	Override string
	// LinkFor turns a bundle link's token into the URL the completion mail
	// carries (nil: no link).
	LinkFor func(token string) string
}

// requesterLink issues a fresh link to the newest requester bundle of r
// that still holds data, for the completion mail: the previous link stops
// working (links are single use, and this is a re-issue). ok is false
// when there is no such bundle.
func requesterLink(t *store.Tx, r *requests.PrivacyRequest, linkFor func(string) string) (link string, expires time.Time, ok bool, err error) {
	if linkFor == nil || !slices.Contains(ExportTypes, r.TypeOr("")) {
		return "", time.Time{}, false, nil
	}
	var e RequestExport
	err = t.G.Select("id").Where("request_id = ? AND customer_id IS NULL AND data IS NOT NULL", r.ID).
		Order("created_at DESC").Limit(1).Find(&e).Error
	if err != nil || e.ID == "" {
		return "", time.Time{}, false, err
	}
	token, expires, err := reissueExport(t, r, e.ID, "completion mail")
	if err != nil {
		return "", time.Time{}, false, err
	}
	return linkFor(token), expires, true, nil
}

// mailOutcome queues the completion or denial mail of r, listing what
// each business decided and what Sendara did, with the bundle link.
func mailOutcome(t *store.Tx, r *requests.PrivacyRequest, kind string, linkFor func(string) string) error {
	o, err := outcomeOf(t.G, r)
	if err != nil {
		return err
	}
	d := r.MailData()
	d.Outcomes = o.Texts()
	if kind == outbox.MailCompletion {
		link, expires, ok, err := requesterLink(t, r, linkFor)
		if err != nil {
			return err
		}
		if ok {
			d.Link, d.LinkExpires = link, expires.Format("2006-01-02 15:04 MST")
		}
	}
	return requests.MailRequester(t, r, kind, d)
}

// ResendCompletion sends the completion mail of a completed request again,
// with a new bundle link (the old one stops working); audited as
// request.completion_resend.
func (db *FulfilmentStore) ResendCompletion(ctx context.Context, actor store.Actor, id string, linkFor func(string) string) error {
	if !actor.Staff() {
		return store.ErrNotFound
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		r, err := requests.UpdateRequest(tx, id, "request.completion_resend", func(r *requests.PrivacyRequest) (string, map[string]any, error) {
			if r.Status != requests.StatusCompleted {
				return "", nil, &errs.ConflictError{Field: "status", Message: "only a completed request's completion mail can be sent again"}
			}
			return "Completion mail sent again.", nil, nil
		})
		if err != nil {
			return err
		}
		return mailOutcome(tx, r, outbox.MailCompletion, linkFor)
	})
}
