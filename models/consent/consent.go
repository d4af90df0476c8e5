package consent

import (
	customers "github.com/sendara/console/models/customers"
	errs "github.com/sendara/console/models/errs"

	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Channels a consent applies to. "all" covers every channel.
const (
	ChannelIMessage = "imessage"
	ChannelFaceTime = "facetime"
	ChannelAll      = "all"
)

// Channels lists the real channels, the ones a state is kept for.
var Channels = []string{ChannelIMessage, ChannelFaceTime}

// ParseChannel reads a channel as people and CRMs write it (any case,
// spaces around) and returns it normalized: imessage, facetime, or all for
// all or empty. It is the one place a channel is checked: the API, the
// pages, imports and the ledger all go through it.
func ParseChannel(ch string) (string, error) {
	ch = strings.ToLower(strings.TrimSpace(ch))
	if ch == "" {
		return ChannelAll, nil
	}
	if ch != ChannelAll && !slices.Contains(Channels, ch) {
		return "", errs.Invalid("channel", "must be imessage, facetime or all")
	}
	return ch, nil
}

// Consent kinds and the sources they come from.
const (
	OptIn  = "opt_in"
	OptOut = "opt_out"
)

// Sources of consent events.
var ConsentSources = []string{"manual", "csv_import", "api", "inbound_reply", "privacy_request", "crm"}

// CallerSources are the sources an API caller may name: the others are the
// console's own (its imports, replies and privacy requests), and an event
// claiming one of them without having come that way would mislead whoever
// weighs the evidence.
var CallerSources = []string{"api", "crm", "manual"}

// EvidenceKinds are the kinds of proof an opt-in can rest on, with the
// words pages show for them.
var EvidenceKinds = []string{"keyword_reply", "web_form", "paper_form", "call_recording", "crm_field"}

// EvidenceKindLabel is the kind in words ("" for none given).
func EvidenceKindLabel(kind string) string {
	return map[string]string{"keyword_reply": "keyword reply", "web_form": "web form", "paper_form": "paper form",
		"call_recording": "call recording", "crm_field": "CRM field"}[kind]
}

// Suppression reasons, as the suppression check reports them.
const (
	ReasonOptOut      = "opt_out"
	ReasonErasure     = "erasure"
	ReasonRestriction = "restriction"
	ReasonObjection   = "objection"
)

// ConsentEvent is one entry of the append-only consent ledger.
type ConsentEvent struct {
	CustomerID     string `gorm:"primaryKey"`
	ID             string `gorm:"primaryKey"`
	ContactID      string
	Identifier     string
	Channel        string
	Kind           string
	Reason         string
	Source         string
	Evidence       string
	EvidenceKind   string // one of EvidenceKinds, or "" (free text only)
	EvidenceRef    string // where the proof is: form id, recording file, CRM field
	CapturedBy     string // who captured it (an agent, a form, a CRM user)
	ActorType      string
	ActorID        string
	ActorLabel     string
	OccurredAt     time.Time
	RecordedAt     time.Time
	IdempotencyKey *string
}

// ConsentState is the current state of one contact on one channel: the
// fold of its ledger, kept for the suppression check.
type ConsentState struct {
	CustomerID string `gorm:"primaryKey"`
	ContactID  string `gorm:"primaryKey"`
	Channel    string `gorm:"primaryKey"`
	Suppressed bool
	Reason     string
	Since      time.Time
	EventID    string
}

// ConsentInput is one opt-in or opt-out to record.
type ConsentInput struct {
	To        string // a raw identifier; the contact is found or created
	ContactID string // or the contact itself
	Channel   string // imessage, facetime or all (default)
	Kind      string // opt_in or opt_out
	Reason    string // for opt-outs: opt_out (default), restriction, objection
	Source    string
	Evidence  string
	// Structured evidence, optional beside Evidence: its kind (one of
	// EvidenceKinds), a reference to the proof and who captured it.
	EvidenceKind string
	EvidenceRef  string
	CapturedBy   string
	OccurredAt   time.Time // zero: now
	// IdempotencyKey makes a retried write (an import re-run) a no-op.
	IdempotencyKey string
}

// ConsentResult says what recording did.
type ConsentResult struct {
	Contact *Contact
	Event   *ConsentEvent // nil when nothing changed
	// Changed is false when the contact was already in the asked state (or
	// the idempotency key was seen): the API answers 200 instead of 201.
	Changed        bool
	ContactCreated bool
	// Pending is set when the opt-in would reverse the person's own
	// opt-out and waits for a customer admin (consent_reversal.go):
	// nothing changed in the ledger.
	Pending *ConsentReversal
}

// FutureSkew tolerates clocks a little ahead of ours.
const FutureSkew = 5 * time.Minute

func (in *ConsentInput) normalize() error {
	ch, err := ParseChannel(in.Channel)
	if err != nil {
		return err
	}
	in.Channel = ch
	if in.Source == "" {
		in.Source = "manual"
	}
	if !slices.Contains(ConsentSources, in.Source) {
		return errs.Invalid("source", "must be one of %s", strings.Join(ConsentSources, ", "))
	}
	in.Evidence = strings.TrimSpace(in.Evidence)
	if len(in.Evidence) > 4000 {
		return errs.Invalid("evidence", "must be at most 4000 characters")
	}
	in.EvidenceKind = strings.TrimSpace(in.EvidenceKind)
	if in.EvidenceKind != "" && !slices.Contains(EvidenceKinds, in.EvidenceKind) {
		return errs.Invalid("evidence_kind", "must be one of %s", strings.Join(EvidenceKinds, ", "))
	}
	in.EvidenceRef, in.CapturedBy = strings.TrimSpace(in.EvidenceRef), strings.TrimSpace(in.CapturedBy)
	if len(in.EvidenceRef) > 500 {
		return errs.Invalid("evidence_ref", "must be at most 500 characters")
	}
	if len(in.CapturedBy) > 200 {
		return errs.Invalid("captured_by", "must be at most 200 characters")
	}
	switch in.Kind {
	case OptOut:
		if in.Reason == "" {
			in.Reason = ReasonOptOut
		}
		if !slices.Contains([]string{ReasonOptOut, ReasonRestriction, ReasonObjection}, in.Reason) {
			return errs.Invalid("reason", "must be opt_out, restriction or objection")
		}
	case OptIn:
		in.Reason = ""
		if in.Evidence == "" {
			return errs.Invalid("evidence", "is required for an opt-in: say how and when the person agreed (form, message, call note)")
		}
	default:
		return errs.Invalid("kind", "must be opt_in or opt_out")
	}
	now := store.Now()
	if in.OccurredAt.IsZero() {
		in.OccurredAt = now
	}
	in.OccurredAt = in.OccurredAt.UTC().Truncate(time.Microsecond)
	if in.OccurredAt.After(now.Add(FutureSkew)) {
		return errs.Invalid("occurred_at", "is in the future")
	}
	return nil
}

// RecordConsent appends an opt-in or opt-out for customerID and updates the
// suppression lookup in the same transaction. Suppression applies to the
// person: every identifier of the contact.
func (db *ConsentStore) RecordConsent(ctx context.Context, actor store.Actor, customerID string, in ConsentInput, region string) (*ConsentResult, error) {
	if err := in.normalize(); err != nil {
		return nil, err
	}
	var ident store.Identifier
	if in.ContactID == "" {
		var err error
		if ident, err = store.NormalizeIdentifier("to", in.To, region); err != nil {
			return nil, err
		}
	}
	var res *ConsentResult
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := customers.RequireCustomer(tx, customerID); err != nil {
			return err
		}
		var err error
		res, err = RecordConsent(tx, customerID, ident, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// RecordConsent records within an open transaction (inbound replies,
// privacy requests, review decisions); ident, already normalized, is used
// when in.ContactID is empty.
func RecordConsent(t *store.Tx, customerID string, ident store.Identifier, in ConsentInput) (*ConsentResult, error) {
	if err := in.normalize(); err != nil {
		return nil, err
	}
	res := &ConsentResult{}
	if in.IdempotencyKey != "" {
		var n int64
		if err := t.G.Model(&ConsentEvent{}).Where("customer_id = ? AND idempotency_key = ?", customerID, in.IdempotencyKey).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("check idempotency: %w", err)
		}
		if n > 0 {
			return res, nil
		}
	}
	var c *Contact
	var err error
	if in.ContactID != "" {
		if c, err = contactByID(t.G, t.Actor, in.ContactID); err != nil {
			return nil, err
		}
		if c.CustomerID != customerID {
			return nil, store.ErrNotFound
		}
	} else {
		var ci ContactIdentifier
		err = t.G.First(&ci, "customer_id = ? AND value = ?", customerID, ident.Value).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			if c, err = InsertContact(t, customerID, "", "", []store.Identifier{ident}); err != nil {
				return nil, err
			}
			res.ContactCreated = true
			t.Audit(store.Audit{Action: "contact.create", ObjectType: "contact", ObjectID: c.ID, CustomerID: customerID,
				Details: map[string]any{"source": in.Source}})
		case err != nil:
			return nil, fmt.Errorf("find contact: %w", err)
		default:
			if c, err = contactByID(t.G, store.SystemActor(""), ci.ContactID); err != nil {
				return nil, err
			}
		}
	}
	res.Contact = c

	states, err := States(t, customerID, c.ID)
	if err != nil {
		return nil, err
	}
	appends, err := DecideConsent(states, ConsentChange{Kind: in.Kind, Reason: in.Reason, Channel: in.Channel, OccurredAt: in.OccurredAt})
	if err != nil {
		return nil, err
	}
	if !appends {
		return res, nil
	}
	// Reversing the person's own opt-out waits for a customer admin; the
	// person's own START reply needs nobody's approval.
	if in.Kind == OptIn && in.Source != "inbound_reply" {
		affected := channelsOf(in.Channel)
		own, err := ownOptOut(t, customerID, states, affected)
		if err != nil {
			return nil, err
		}
		if own != nil {
			if res.Pending, err = reverseOwnOptOut(t, customerID, c, ident, in, own); err != nil || res.Pending != nil {
				return res, err
			}
		}
	}

	ev := &ConsentEvent{CustomerID: customerID, ID: uuid.Must(uuid.NewV7()).String(), ContactID: c.ID, Identifier: ident.Value,
		Channel: in.Channel, Kind: in.Kind, Reason: in.Reason, Source: in.Source, Evidence: in.Evidence,
		EvidenceKind: in.EvidenceKind, EvidenceRef: in.EvidenceRef, CapturedBy: in.CapturedBy,
		ActorType: t.Actor.Type, ActorID: t.Actor.ID, ActorLabel: t.Actor.Label, OccurredAt: in.OccurredAt, RecordedAt: store.Now()}
	if in.IdempotencyKey != "" {
		ev.IdempotencyKey = &in.IdempotencyKey
	}
	if err := t.G.Create(ev).Error; err != nil {
		return nil, fmt.Errorf("append consent event: %w", err)
	}
	if err := RefreshStates(t, c); err != nil {
		return nil, err
	}
	if err := consentEvent(t, ev); err != nil {
		return nil, err
	}
	res.Event, res.Changed = ev, true
	t.Audit(store.Audit{Action: "consent." + in.Kind, ObjectType: "contact", ObjectID: c.ID, CustomerID: customerID,
		Details: map[string]any{"channel": in.Channel, "source": in.Source, "reason": in.Reason, "event": ev.ID}})
	return res, nil
}

func channelsOf(channel string) []string {
	if channel == ChannelAll {
		return Channels
	}
	return []string{channel}
}

func States(t *store.Tx, customerID, contactID string) (map[string]ConsentState, error) {
	var rows []ConsentState
	if err := t.G.Where("customer_id = ? AND contact_id = ?", customerID, contactID).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read consent state: %w", err)
	}
	m := make(map[string]ConsentState, len(rows))
	for _, r := range rows {
		m[r.Channel] = r
	}
	return m, nil
}

