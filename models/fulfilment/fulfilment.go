package fulfilment

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	imports "github.com/sendara/console/models/imports"

	requests "github.com/sendara/console/models/requests"

	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// Request types each fulfilment step serves (DESIGN §5 types).
var (
	// ErasureTypes erase the subject: GDPR erasure, CCPA delete and a
	// parent's request about a child's data (COPPA).
	ErasureTypes = []string{calendar.TypeErasure, calendar.TypeDelete, calendar.TypeChildData}
	// ExportTypes are answered with a copy of the data: access,
	// portability and the CCPA right to know, and erasure requests whose
	// controller asks for a copy before the data goes.
	ExportTypes = []string{calendar.TypeAccess, calendar.TypePortability, calendar.TypeKnow, calendar.TypeErasure, calendar.TypeDelete, calendar.TypeChildData}
	// RectifyTypes correct the subject's data.
	RectifyTypes = []string{calendar.TypeRectification, calendar.TypeCorrect}
)

// ExportValidity is how long an access bundle's download link works.
const ExportValidity = 7 * 24 * time.Hour

// subProcessors are the recipients an access bundle names: who else
// handles a contact's data for the business.
var subProcessors = []struct{ Name, Role string }{
	{"Apple Inc. (United States)", "delivers the iMessages and FaceTime calls Sendara sends"},
	{"the business's own CRM or workflow tool", "starts the messages and receives their delivery results"},
}

// subjectScope is one controller fulfilment acts for, with the subject's
// contacts there.
type subjectScope struct {
	Customer   customers.Customer
	ContactIDs []string
}

// subjectScopes finds the controllers fulfilment of r acts for. As a
// processor Sendara acts on instructions: a routed request acts for each
// customer whose task was approved or came with instructions (a denial or
// an open task is no instruction); a request never routed acts for the
// customer it concerns, if any. Other customers are never touched, even
// when they hold the same person. The subject's contacts at each are those
// with one of the request's identifiers and those its task named when it
// was routed (a contact rectified since still counts).
func subjectScopes(g *gorm.DB, r *requests.PrivacyRequest) ([]subjectScope, error) {
	var tasks []requests.RoutedTask
	if err := g.Where("request_id = ?", r.ID).Order("routed_at, id").Find(&tasks).Error; err != nil {
		return nil, fmt.Errorf("read routed tasks: %w", err)
	}
	type want struct {
		customerID string
		contactIDs []string
	}
	var wants []want
	if len(tasks) > 0 {
		for _, t := range tasks {
			if t.Status != requests.TaskApproved && t.Status != requests.TaskInstructed {
				continue
			}
			var ids []string
			_ = json.Unmarshal([]byte(t.ContactIDs), &ids)
			wants = append(wants, want{t.CustomerID, ids})
		}
	} else if r.CustomerID != nil {
		wants = append(wants, want{customerID: *r.CustomerID})
	}
	// Only verified identifiers lead to data: confirming one address must
	// not unlock what another finds.
	values, err := requests.UsableIdentifiers(g, r)
	if err != nil {
		return nil, err
	}
	out := make([]subjectScope, 0, len(wants))
	for _, w := range wants {
		var sc subjectScope
		if err := g.First(&sc.Customer, "id = ?", w.customerID).Error; err != nil {
			return nil, fmt.Errorf("read customer: %w", err)
		}
		var matched []string
		if len(values) > 0 {
			if err := g.Model(&consent.ContactIdentifier{}).Where("customer_id = ? AND value IN ?", w.customerID, values).
				Distinct().Pluck("contact_id", &matched).Error; err != nil {
				return nil, fmt.Errorf("find the subject's contacts: %w", err)
			}
		}
		candidates := slices.Concat(matched, w.contactIDs)
		if len(candidates) > 0 {
			if err := g.Model(&consent.Contact{}).Where("customer_id = ? AND id IN ?", w.customerID, candidates).
				Order("id").Pluck("id", &sc.ContactIDs).Error; err != nil {
				return nil, fmt.Errorf("find the subject's contacts: %w", err)
			}
		}
		out = append(out, sc)
	}
	return out, nil
}

// errNotInstructed is fulfilment asked for before any controller answered.
func errNotInstructed() error {
	return &errs.ConflictError{Field: "status", Message: "no controller has approved or instructed this request: Sendara acts for a controller only on its instruction"}
}

// checkFulfilment checks that r is of one of types and in progress: the
// controllers have answered and Sendara does the work.
func checkFulfilment(r *requests.PrivacyRequest, types []string, what string) error {
	if !slices.Contains(types, r.TypeOr("")) {
		return &errs.ConflictError{Field: "type", Message: fmt.Sprintf("%s is for %s requests; this one is %s",
			what, strings.Join(types, ", "), r.TypeOr("untriaged"))}
	}
	if r.Status != requests.StatusInProgress {
		return &errs.ConflictError{Field: "status", Message: fmt.Sprintf("%s needs the request in progress (the controllers have answered); it is %s",
			what, strings.ReplaceAll(r.Status, "_", " "))}
	}
	return nil
}

// instructedScopes is where fulfilment of r acts (what: "erasure", …): the
// scopes of the controllers that approved or instructed it, once
// checkFulfilment allows the step; a conflict when none has.
func instructedScopes(g *gorm.DB, r *requests.PrivacyRequest, types []string, what string) ([]subjectScope, error) {
	if err := checkFulfilment(r, types, what); err != nil {
		return nil, err
	}
	if err := requests.RequireProof(g, r); err != nil {
		return nil, err
	}
	scopes, err := subjectScopes(g, r)
	if err != nil {
		return nil, err
	}
	if len(scopes) == 0 {
		return nil, errNotInstructed()
	}
	return scopes, nil
}

