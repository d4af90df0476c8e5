package registers

import (
	calendar "github.com/sendara/console/models/calendar"
	casework "github.com/sendara/console/models/casework"

	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// MaxCommunicationBatch is the most items one call of
// RecordCommunications may carry.
const MaxCommunicationBatch = 1000

// CommunicationItem is one message or call of a batch from the sending
// pipeline: the person's identifier as the pipeline wrote it, and the
// message's metadata (never its content).
type CommunicationItem struct {
	To             string
	Channel        string
	Direction      string
	DeliveryStatus string
	OccurredAt     time.Time
	CRMSyncedAt    *time.Time
}

// CommunicationResult answers one item of a batch: the record and its
// contact, or why the item was refused (Err, whose Field names the item:
// items[3].channel). A refused item writes nothing; the others are kept.
type CommunicationResult struct {
	Index     int
	To        string // normalized when the item was recorded, as sent otherwise
	ID        string
	ContactID string
	Err       *errs.ValidationError
}

// RecordCommunications records a batch of messages and calls with the
// people of customerID. Each item is answered on its own: one bad item
// (an unreadable number, an unknown channel) is refused with its index
// and field while the others are recorded, all in one transaction with
// one audit entry counting them. A person the customer does not know yet
// becomes a contact, as an opt-out would make one.
func (db *RegisterStore) RecordCommunications(ctx context.Context, actor store.Actor, customerID string, items []CommunicationItem, region string) ([]CommunicationResult, error) {
	if len(items) == 0 {
		return nil, errs.Invalid("items", "list at least one message or call")
	}
	if len(items) > MaxCommunicationBatch {
		return nil, errs.Invalid("items", "list at most %d messages or calls per call", MaxCommunicationBatch)
	}
	results := make([]CommunicationResult, len(items))
	type ok struct {
		i     int
		ident store.Identifier
		in    CommunicationInput
	}
	var good []ok
	for i, it := range items {
		prefix := "items[" + strconv.Itoa(i) + "]."
		results[i] = CommunicationResult{Index: i, To: it.To}
		ident, err := store.NormalizeIdentifier(prefix+"to", it.To, region)
		if err != nil {
			v, isV := errs.AsValidation(err)
			if !isV {
				return nil, err
			}
			results[i].Err = v
			continue
		}
		in := CommunicationInput{Channel: it.Channel, Direction: it.Direction, DeliveryStatus: it.DeliveryStatus,
			OccurredAt: it.OccurredAt, CRMSyncedAt: it.CRMSyncedAt}
		if err := in.normalize(); err != nil {
			v, _ := errs.AsValidation(err)
			results[i].Err = &errs.ValidationError{Field: prefix + v.Field, Message: v.Message}
			continue
		}
		good = append(good, ok{i: i, ident: ident, in: in})
	}
	if len(good) == 0 {
		return results, nil
	}
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := customers.RequireCustomer(tx, customerID); err != nil {
			return err
		}
		contacts := map[string]string{} // identifier → contact id, within this batch
		created := 0
		for _, g := range good {
			cid, found := contacts[g.ident.Value]
			if !found {
				var ci consent.ContactIdentifier
				err := tx.G.First(&ci, "customer_id = ? AND value = ?", customerID, g.ident.Value).Error
				switch {
				case errors.Is(err, gorm.ErrRecordNotFound):
					c, err := consent.InsertContact(tx, customerID, "", "", []store.Identifier{g.ident})
					if err != nil {
						return err
					}
					cid, created = c.ID, created+1
					tx.Audit(store.Audit{Action: "contact.create", ObjectType: "contact", ObjectID: c.ID, CustomerID: customerID,
						Details: map[string]any{"source": "communication"}})
				case err != nil:
					return fmt.Errorf("find contact: %w", err)
				default:
					cid = ci.ContactID
				}
				contacts[g.ident.Value] = cid
			}
			rec := &consent.Communication{CustomerID: customerID, ID: uuid.Must(uuid.NewV7()).String(), ContactID: cid, Channel: g.in.Channel,
				Direction: g.in.Direction, OccurredAt: g.in.OccurredAt, DeliveryStatus: g.in.DeliveryStatus, CRMSyncedAt: g.in.CRMSyncedAt}
			if err := tx.G.Create(rec).Error; err != nil {
				return fmt.Errorf("record communication: %w", err)
			}
			results[g.i].To, results[g.i].ID, results[g.i].ContactID = g.ident.Value, rec.ID, cid
		}
		tx.Audit(store.Audit{Action: "communication.record", ObjectType: "customer", ObjectID: customerID, CustomerID: customerID,
			Details: map[string]any{"recorded": len(good), "refused": len(items) - len(good), "contacts_created": created}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// SentAfterOptOut is one outbound message or call made to a person while
// an opt-out (or another suppression) of theirs stood on that channel: the
// TCPA exposure. HonourBy is the last day the opt-out could still be
// honoured (10 business days after it, 47 CFR 64.1200(a)(10)); Late
// messages went out after it.
type SentAfterOptOut struct {
	CommunicationID string
	ContactID       string
	ContactName     string
	Identifiers     []string
	Channel         string
	OccurredAt      time.Time
	DeliveryStatus  string
	OptOutAt        time.Time
	Reason          string
	Source          string
	HonourBy        calendar.Date
	Late            bool
}

// SentAfterOptOutReport is the report for one customer over a period.
type SentAfterOptOutReport struct {
	CustomerID string
	From, To   calendar.Date
	Rows       []SentAfterOptOut
	// Truncated says more rows matched than the report holds
	// (MaxSentAfterOptOutRows): narrow the period.
	Truncated bool
	Late      int
}

// MaxSentAfterOptOutRows bounds one report.
const MaxSentAfterOptOutRows = 10000

// SentAfterOptOutColumns is the CSV header of the report.
var SentAfterOptOutColumns = []string{"occurred_at", "channel", "delivery_status", "contact_id", "contact_name", "identifiers",
	"suppressed_since", "reason", "source", "honour_by", "late"}

// Record is the report row as CSV cells.
func (r SentAfterOptOut) Record() []string {
	ids := ""
	for i, v := range r.Identifiers {
		if i > 0 {
			ids += " "
		}
		ids += v
	}
	return []string{r.OccurredAt.UTC().Format(time.RFC3339), r.Channel, r.DeliveryStatus, r.ContactID, r.ContactName, ids,
		r.OptOutAt.UTC().Format(time.RFC3339), r.Reason, r.Source, r.HonourBy.String(), strconv.FormatBool(r.Late)}
}

// SentAfterOptOutFor lists the outbound messages and calls of customerID
// made from one date to another (business time zone, both included) while
// the person was suppressed on that channel: the consent ledger folded at
// the message's time says so, so an opt-in with evidence after the opt-out
// clears the messages that followed it. Newest first. The caller audits
// the view (it shows identifiers).
func (db *RegisterStore) SentAfterOptOutFor(ctx context.Context, actor store.Actor, customerID string, from, to calendar.Date, biz calendar.Business) (*SentAfterOptOutReport, error) {
	if to.Before(from) {
		return nil, errs.Invalid("to", "the end of the period is before its start")
	}
	var cust customers.Customer
	if err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("id")).Select("id").First(&cust, "id = ?", customerID).Error; err != nil {
		return nil, store.NotFound(err)
	}
	start, end := casework.DayRange(from, to, biz.Loc)
	var comms []consent.Communication
	err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("communications.customer_id")).
		Where("communications.customer_id = ? AND communications.direction = ? AND communications.occurred_at >= ? AND communications.occurred_at < ?",
			customerID, DirectionOutbound, start, end).
		Where(`EXISTS (SELECT 1 FROM consent_events e WHERE e.customer_id = communications.customer_id
			AND e.contact_id = communications.contact_id AND e.kind = ? AND e.occurred_at <= communications.occurred_at
			AND (e.channel = communications.channel OR e.channel = ?))`, consent.OptOut, consent.ChannelAll).
		Order("communications.occurred_at DESC, communications.id DESC").Limit(MaxSentAfterOptOutRows + 1).Find(&comms).Error
	if err != nil {
		return nil, fmt.Errorf("find messages after opt-outs: %w", err)
	}
	rep := &SentAfterOptOutReport{CustomerID: customerID, From: from, To: to}
	if len(comms) > MaxSentAfterOptOutRows {
		comms, rep.Truncated = comms[:MaxSentAfterOptOutRows], true
	}
	contactIDs := map[string]bool{}
	for _, c := range comms {
		contactIDs[c.ContactID] = true
	}
	ids := make([]string, 0, len(contactIDs))
	for id := range contactIDs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	events := map[string][]consent.ConsentEvent{}
	contacts := map[string]consent.Contact{}
	idents := map[string][]string{}
	for chunk := range chunked(ids, 500) {
		var evs []consent.ConsentEvent
		if err := db.Gorm.WithContext(ctx).Where("customer_id = ? AND contact_id IN ?", customerID, chunk).Find(&evs).Error; err != nil {
			return nil, fmt.Errorf("read consent events: %w", err)
		}
		for _, e := range evs {
			events[e.ContactID] = append(events[e.ContactID], e)
		}
		var cs []consent.Contact
		if err := db.Gorm.WithContext(ctx).Where("customer_id = ? AND id IN ?", customerID, chunk).Find(&cs).Error; err != nil {
			return nil, fmt.Errorf("read contacts: %w", err)
		}
		for _, c := range cs {
			contacts[c.ID] = c
		}
		var cis []consent.ContactIdentifier
		// Sorted here, not by the query (see contactEventData).
		if err := db.Gorm.WithContext(ctx).Where("customer_id = ? AND contact_id IN ?", customerID, chunk).Find(&cis).Error; err != nil {
			return nil, fmt.Errorf("read identifiers: %w", err)
		}
		for _, ci := range cis {
			idents[ci.ContactID] = append(idents[ci.ContactID], ci.Value)
		}
	}
	for _, vs := range idents {
		slices.Sort(vs)
	}
	for _, c := range comms {
		st, found := consent.FoldConsent(events[c.ContactID], c.Channel, c.OccurredAt)
		if !found || !st.Suppressed {
			continue
		}
		row := SentAfterOptOut{CommunicationID: c.ID, ContactID: c.ContactID, ContactName: contacts[c.ContactID].Name,
			Identifiers: idents[c.ContactID], Channel: c.Channel, OccurredAt: c.OccurredAt, DeliveryStatus: c.DeliveryStatus,
			OptOutAt: st.Since, Reason: st.Reason}
		for _, e := range events[c.ContactID] {
			if e.ID == st.EventID {
				row.Source = e.Source
			}
		}
		row.HonourBy = tcpaHonourBy(st.Since, biz)
		row.Late = calendar.DateOf(c.OccurredAt, biz.Loc).After(row.HonourBy)
		if row.Late {
			rep.Late++
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

// tcpaHonourBy is the last day an opt-out given at `at` may take to be
// honoured: 10 business days (47 CFR 64.1200(a)(10)).
func tcpaHonourBy(at time.Time, biz calendar.Business) calendar.Date {
	cal := biz.Calendar
	if cal == nil {
		cal = calendar.DefaultCalendar()
	}
	return cal.BusinessDaysAfter(calendar.DateOf(at, biz.Loc), 10)
}

// chunked yields s in slices of at most n.
func chunked[T any](s []T, n int) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}