// RefreshStates recomputes the contact's state per channel from its whole
// ledger and writes the lookup rows and the contact's suppressed flag. The
// state is always the fold of the ledger by occurred_at, so the lookup and
// the point-in-time answer cannot disagree.
func RefreshStates(t *store.Tx, c *Contact) error {
	var events []ConsentEvent
	if err := t.G.Where("customer_id = ? AND contact_id = ?", c.CustomerID, c.ID).Find(&events).Error; err != nil {
		return fmt.Errorf("read consent ledger: %w", err)
	}
	anySuppressed, restricted := false, false
	for _, ch := range Channels {
		s, ok := FoldConsent(events, ch, time.Time{})
		if !ok {
			continue
		}
		s.CustomerID, s.ContactID = c.CustomerID, c.ID
		if err := t.G.Clauses(clause.OnConflict{UpdateAll: true}).Create(&s).Error; err != nil {
			return fmt.Errorf("write consent state: %w", err)
		}
		anySuppressed = anySuppressed || s.Suppressed
		restricted = restricted || (s.Suppressed && s.Reason == ReasonRestriction)
	}
	// The caller's copy says what was written: an answer is built from it,
	// never from a read after the commit.
	c.Suppressed, c.Restricted = anySuppressed, restricted
	return t.G.Model(&Contact{}).Where("customer_id = ? AND id = ?", c.CustomerID, c.ID).
		Updates(map[string]any{"suppressed": anySuppressed, "restricted": restricted, "updated_at": store.Now()}).Error
}