// requestForFulfilment loads a request for a fulfilment step, which only
// Sendara staff take.
func requestForFulfilment(t *store.Tx, id string) (*requests.PrivacyRequest, error) {
	if !t.Actor.Staff() || !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var r requests.PrivacyRequest
	if err := t.G.First(&r, "id = ?", id).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return &r, nil
}

// loadContacts reads customerID's contacts with their identifiers.
func loadContacts(g *gorm.DB, customerID string, ids []string) ([]consent.Contact, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var cs []consent.Contact
	if err := g.Where("customer_id = ? AND id IN ?", customerID, ids).Order("id").Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("read contacts: %w", err)
	}
	var idents []consent.ContactIdentifier
	if err := g.Where("customer_id = ? AND contact_id IN ?", customerID, ids).Order("kind DESC, value").Find(&idents).Error; err != nil {
		return nil, fmt.Errorf("read identifiers: %w", err)
	}
	byID := make(map[string]*consent.Contact, len(cs))
	for i := range cs {
		byID[cs[i].ID] = &cs[i]
	}
	for _, ci := range idents {
		byID[ci.ContactID].Identifiers = append(byID[ci.ContactID].Identifiers, ci)
	}
	return cs, nil
}

// heldContacts maps each contact kept by an active legal hold (on the
// contact, or on one of its identifiers' hashes) to that hold.
func heldContacts(g *gorm.DB, key []byte, customerID string, contacts []consent.Contact) (map[string]consent.LegalHold, error) {
	ids := make([]string, len(contacts))
	hashOf := map[string][]string{}
	var hashes []string
	for i, c := range contacts {
		ids[i] = c.ID
		for _, v := range c.Values() {
			for _, spelling := range store.SpellingsOf(v) {
				h := consent.IdentifierHash(key, customerID, spelling)
				hashOf[v], hashes = append(hashOf[v], h), append(hashes, h)
			}
		}
	}
	byContact, byHash, err := ActiveHolds(g, customerID, ids, hashes)
	if err != nil {
		return nil, err
	}
	held := map[string]consent.LegalHold{}
	for _, c := range contacts {
		if h, ok := byContact[c.ID]; ok {
			held[c.ID] = h
			continue
		}
	values:
		for _, v := range c.Values() {
			for _, hash := range hashOf[v] {
				if h, ok := byHash[hash]; ok {
					held[c.ID] = h
					break values
				}
			}
		}
	}
	return held, nil
}

// SubjectData is what one controller holds on a request's subject: the
// contacts fulfilment acts on, with their identifiers and the holds that
// keep them.
type SubjectData struct {
	Customer customers.Customer
	Contacts []consent.Contact
	Holds    map[string]consent.LegalHold // active holds by contact id
}

// FulfilmentState is the fulfilment section of a case.
type FulfilmentState struct {
	// Instructed is false until a controller has approved or instructed
	// (or, for a request never routed, until it names its customer).
	Instructed bool
	Subjects   []SubjectData
	Exports    []RequestExport // newest first, without their data
}

// Fulfilment reads the fulfilment state of a request, for staff.
func (db *FulfilmentStore) Fulfilment(ctx context.Context, actor store.Actor, r *requests.PrivacyRequest) (*FulfilmentState, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	key, err := db.ErasureKey(ctx)
	if err != nil {
		return nil, err
	}
	g := db.Gorm.WithContext(ctx)
	scopes, err := subjectScopes(g, r)
	if err != nil {
		return nil, err
	}
	st := &FulfilmentState{Instructed: len(scopes) > 0}
	for _, sc := range scopes {
		d := SubjectData{Customer: sc.Customer}
		if d.Contacts, err = loadContacts(g, sc.Customer.ID, sc.ContactIDs); err != nil {
			return nil, err
		}
		if d.Holds, err = heldContacts(g, key, sc.Customer.ID, d.Contacts); err != nil {
			return nil, err
		}
		st.Subjects = append(st.Subjects, d)
	}
	if err := g.Select("id, request_id, customer_id, expires_at, created_at, size, sha256, used_at, data IS NULL AS cleared").
		Where("request_id = ?", r.ID).Order("created_at DESC").Limit(50).Find(&st.Exports).Error; err != nil {
		return nil, fmt.Errorf("list exports: %w", err)
	}
	return st, nil
}

// ErasureResult is what an erasure did, in counts: the timeline and the
// audit log keep these, never the identifiers.
type ErasureResult struct {
	Deleted       map[string]int64 // rows deleted per table
	KeptUnderHold int              // contacts kept under legal hold
	HashesAdded   int64            // identifiers newly on the suppression list
	ExportsPurged int64            // access bundles whose data was cleared
}

// erasedTables are deleted in this order: children before their contact.
var erasedTables = []string{"consent_reversals", "consent_states", "consent_events", "inbound_replies", "communications", "contact_identifiers", "contacts"}