// FoldConsent replays events that apply to channel, in the order they
// happened, up to and including at (zero: all). It reports false when no
// event applies.
func FoldConsent(events []ConsentEvent, channel string, at time.Time) (ConsentState, bool) {
	sorted := slices.Clone(events)
	sort.SliceStable(sorted, func(i, j int) bool {
		if !sorted[i].OccurredAt.Equal(sorted[j].OccurredAt) {
			return sorted[i].OccurredAt.Before(sorted[j].OccurredAt)
		}
		return sorted[i].RecordedAt.Before(sorted[j].RecordedAt)
	})
	var s ConsentState
	found := false
	for _, e := range sorted {
		if e.Channel != channel && e.Channel != ChannelAll {
			continue
		}
		if !at.IsZero() && e.OccurredAt.After(at) {
			break
		}
		found = true
		s.Channel, s.EventID = channel, e.ID
		if e.Kind == OptOut {
			if !s.Suppressed {
				s.Since = e.OccurredAt
			}
			s.Suppressed, s.Reason = true, e.Reason
		} else {
			s.Suppressed, s.Reason, s.Since = false, "", e.OccurredAt
		}
	}
	return s, found
}

// Suppression is the answer to "may we message this identifier?".
type Suppression struct {
	To         string
	Suppressed bool
	Reason     string     // empty when not suppressed
	Since      *time.Time // when the suppression began
	// OptedIn is true when an opt-in (always with evidence) stands on every
	// asked channel and nothing suppresses the person there. False with
	// Suppressed false is "no record": no opt-out, but no consent either.
	OptedIn bool
}

// channelStanding is one channel's part of a check's answer: suppressed
// (since when, why), opted in, or neither (no record).
type channelStanding struct {
	suppressed bool
	optedIn    bool
	reason     string
	since      time.Time
}

// standingOf reads a consent_states row: a state is the fold of a ledger,
// so a row that does not suppress is an opt-in that stands.
func standingOf(suppressed bool, reason string, since time.Time) channelStanding {
	if suppressed {
		return channelStanding{suppressed: true, reason: reason, since: since.UTC()}
	}
	return channelStanding{optedIn: true}
}

// answerFor is the check's answer for to on channel ("" or all: every
// channel, suppressed if any is, opted in only if all are), from the
// standings per channel in Channels' order. The database path and the
// in-memory index both answer through it, so they cannot word it apart.
func answerFor(to, channel string, standings [2]channelStanding) Suppression {
	out := Suppression{To: to, OptedIn: true}
	asked := false
	for i, ch := range Channels {
		if channel != "" && channel != ChannelAll && channel != ch {
			continue
		}
		asked = true
		st := standings[i]
		out.OptedIn = out.OptedIn && st.optedIn
		if st.suppressed && (!out.Suppressed || st.since.Before(*out.Since)) {
			since := st.since
			out.Suppressed, out.Reason, out.Since = true, st.reason, &since
		}
	}
	// A channel that is none of ours (callers parse it first) is never
	// answered as consent.
	out.OptedIn = out.OptedIn && asked && !out.Suppressed
	return out
}