// EraseSubject erases the subject of an erasure request (erasure, delete,
// child_data) that is in progress, for each controller that instructed it,
// in one transaction: contacts, identifiers, consent events and states,
// inbound replies and communication records are deleted, except for
// contacts under an active legal hold, which are kept intact and marked
// with an "erasure" opt-out. A keyed hash of every identifier stays on the
// customer's suppression list, so the person is never messaged again, and
// access bundles holding the person's data are cleared. The request keeps
// its own record of who asked (the CCPA request log). The timeline and the
// audit log (request.erase, and contact.erase per customer for its own log)
// record counts and ids only. Erasing again is a no-op.
func (db *FulfilmentStore) EraseSubject(ctx context.Context, actor store.Actor, requestID string) (*ErasureResult, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	key, err := db.ErasureKey(ctx)
	if err != nil {
		return nil, err
	}
	res := &ErasureResult{Deleted: map[string]int64{}}
	for _, t := range erasedTables {
		res.Deleted[t] = 0
	}
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		_, err := requests.UpdateRequest(tx, requestID, "request.erase", func(r *requests.PrivacyRequest) (string, map[string]any, error) {
			scopes, err := instructedScopes(tx.G, r, ErasureTypes, "erasure")
			if err != nil {
				return "", nil, err
			}
			now := store.Now()
			subjectValues, err := requests.UsableIdentifiers(tx.G, r)
			if err != nil {
				return "", nil, err
			}
			allValues := slices.Clone(subjectValues)
			var lines []string
			customers := make([]string, 0, len(scopes))
			for _, sc := range scopes {
				customers = append(customers, sc.Customer.ID)
				contacts, err := loadContacts(tx.G, sc.Customer.ID, sc.ContactIDs)
				if err != nil {
					return "", nil, err
				}
				held, err := heldContacts(tx.G, key, sc.Customer.ID, contacts)
				if err != nil {
					return "", nil, err
				}
				values := slices.Clone(subjectValues)
				var erase []string
				kept := 0
				for i := range contacts {
					values = append(values, contacts[i].Values()...)
					if _, ok := held[contacts[i].ID]; ok {
						kept++
						if err := markErasedUnderHold(tx, &contacts[i], r); err != nil {
							return "", nil, err
						}
						continue
					}
					erase = append(erase, contacts[i].ID)
				}
				allValues = append(allValues, values...)
				if err := requests.ErasedEvents(tx, sc.Customer.ID, contacts, erase); err != nil {
					return "", nil, err
				}
				deleted, err := DeleteContacts(tx, sc.Customer.ID, erase)
				if err != nil {
					return "", nil, err
				}
				added, err := addErased(tx, key, sc.Customer.ID, values, r.ID, now)
				if err != nil {
					return "", nil, err
				}
				for t, n := range deleted {
					res.Deleted[t] += n
				}
				res.KeptUnderHold += kept
				res.HashesAdded += added
				lines = append(lines, fmt.Sprintf("%s: %s; kept under legal hold: %d", sc.Customer.Name, describeCounts(deleted), kept))
				if err := requests.RecordAction(tx, r.ID, sc.Customer.ID, requests.ActionErased, describeCounts(deleted)); err != nil {
					return "", nil, err
				}
				if kept > 0 {
					if err := requests.RecordAction(tx, r.ID, sc.Customer.ID, requests.ActionHeld, fmt.Sprintf("%d contact(s) under legal hold", kept)); err != nil {
						return "", nil, err
					}
				}
				tx.Audit(store.Audit{Action: "contact.erase", ObjectType: "request", ObjectID: r.ID, CustomerID: sc.Customer.ID,
					Details: map[string]any{"reference": r.Reference, "deleted": deleted, "kept_under_legal_hold": kept, "suppression_hashes_added": added}})
			}
			purged, err := purgeExports(tx, r.ID, store.Dedupe(allValues))
			if err != nil {
				return "", nil, err
			}
			res.ExportsPurged = purged
			text := "Erased. " + strings.Join(lines, ". ") + "."
			if res.HashesAdded > 0 {
				text += fmt.Sprintf(" %d identifier(s) added to the suppression list as keyed hashes.", res.HashesAdded)
			}
			if purged > 0 {
				text += fmt.Sprintf(" %d access bundle(s) cleared.", purged)
			}
			if total(res.Deleted) == 0 && res.HashesAdded == 0 {
				text = "Erasure run again: nothing was left to erase. " + strings.Join(lines, ". ") + "."
			}
			return text, map[string]any{"customers": customers, "deleted": res.Deleted, "kept_under_legal_hold": res.KeptUnderHold,
				"suppression_hashes_added": res.HashesAdded, "exports_purged": purged}, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func describeCounts(deleted map[string]int64) string {
	labels := []struct{ table, label string }{
		{"contacts", "contact(s)"}, {"contact_identifiers", "identifier(s)"}, {"consent_events", "consent event(s)"},
		{"consent_states", "consent state(s)"}, {"inbound_replies", "reply(ies)"}, {"communications", "communication record(s)"},
	}
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = fmt.Sprintf("%d %s", deleted[l.table], l.label)
	}
	return "deleted " + strings.Join(parts, ", ")
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// DeleteContacts deletes the contacts and every row about them, children
// first, in chunks that keep each statement's parameter list small.
func DeleteContacts(t *store.Tx, customerID string, ids []string) (map[string]int64, error) {
	counts := make(map[string]int64, len(erasedTables))
	for _, table := range erasedTables {
		counts[table] = 0
	}
	for part := range slices.Chunk(ids, 500) {
		for _, table := range erasedTables {
			column := "contact_id"
			if table == "contacts" {
				column = "id"
			}
			res := t.G.Exec("DELETE FROM "+table+" WHERE customer_id = ? AND "+column+" IN ?", customerID, part)
			if res.Error != nil {
				return nil, fmt.Errorf("erase %s: %w", table, res.Error)
			}
			counts[table] += res.RowsAffected
		}
	}
	return counts, nil
}

// addErased puts the keyed hashes of values on customerID's suppression
// list; hashes already there keep their first date.
func addErased(t *store.Tx, key []byte, customerID string, values []string, requestID string, at time.Time) (int64, error) {
	return consent.AddSuppressedHashes(t, key, customerID, values, requestID, consent.ReasonErasure, at)
}

// markErasedUnderHold stops all messages to a contact that erasure must
// keep: an opt-out for erasure is appended to its ledger (once), so the
// suppression check answers "erasure" and no opt-in can lift it.
func markErasedUnderHold(t *store.Tx, c *consent.Contact, r *requests.PrivacyRequest) error {
	states, err := consent.States(t, c.CustomerID, c.ID)
	if err != nil {
		return err
	}
	done := true
	for _, ch := range consent.Channels {
		if s, ok := states[ch]; !ok || !s.Suppressed || s.Reason != consent.ReasonErasure {
			done = false
		}
	}
	if done {
		return nil
	}
	now := store.Now()
	ev := &consent.ConsentEvent{CustomerID: c.CustomerID, ID: uuid.Must(uuid.NewV7()).String(), ContactID: c.ID, Channel: consent.ChannelAll,
		Kind: consent.OptOut, Reason: consent.ReasonErasure, Source: "privacy_request",
		Evidence:  "erasure request " + r.Reference + "; data kept under legal hold",
		ActorType: t.Actor.Type, ActorID: t.Actor.ID, ActorLabel: t.Actor.Label, OccurredAt: now, RecordedAt: now}
	if err := t.G.Create(ev).Error; err != nil {
		return fmt.Errorf("suppress a held contact: %w", err)
	}
	if err := consent.RefreshStates(t, c); err != nil {
		return err
	}
	t.Audit(store.Audit{Action: "consent.opt_out", ObjectType: "contact", ObjectID: c.ID, CustomerID: c.CustomerID,
		Details: map[string]any{"channel": consent.ChannelAll, "source": "privacy_request", "reason": consent.ReasonErasure, "event": ev.ID}})
	return nil
}

// purgeExports clears the stored bundles of this request and of any other
// request about the same identifiers: they are copies of the erased data.
func purgeExports(t *store.Tx, requestID string, values []string) (int64, error) {
	q := t.G.Model(&RequestExport{}).Where("data IS NOT NULL")
	if len(values) > 0 {
		q = q.Where("(request_id = ? OR request_id IN (SELECT request_id FROM request_identifiers WHERE value IN ?))", requestID, values)
	} else {
		q = q.Where("request_id = ?", requestID)
	}
	res := q.Update("data", nil)
	if res.Error != nil {
		return 0, fmt.Errorf("clear access bundles: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// Rectify corrects a contact of the request's subject (name, CRM id,
// identifiers) through UpdateContact, and records the change on the
// request: the audit entry (request.rectify) holds the changed fields with
// their values before and after, and the timeline names the fields. The
// contact's own change is one transaction with its contact.update entry;
// the request's record follows in a second (UpdateContact owns its own).
func (db *FulfilmentStore) Rectify(ctx context.Context, actor store.Actor, requestID, contactID string, in consent.ContactInput, region string) (*consent.Contact, error) {
	if !actor.Staff() || !store.ValidID(requestID) {
		return nil, store.ErrNotFound
	}
	g := db.Gorm.WithContext(ctx)
	var r requests.PrivacyRequest
	if err := g.First(&r, "id = ?", requestID).Error; err != nil {
		return nil, store.NotFound(err)
	}
	scopes, err := instructedScopes(g, &r, RectifyTypes, "rectification")
	if err != nil {
		return nil, err
	}
	var cust *customers.Customer
	for _, sc := range scopes {
		if slices.Contains(sc.ContactIDs, contactID) {
			cust = &sc.Customer
		}
	}
	if cust == nil {
		return nil, errs.Invalid("contact", "choose a contact of this request's subject at a controller that instructed it")
	}
	before, err := db.Contact(ctx, actor, contactID)
	if err != nil {
		return nil, err
	}
	ids, err := consent.NormalizeAll("identifiers", in.Identifiers, region)
	if err != nil {
		return nil, err
	}
	changes := map[string]any{}
	if name := strings.TrimSpace(in.Name); name != before.Name {
		changes["name"] = map[string]any{"before": before.Name, "after": name}
	}
	if crm := strings.TrimSpace(in.CRMID); crm != before.CRMID {
		changes["crm_id"] = map[string]any{"before": before.CRMID, "after": crm}
	}
	had, want := store.Dedupe(before.Values()), store.Dedupe(consent.IdentifierValues(ids))
	if !slices.Equal(had, want) {
		changes["identifiers"] = map[string]any{"before": had, "after": want}
	}
	if len(changes) == 0 {
		return nil, errs.Invalid("contact", "nothing to correct: the values are the ones on file")
	}
	after, err := db.UpdateContact(ctx, actor, contactID, in, region)
	if err != nil {
		return nil, err
	}
	fields := make([]string, 0, len(changes))
	for f := range changes {
		fields = append(fields, strings.ReplaceAll(f, "_", " "))
	}
	slices.Sort(fields)
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		_, err := requests.UpdateRequest(tx, requestID, "request.rectify", func(r *requests.PrivacyRequest) (string, map[string]any, error) {
			if err := requests.RecordAction(tx, r.ID, cust.ID, requests.ActionRectified, strings.Join(fields, ", ")); err != nil {
				return "", nil, err
			}
			return fmt.Sprintf("Rectified contact %s at %s: %s corrected.", contactID, cust.Name, strings.Join(fields, ", ")),
				map[string]any{"contact": contactID, "customer": cust.ID, "changes": changes}, nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("the contact was corrected but the request's record failed: %w", err)
	}
	return after, nil
}

// RequestExport is a stored access bundle (a zip) behind a download link.
// Only a SHA-256 of the link's token is kept.
type RequestExport struct {
	ID         string `gorm:"primaryKey"`
	RequestID  string
	CustomerID *string // the controller it was made for; nil: the requester, every controller
	TokenHash  string
	ExpiresAt  time.Time
	CreatedAt  time.Time
	Size       int64
	SHA256     string     `gorm:"column:sha256"`
	Data       []byte     // nil once cleared (expired, or the subject erased)
	UsedAt     *time.Time // the link was followed; a new one must be issued

	Reference string `gorm:"-"`                 // the request's, filled by DownloadExport
	Cleared   bool   `gorm:"->;column:cleared"` // the data is gone, filled by Fulfilment
}

// Expired reports whether the link no longer works at now.
func (e RequestExport) Expired(now time.Time) bool { return !now.Before(e.ExpiresAt) }

// Bundle is a new access bundle: the stored export, its zip bytes in
// Export.Data, the rows per category, and the link's token, which exists
// nowhere else and is shown once.
type Bundle struct {
	Export RequestExport
	Token  string
	Counts map[string]int64
}

// ExportBundle builds the access bundle of a request for the requester: a
// zip with, per controller that instructed it, the subject's contacts and
// identifiers, consent events, inbound replies and communication records
// as JSON and CSV, and a README of the categories, sources, purposes,
// retention, recipients and rights. It is stored behind a link that
// expires after ExportValidity; the creation is audited (request.export)
// and on the timeline.
func (db *FulfilmentStore) ExportBundle(ctx context.Context, actor store.Actor, requestID string) (*Bundle, error) {
	return db.ExportBundleFor(ctx, actor, requestID, "")
}

// ExportBundleFor builds the bundle for one controller (customerID): only
// the data it holds. An empty customerID is ExportBundle.
func (db *FulfilmentStore) ExportBundleFor(ctx context.Context, actor store.Actor, requestID, customerID string) (*Bundle, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	b := &Bundle{Token: store.RandomToken()}
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		now := store.Now()
		// Expired bundles are personal data nobody can fetch any more.
		if err := tx.G.Model(&RequestExport{}).Where("data IS NOT NULL AND expires_at <= ?", now).Update("data", nil).Error; err != nil {
			return fmt.Errorf("clear expired bundles: %w", err)
		}
		_, err := requests.UpdateRequest(tx, requestID, "request.export", func(r *requests.PrivacyRequest) (string, map[string]any, error) {
			scopes, err := instructedScopes(tx.G, r, ExportTypes, "an access bundle")
			if err != nil {
				return "", nil, err
			}
			audience := "the requester"
			if customerID != "" {
				i := slices.IndexFunc(scopes, func(sc subjectScope) bool { return sc.Customer.ID == customerID })
				if i < 0 {
					return "", nil, errs.Invalid("for", "choose the requester or a controller that instructed this request")
				}
				scopes, audience = scopes[i:i+1], scopes[i].Customer.Name
			}
			data, counts, err := buildBundle(tx.G, r, scopes, customerID != "", now)
			if err != nil {
				return "", nil, err
			}
			sum := sha256.Sum256(data)
			b.Counts = counts
			b.Export = RequestExport{ID: uuid.Must(uuid.NewV7()).String(), RequestID: r.ID, TokenHash: store.HashToken(b.Token),
				ExpiresAt: now.Add(ExportValidity), CreatedAt: now, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
				Data: data, Reference: r.Reference}
			if customerID != "" {
				b.Export.CustomerID = &customerID
			}
			if err := tx.G.Create(&b.Export).Error; err != nil {
				return "", nil, fmt.Errorf("store access bundle: %w", err)
			}
			if customerID == "" {
				for _, sc := range scopes {
					if err := requests.RecordAction(tx, r.ID, sc.Customer.ID, requests.ActionExported, fmt.Sprintf("bundle %s", b.Export.ID)); err != nil {
						return "", nil, err
					}
				}
			}
			text := fmt.Sprintf("Access bundle prepared for %s (%d contact(s), %d consent event(s), %d reply(ies), %d communication record(s); %d bytes, sha256 %s). Its link expires %s.",
				audience, counts["contacts"], counts["consent_events"], counts["inbound_replies"], counts["communications"],
				b.Export.Size, b.Export.SHA256[:12], b.Export.ExpiresAt.Format(time.RFC3339))
			return text, map[string]any{"export": b.Export.ID, "customer": customerID, "counts": counts,
				"size": b.Export.Size, "sha256": b.Export.SHA256, "expires_at": b.Export.ExpiresAt}, nil
		})
		if err == nil && customerID != "" {
			// A controller's bundle is about its data: in its own log.
			if last := &tx.Audits[len(tx.Audits)-1]; last.CustomerID == "" {
				last.CustomerID = customerID
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// DownloadExport returns the bundle behind a link token while the link
// works: once, before it expires. An unknown, used, expired or cleared
// link is ErrNotFound; staff issue a new one (ReissueExportLink, or the
// completion mail sent again). Each download is audited
// (request.export_download) as actor, who may be anyone holding the link.
func (db *FulfilmentStore) DownloadExport(ctx context.Context, actor store.Actor, token string) (*RequestExport, error) {
	if len(token) < 32 || len(token) > 64 {
		return nil, store.ErrNotFound
	}
	var e RequestExport
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		now := store.Now()
		if err := tx.G.First(&e, "token_hash = ? AND expires_at > ? AND data IS NOT NULL AND used_at IS NULL", store.HashToken(token), now).Error; err != nil {
			return store.NotFound(err)
		}
		// The conditional update spends the link once even when two
		// downloads race.
		res := tx.G.Model(&RequestExport{}).Where("id = ? AND used_at IS NULL", e.ID).Update("used_at", now)
		if res.Error != nil {
			return fmt.Errorf("spend the bundle link: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return store.ErrNotFound
		}
		var r requests.PrivacyRequest
		if err := tx.G.Select("id", "reference", "customer_id").First(&r, "id = ?", e.RequestID).Error; err != nil {
			return store.NotFound(err)
		}
		e.Reference = r.Reference
		// The customers whose data the bundle holds: the one it was made
		// for, or (the requester's) each controller with a folder in it.
		customers, err := bundleCustomers(tx.G, &e)
		if err != nil {
			return err
		}
		single := ""
		if len(customers) == 1 {
			single = customers[0]
		}
		tx.Audit(store.Audit{Action: "request.export_download", ObjectType: "request", ObjectID: r.ID,
			CustomerID: store.FirstNonEmptyString(store.DerefString(r.CustomerID), store.DerefString(e.CustomerID), single),
			Details:    map[string]any{"reference": r.Reference, "export": e.ID, "size": e.Size, "customers": customers}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// ReissueExportLink gives a bundle of the request a new link, valid for
// ExportValidity and once, and returns its token (shown once); the old
// link stops working. Audited as request.export_reissue.
func (db *FulfilmentStore) ReissueExportLink(ctx context.Context, actor store.Actor, requestID, exportID string) (string, time.Time, error) {
	if !actor.Staff() {
		return "", time.Time{}, store.ErrNotFound
	}
	var token string
	var expires time.Time
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		r, err := requestForFulfilment(tx, requestID)
		if err != nil {
			return err
		}
		token, expires, err = reissueExport(tx, r, exportID, "staff")
		return err
	})
	return token, expires, err
}

// reissueExport puts a new single-use token on a bundle of r that still
// holds data, valid for ExportValidity from now.
func reissueExport(t *store.Tx, r *requests.PrivacyRequest, exportID, why string) (string, time.Time, error) {
	if !store.ValidID(exportID) {
		return "", time.Time{}, store.ErrNotFound
	}
	token, expires := store.RandomToken(), store.Now().Add(ExportValidity)
	res := t.G.Model(&RequestExport{}).Where("id = ? AND request_id = ? AND data IS NOT NULL", exportID, r.ID).
		Updates(map[string]any{"token_hash": store.HashToken(token), "used_at": nil, "expires_at": expires})
	if res.Error != nil {
		return "", time.Time{}, fmt.Errorf("issue a new bundle link: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return "", time.Time{}, &errs.ConflictError{Field: "export", Message: "this bundle's data is gone (expired or erased): prepare a new one"}
	}
	t.Event(r.ID, "export_reissue", fmt.Sprintf("New link issued for access bundle %s (%s); the previous link no longer works. It expires %s.",
		exportID, why, expires.Format(time.RFC3339)))
	t.Audit(store.Audit{Action: "request.export_reissue", ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
		Details: map[string]any{"reference": r.Reference, "export": exportID, "for": why, "expires_at": expires}})
	return token, expires, nil
}

// bundleFiles are the categories of a bundle, one JSON and one CSV file
// each per controller.
var bundleFiles = []struct{ table, title, what string }{
	{"contacts", "Contact details", "your name and CRM reference as the business recorded them, and your phone numbers and email addresses"},
	{"consent_events", "Consent history", "every opt-in and opt-out recorded for you: when, on which channel, from which source and on what evidence"},
	{"inbound_replies", "Your replies", "messages you sent back, with how they were read (an opt-out, an opt-in, a question)"},
	{"communications", "Communication records", "when messages and calls were sent to you or received from you, on which channel, and whether they were delivered (never their content)"},
}

// buildBundle writes the zip: README.txt, then a folder per controller.
// Rows are read a page at a time, so memory holds the compressed zip and
// one page, whatever the subject's history.
func buildBundle(g *gorm.DB, r *requests.PrivacyRequest, scopes []subjectScope, forController bool, now time.Time) ([]byte, map[string]int64, error) {
	counts := map[string]int64{}
	perScope := make([]map[string]int64, len(scopes))
	for i, sc := range scopes {
		perScope[i] = map[string]int64{"contacts": int64(len(sc.ContactIDs))}
		for _, f := range bundleFiles[1:] {
			var n int64
			if len(sc.ContactIDs) > 0 {
				if err := g.Table(f.table).Where("customer_id = ? AND contact_id IN ?", sc.Customer.ID, sc.ContactIDs).Count(&n).Error; err != nil {
					return nil, nil, fmt.Errorf("count %s: %w", f.table, err)
				}
			}
			perScope[i][f.table] = n
		}
		for k, v := range perScope[i] {
			counts[k] += v
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("README.txt")
	if err != nil {
		return nil, nil, err
	}
	if _, err := io.WriteString(w, bundleReadme(r, scopes, perScope, forController, now)); err != nil {
		return nil, nil, err
	}
	for _, sc := range scopes {
		if err := writeScope(zw, g, sc); err != nil {
			return nil, nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, nil, fmt.Errorf("write access bundle: %w", err)
	}
	return buf.Bytes(), counts, nil
}

func writeScope(zw *zip.Writer, g *gorm.DB, sc subjectScope) error {
	dir := sc.Customer.Slug + "/"
	contacts, err := loadContacts(g, sc.Customer.ID, sc.ContactIDs)
	if err != nil {
		return err
	}
	type identJSON struct {
		Value   string    `json:"value"`
		Kind    string    `json:"kind"`
		AddedAt time.Time `json:"added_at"`
	}
	type contactJSON struct {
		ID          string      `json:"id"`
		Name        string      `json:"name"`
		CRMID       string      `json:"crm_id"`
		Identifiers []identJSON `json:"identifiers"`
		Suppressed  bool        `json:"suppressed"`
		Restricted  bool        `json:"restricted"`
		CreatedAt   time.Time   `json:"created_at"`
		UpdatedAt   time.Time   `json:"updated_at"`
	}
	err = writeFiles(zw, dir+"contacts", []string{"contact_id", "name", "crm_id", "identifier", "kind", "suppressed", "restricted", "created_at"},
		func(emit func(js any, rows ...[]string) error) error {
			for _, c := range contacts {
				js := contactJSON{ID: c.ID, Name: c.Name, CRMID: c.CRMID, Identifiers: []identJSON{}, Suppressed: c.Suppressed,
					Restricted: c.Restricted, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
				var rows [][]string
				for _, ci := range c.Identifiers {
					js.Identifiers = append(js.Identifiers, identJSON{ci.Value, ci.Kind, ci.CreatedAt.UTC()})
					rows = append(rows, []string{c.ID, imports.SpreadsheetSafe(c.Name), imports.SpreadsheetSafe(c.CRMID), ci.Value, ci.Kind,
						strconv.FormatBool(c.Suppressed), strconv.FormatBool(c.Restricted), stamp(&c.CreatedAt)})
				}
				if err := emit(js, rows...); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return err
	}
	err = writeFiles(zw, dir+"consent_events", []string{"id", "contact_id", "identifier", "channel", "kind", "reason", "source", "evidence", "occurred_at", "recorded_at"},
		func(emit func(js any, rows ...[]string) error) error {
			return eachPage(g, sc, func(e consent.ConsentEvent) string { return e.ID }, func(e consent.ConsentEvent) error {
				js := map[string]any{"id": e.ID, "contact_id": e.ContactID, "identifier": e.Identifier, "channel": e.Channel, "kind": e.Kind,
					"reason": e.Reason, "source": e.Source, "evidence": e.Evidence, "recorded_by": e.ActorType,
					"occurred_at": e.OccurredAt.UTC(), "recorded_at": e.RecordedAt.UTC()}
				return emit(js, []string{e.ID, e.ContactID, e.Identifier, e.Channel, e.Kind, e.Reason, e.Source, imports.SpreadsheetSafe(e.Evidence),
					stamp(&e.OccurredAt), stamp(&e.RecordedAt)})
			})
		})
	if err != nil {
		return err
	}
	err = writeFiles(zw, dir+"inbound_replies", []string{"id", "contact_id", "from", "body", "read_as", "received_at", "reviewed_at", "decision"},
		func(emit func(js any, rows ...[]string) error) error {
			return eachPage(g, sc, func(r consent.InboundReply) string { return r.ID }, func(r consent.InboundReply) error {
				js := map[string]any{"id": r.ID, "contact_id": r.ContactID, "from": r.FromValue, "body": r.Body, "read_as": r.Action,
					"received_at": r.ReceivedAt.UTC(), "reviewed_at": r.ReviewedAt, "decision": r.Decision}
				return emit(js, []string{r.ID, r.ContactID, r.FromValue, imports.SpreadsheetSafe(r.Body), r.Action, stamp(&r.ReceivedAt), stamp(r.ReviewedAt), r.Decision})
			})
		})
	if err != nil {
		return err
	}
	return writeFiles(zw, dir+"communications", []string{"id", "contact_id", "channel", "direction", "occurred_at", "delivery_status", "crm_synced_at"},
		func(emit func(js any, rows ...[]string) error) error {
			return eachPage(g, sc, func(c consent.Communication) string { return c.ID }, func(c consent.Communication) error {
				js := map[string]any{"id": c.ID, "contact_id": c.ContactID, "channel": c.Channel, "direction": c.Direction,
					"occurred_at": c.OccurredAt.UTC(), "delivery_status": c.DeliveryStatus, "crm_synced_at": c.CRMSyncedAt}
				return emit(js, []string{c.ID, c.ContactID, c.Channel, c.Direction, stamp(&c.OccurredAt), c.DeliveryStatus, stamp(c.CRMSyncedAt)})
			})
		})
}

func stamp(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// writeFiles writes base.json (an array) and base.csv from one pass of
// produce: a zip entry must be finished before the next starts, so the
// CSV goes to a temporary buffer while the JSON streams into the zip.
// The CSV buffer is the uncompressed CSV of one category of one subject.
func writeFiles(zw *zip.Writer, base string, header []string, produce func(emit func(js any, rows ...[]string) error) error) error {
	var csvBuf bytes.Buffer
	cw := csv.NewWriter(&csvBuf)
	if err := cw.Write(header); err != nil {
		return err
	}
	jw, err := zw.Create(base + ".json")
	if err != nil {
		return err
	}
	first := true
	if _, err := io.WriteString(jw, "["); err != nil {
		return err
	}
	err = produce(func(js any, rows ...[]string) error {
		b, err := json.Marshal(js)
		if err != nil {
			return err
		}
		sep := ",\n  "
		if first {
			sep, first = "\n  ", false
		}
		if _, err := io.WriteString(jw, sep); err != nil {
			return err
		}
		if _, err := jw.Write(b); err != nil {
			return err
		}
		return cw.WriteAll(rows)
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", base, err)
	}
	if _, err := io.WriteString(jw, "\n]\n"); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	w, err := zw.Create(base + ".csv")
	if err != nil {
		return err
	}
	_, err = csvBuf.WriteTo(w)
	return err
}

// eachPage calls fn for every row of T about the scope's contacts, reading
// keyset pages of 1000 by id.
func eachPage[T any](g *gorm.DB, sc subjectScope, id func(T) string, fn func(T) error) error {
	if len(sc.ContactIDs) == 0 {
		return nil
	}
	const size = 1000
	after := ""
	for {
		var page []T
		q := g.Where("customer_id = ? AND contact_id IN ?", sc.Customer.ID, sc.ContactIDs)
		if after != "" {
			q = q.Where("id > ?", after)
		}
		if err := q.Order("id").Limit(size).Find(&page).Error; err != nil {
			return err
		}
		for _, row := range page {
			if err := fn(row); err != nil {
				return err
			}
		}
		if len(page) < size {
			return nil
		}
		after = id(page[len(page)-1])
	}
}

// bundleReadme is the plain-language README of a bundle.
func bundleReadme(r *requests.PrivacyRequest, scopes []subjectScope, counts []map[string]int64, forController bool, now time.Time) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("YOUR DATA HELD BY SENDARA")
	p("Privacy request %s, prepared %s.", r.Reference, now.Format("2 January 2006"))
	p("")
	if forController {
		p("This copy is for %s, the business that controls this data, to answer the person's request.", scopes[0].Customer.Name)
	} else {
		p("This copy answers your request to see (and take with you) the data Sendara holds about you.")
	}
	p("")
	p("WHO WE ARE")
	p("Sendara sends iMessages and makes FaceTime calls for businesses, from their customer-management")
	p("tools. For the data below Sendara is a processor: each business listed decides why your data is")
	p("used (it is the controller), and Sendara holds it only to do that work on its instructions.")
	p("")
	p("WHAT WE HOLD, AND WHERE IT CAME FROM")
	for i, sc := range scopes {
		p("")
		p("From %s (folder %s/): the business gave Sendara this data, or you did by messaging it.", sc.Customer.Name, sc.Customer.Slug)
		for _, f := range bundleFiles {
			p("  - %s: %d record(s) - %s. Files: %s.json and %s.csv.", f.title, counts[i][f.table], f.what, f.table, f.table)
		}
	}
	if len(scopes) == 0 {
		p("No business that instructed Sendara holds data about you.")
	}
	p("")
	p("WHY (PURPOSES)")
	p("  - To send you the messages and calls the business asked Sendara to send, and to report to the")
	p("    business whether they were delivered.")
	p("  - To respect your choices: your opt-outs and opt-ins are kept so that you are not messaged when")
	p("    you asked not to be (the consent history is the proof).")
	p("  - To read your replies, so that \"STOP\" and similar answers take effect.")
	p("")
	p("HOW LONG WE KEEP IT (RETENTION)")
	p("As long as the business keeps you on its contact list and uses Sendara. When you ask for erasure,")
	p("or the business leaves Sendara, the data is deleted; only a one-way, keyed code of your phone")
	p("numbers and email addresses is kept so that you are never messaged again, and data under a legal")
	p("hold is kept until the hold ends. Communication records hold no message content.")
	p("")
	p("WHO ELSE RECEIVES IT (RECIPIENTS)")
	for _, s := range subProcessors {
		p("  - %s: %s.", s.Name, s.Role)
	}
	p("Sendara does not sell your data or share it for advertising.")
	p("")
	p("YOUR RIGHTS")
	p("You may ask for a copy of your data (this bundle), for its correction, for its erasure, for its")
	p("use to be restricted, and object to its use; you may withdraw consent at any time (reply STOP).")
	p("In California you may also know, delete and correct your data and opt out of its sale or sharing,")
	p("without being treated differently for it. You may complain to your data protection authority.")
	p("Write to the business that holds your data, or to Sendara's privacy team, quoting %s.", r.Reference)
	p("")
	p("THE FILES")
	p("Each category is given twice: as JSON (for moving your data to another service) and as CSV (opens")
	p("in a spreadsheet). Text is UTF-8; times are UTC in RFC 3339 form. Cells of CSV text that start")
	p("with = + - or @ are prefixed with an apostrophe so spreadsheets do not run them.")
	return b.String()
}