// CheckSuppression answers for one normalized identifier of customerID on
// channel ("" or all: every channel; suppressed if any is). It is the hot
// path of the sending pipeline, with no audit entry (the caller counts
// checks per key instead): answered from the in-memory index once it has
// loaded (suppression_index.go), else by one indexed query. Only when no
// contact has the identifier does a second indexed lookup ask whether it
// was erased: an erased person stays suppressed (reason erasure) on every
// channel.
//
// While the database cannot be reached, a loaded index answers for up to
// StaleLimit after its last good replay; then ErrSuppressionsUnavailable.
func (db *ConsentStore) CheckSuppression(ctx context.Context, customerID string, id store.Identifier, channel string) (Suppression, error) {
	ix := db.index()
	if ix != nil {
		if s, ok := ix.check(customerID, id.Value, channel); ok {
			return s, nil
		}
	}
	s, err := db.checkSuppression(ctx, customerID, id, channel)
	if err != nil && ix != nil && ctx.Err() == nil {
		return ix.stale(customerID, id.Value, channel)
	}
	return s, err
}

// checkSuppression is CheckSuppression in the database: for an index that
// is not loaded, or cannot answer.
func (db *ConsentStore) checkSuppression(ctx context.Context, customerID string, id store.Identifier, channel string) (Suppression, error) {
	out, err := db.checkSuppressions(ctx, customerID, []store.Identifier{id}, channel)
	if err != nil {
		return Suppression{To: id.Value}, err
	}
	return out[0], nil
}

// CheckSuppressions answers for many identifiers of one customer in one
// query, in the order given. Identifiers no contact has are then looked up
// together, in one more indexed query, on the list of erased people.
func (db *ConsentStore) CheckSuppressions(ctx context.Context, customerID string, ids []store.Identifier, channel string) ([]Suppression, error) {
	if ix := db.index(); ix != nil {
		out := make([]Suppression, len(ids))
		answered := true
		for i, id := range ids {
			if out[i], answered = ix.check(customerID, id.Value, channel); !answered {
				break
			}
		}
		if answered {
			return out, nil
		}
	}
	out, err := db.checkSuppressions(ctx, customerID, ids, channel)
	if err != nil && ctx.Err() == nil {
		if ix := db.index(); ix != nil {
			out = make([]Suppression, len(ids))
			for i, id := range ids {
				if out[i], err = ix.stale(customerID, id.Value, channel); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, err
}

func (db *ConsentStore) checkSuppressions(ctx context.Context, customerID string, ids []store.Identifier, channel string) ([]Suppression, error) {
	values := make([]string, len(ids))
	for i, id := range ids {
		values[i] = id.Value
	}
	// Every known identifier gets at least one row (with no state when its
	// contact has none); unknown ones get none.
	var rows []struct {
		Value      string
		Channel    *string
		Suppressed *bool
		Reason     *string
		Since      *time.Time
	}
	q := db.Gorm.WithContext(ctx)
	const sel = `SELECT i.value, s.channel, s.suppressed, s.reason, s.since FROM contact_identifiers i
		LEFT JOIN consent_states s ON s.customer_id = i.customer_id AND s.contact_id = i.contact_id
		WHERE i.customer_id = ? AND `
	if len(values) == 1 {
		q = q.Raw(sel+`i.value = ?`, customerID, values[0])
	} else {
		q = q.Raw(sel+`i.value IN ?`, customerID, store.Dedupe(slices.Clone(values)))
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("check suppressions: %w", err)
	}
	standings := map[string]*[2]channelStanding{}
	for _, r := range rows {
		st := standings[r.Value]
		if st == nil {
			st = &[2]channelStanding{}
			standings[r.Value] = st
		}
		if r.Channel == nil {
			continue
		}
		if i := slices.Index(Channels, *r.Channel); i >= 0 {
			var since time.Time
			if r.Since != nil {
				since = *r.Since
			}
			st[i] = standingOf(*r.Suppressed, *r.Reason, since)
		}
	}
	var unknown []string
	for _, v := range values {
		if standings[v] == nil {
			unknown = append(unknown, v)
		}
	}
	erased, err := db.erasedSuppressions(ctx, customerID, store.Dedupe(unknown))
	if err != nil {
		return nil, err
	}
	out := make([]Suppression, len(ids))
	for i, v := range values {
		if s, ok := erased[v]; ok {
			out[i] = s
		} else if st := standings[v]; st != nil {
			out[i] = answerFor(v, channel, *st)
		} else {
			out[i] = Suppression{To: v}
		}
	}
	return out, nil
}

// ConsentAt answers "could we message this contact on channel at time at,
// and on what evidence?": the state after every event that happened at or
// before at, and the last such event.
type ConsentAt struct {
	CustomerID string
	ContactID  string
	At         time.Time
	Channel    string
	Suppressed bool
	// OptedIn: an opt-in stood then on every asked channel and nothing
	// suppressed; false with Suppressed false is "no record".
	OptedIn bool
	Event   *ConsentEvent
}

// ConsentAtTime computes ConsentAt for a contact the actor may see.
func (db *ConsentStore) ConsentAtTime(ctx context.Context, actor store.Actor, contactID string, at time.Time, channel string) (*ConsentAt, error) {
	channel, err := ParseChannel(channel)
	if err != nil {
		return nil, err
	}
	c, err := db.Contact(ctx, actor, contactID)
	if err != nil {
		return nil, err
	}
	events, err := db.ConsentHistory(ctx, actor, c)
	if err != nil {
		return nil, err
	}
	out := &ConsentAt{CustomerID: c.CustomerID, ContactID: c.ID, At: at.UTC(), Channel: channel}
	var standings [2]channelStanding
	for i, ch := range Channels {
		if s, ok := FoldConsent(events, ch, at); ok {
			standings[i] = standingOf(s.Suppressed, s.Reason, s.Since)
		}
	}
	ans := answerFor("", channel, standings)
	out.Suppressed, out.OptedIn = ans.Suppressed, ans.OptedIn
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if e.OccurredAt.After(at) || (channel != ChannelAll && e.Channel != channel && e.Channel != ChannelAll) {
			continue
		}
		out.Event = &e
		break
	}
	return out, nil
}

// ConsentHistory lists a contact's ledger in the order events happened.
func (db *ConsentStore) ConsentHistory(ctx context.Context, actor store.Actor, c *Contact) ([]ConsentEvent, error) {
	var events []ConsentEvent
	err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).
		Where("customer_id = ? AND contact_id = ?", c.CustomerID, c.ID).Order("occurred_at, recorded_at").Find(&events).Error
	if err != nil {
		return nil, fmt.Errorf("read consent history: %w", err)
	}
	return events, nil
}

// ContactStates returns the contact's current state per channel.
func (db *ConsentStore) ContactStates(ctx context.Context, c *Contact) (map[string]ConsentState, error) {
	var rows []ConsentState
	if err := db.Gorm.WithContext(ctx).Where("customer_id = ? AND contact_id = ?", c.CustomerID, c.ID).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read consent state: %w", err)
	}
	m := make(map[string]ConsentState, len(rows))
	for _, r := range rows {
		m[r.Channel] = r
	}
	return m, nil
}
