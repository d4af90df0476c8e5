package consent

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/sendara/console/models/identifiers"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm/clause"
)

// emailsNormalizedKey marks in settings that stored email identifiers
// were brought to the canonical form of identifiers.NormalizeEmail
// (NFKC, case folding, IDNA ASCII domains). Older consoles only
// lower-cased, so two spellings of one address could be two contacts.
const emailsNormalizedKey = "identifiers.email_canonical_v2"

// RenormalizeEmails rewrites every stored email identifier to its
// canonical form, once per database (Migrate calls it after the schema
// migrations; a database that ran it records so in settings). Contacts of
// one customer whose addresses turn out to be one person are merged: the
// oldest survives, and gets the others' identifiers, consent ledger,
// replies, communications and holds, so both ledgers stay whole. The
// merged person is opted out on every channel where either was (an
// opt-out is never lost to a merge: where the joined ledger would fold to
// "not suppressed", a new opt-out recording the merge is added). Each
// merge is one contact.merge audit entry naming both contacts. Each
// customer is one transaction; a crash re-runs the remaining customers.
// Identifiers that the new rules refuse (an invisible character that used
// to slip through) are kept as stored, so a standing suppression on them
// stays; they are counted in the log.
func RenormalizeEmails(ctx context.Context, db *ConsentStore, log *slog.Logger) error {
	var done store.Setting
	if err := db.Gorm.WithContext(ctx).Where("key = ?", emailsNormalizedKey).Limit(1).Find(&done).Error; err != nil {
		return fmt.Errorf("read normalization marker: %w", err)
	}
	if done.Key != "" {
		return nil
	}
	changes, refused, err := emailChanges(ctx, db)
	if err != nil {
		return err
	}
	byCustomer := map[string][]emailChange{}
	var customers []string
	for _, c := range changes {
		if _, ok := byCustomer[c.CustomerID]; !ok {
			customers = append(customers, c.CustomerID)
		}
		byCustomer[c.CustomerID] = append(byCustomer[c.CustomerID], c)
	}
	slices.Sort(customers)
	merged := 0
	for _, customerID := range customers {
		err := db.Tx(ctx, store.SystemActor("identifier normalization"), func(tx *store.Tx) error {
			n, err := renormalizeCustomer(tx, customerID, byCustomer[customerID])
			merged += n
			return err
		})
		if err != nil {
			return fmt.Errorf("normalize email identifiers of customer %s: %w", customerID, err)
		}
	}
	if err := db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&store.Setting{Key: emailsNormalizedKey, Value: store.Now().UTC().Format(time.RFC3339)}).Error; err != nil {
		return fmt.Errorf("record normalization marker: %w", err)
	}
	if len(changes) > 0 || refused > 0 {
		log.Info("email identifiers normalized", "rewritten", len(changes), "contacts_merged", merged, "kept_unparseable", refused)
	}
	return nil
}

// emailChange is one stored email identifier whose canonical form differs.
type emailChange struct {
	ContactIdentifier
	Canonical string
}

// emailChanges reads every stored email identifier in keyset pages and
// returns those whose canonical form differs, and how many the new rules
// refuse.
func emailChanges(ctx context.Context, db *ConsentStore) ([]emailChange, int, error) {
	var out []emailChange
	refused := 0
	lastCustomer, lastValue := "", ""
	for {
		var page []ContactIdentifier
		q := db.Gorm.WithContext(ctx).Where("kind = ?", store.KindEmail)
		if lastCustomer != "" {
			q = q.Where("(customer_id > ? OR (customer_id = ? AND value > ?))", lastCustomer, lastCustomer, lastValue)
		}
		err := q.Order("customer_id, value").Limit(5000).Find(&page).Error
		if err != nil {
			return nil, 0, fmt.Errorf("read email identifiers: %w", err)
		}
		for _, ci := range page {
			canonical, err := identifiers.NormalizeEmail(ci.Value)
			switch {
			case err != nil:
				refused++
			case canonical != ci.Value:
				out = append(out, emailChange{ContactIdentifier: ci, Canonical: canonical})
			}
		}
		if len(page) < 5000 {
			return out, refused, nil
		}
		lastCustomer, lastValue = page[len(page)-1].CustomerID, page[len(page)-1].Value
	}
}

// renormalizeCustomer applies one customer's changes and reports how many
// contacts were merged away.
func renormalizeCustomer(t *store.Tx, customerID string, changes []emailChange) (int, error) {
	// Contacts are one person when they hold spellings of one address:
	// group them (union-find) with the contact already holding the
	// canonical spelling, if any.
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if p, ok := parent[x]; ok && p != x {
			parent[x] = find(p)
			return parent[x]
		}
		parent[x] = x
		return x
	}
	union := func(a, b string) { parent[find(a)] = find(b) }
	ownerOf := map[string]string{} // canonical → a contact holding a spelling of it
	for _, c := range changes {
		find(c.ContactID)
		if o, ok := ownerOf[c.Canonical]; ok {
			union(c.ContactID, o)
			continue
		}
		ownerOf[c.Canonical] = c.ContactID
		var existing []ContactIdentifier
		if err := t.G.Where("customer_id = ? AND value = ?", customerID, c.Canonical).Limit(1).Find(&existing).Error; err != nil {
			return 0, fmt.Errorf("read identifier: %w", err)
		}
		if len(existing) == 1 {
			union(c.ContactID, existing[0].ContactID)
		}
	}
	groups := map[string][]string{}
	for id := range parent {
		groups[find(id)] = append(groups[find(id)], id)
	}
	survivorOf := map[string]string{}
	merged := 0
	for _, ids := range groups {
		var contacts []Contact
		if err := t.G.Where("customer_id = ? AND id IN ?", customerID, ids).Find(&contacts).Error; err != nil {
			return 0, fmt.Errorf("read contacts: %w", err)
		}
		slices.SortFunc(contacts, func(a, b Contact) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
		})
		for _, c := range contacts {
			survivorOf[c.ID] = contacts[0].ID
		}
		for _, gone := range contacts[1:] {
			if err := mergeContact(t, &contacts[0], &gone); err != nil {
				return 0, err
			}
			merged++
		}
	}
	for _, c := range changes {
		if err := t.G.Where("customer_id = ? AND value = ?", customerID, c.Value).Delete(&ContactIdentifier{}).Error; err != nil {
			return 0, fmt.Errorf("remove old spelling: %w", err)
		}
		var n int64
		if err := t.G.Model(&ContactIdentifier{}).Where("customer_id = ? AND value = ?", customerID, c.Canonical).Count(&n).Error; err != nil {
			return 0, fmt.Errorf("read identifier: %w", err)
		}
		if n == 0 {
			ci := ContactIdentifier{CustomerID: customerID, Value: c.Canonical, Kind: store.KindEmail, ContactID: survivorOf[c.ContactID], CreatedAt: c.CreatedAt}
			if err := t.G.Create(&ci).Error; err != nil {
				return 0, fmt.Errorf("store canonical spelling: %w", err)
			}
		}
		if err := t.G.Model(&InboundReply{}).Where("customer_id = ? AND from_value = ?", customerID, c.Value).
			Update("from_value", c.Canonical).Error; err != nil {
			return 0, fmt.Errorf("rewrite reply sender: %w", err)
		}
	}
	return merged, nil
}

// mergeContact folds gone into keep: its identifiers, ledger, replies,
// communications, holds and consent reversals move to keep, and gone is deleted. The ledger
// is append-only against UPDATE, so its events move by delete and
// re-insert, unchanged but for the contact. Where either contact was
// suppressed on a channel and the joined ledger is not, keep gets an
// opt-out dated now that says why, with the earlier reason.
func mergeContact(t *store.Tx, keep, gone *Contact) error {
	customerID := keep.CustomerID
	var before []ConsentState
	if err := t.G.Where("customer_id = ? AND contact_id IN ? AND suppressed", customerID, []string{keep.ID, gone.ID}).Find(&before).Error; err != nil {
		return fmt.Errorf("read consent states: %w", err)
	}
	var events []ConsentEvent
	if err := t.G.Where("customer_id = ? AND contact_id = ?", customerID, gone.ID).Find(&events).Error; err != nil {
		return fmt.Errorf("read consent ledger: %w", err)
	}
	if len(events) > 0 {
		if err := t.G.Where("customer_id = ? AND contact_id = ?", customerID, gone.ID).Delete(&ConsentEvent{}).Error; err != nil {
			return fmt.Errorf("move consent ledger: %w", err)
		}
		for i := range events {
			events[i].ContactID = keep.ID
		}
		if err := t.G.Create(events).Error; err != nil {
			return fmt.Errorf("move consent ledger: %w", err)
		}
	}
	moves := []struct {
		model any
		what  string
	}{
		{&ContactIdentifier{}, "identifiers"}, {&InboundReply{}, "replies"}, {&Communication{}, "communications"}, {&LegalHold{}, "legal holds"},
		{&ConsentReversal{}, "consent reversals"},
	}
	for _, m := range moves {
		if err := t.G.Model(m.model).Where("customer_id = ? AND contact_id = ?", customerID, gone.ID).Update("contact_id", keep.ID).Error; err != nil {
			return fmt.Errorf("move %s: %w", m.what, err)
		}
	}
	if err := t.G.Where("customer_id = ? AND contact_id = ?", customerID, gone.ID).Delete(&ConsentState{}).Error; err != nil {
		return fmt.Errorf("remove consent states: %w", err)
	}
	fill := map[string]any{}
	if keep.Name == "" && gone.Name != "" {
		fill["name"], fill["name_key"] = gone.Name, gone.NameKey
	}
	if keep.CRMID == "" && gone.CRMID != "" {
		fill["crm_id"] = gone.CRMID
	}
	if len(fill) > 0 {
		if err := t.G.Model(&Contact{}).Where("customer_id = ? AND id = ?", customerID, keep.ID).Updates(fill).Error; err != nil {
			return fmt.Errorf("keep the merged contact's name: %w", err)
		}
	}
	if err := t.G.Where("customer_id = ? AND id = ?", customerID, gone.ID).Delete(&Contact{}).Error; err != nil {
		return fmt.Errorf("remove merged contact: %w", err)
	}
	if err := RefreshStates(t, keep); err != nil {
		return err
	}
	added, err := keepOptOuts(t, keep, before)
	if err != nil {
		return err
	}
	t.Audit(store.Audit{Action: "contact.merge", ObjectType: "contact", ObjectID: keep.ID, CustomerID: customerID,
		Details: map[string]any{"kept": keep.ID, "merged": gone.ID, "reason": "their email addresses are one address once normalized",
			"events_moved": len(events), "opt_outs_added": added}})
	return nil
}

// keepOptOuts adds an opt-out to keep where a state in before was
// suppressed and keep's joined ledger no longer is: one per reason, on
// every channel at once when every channel needs it.
func keepOptOuts(t *store.Tx, keep *Contact, before []ConsentState) (int, error) {
	var now []ConsentState
	if err := t.G.Where("customer_id = ? AND contact_id = ?", keep.CustomerID, keep.ID).Find(&now).Error; err != nil {
		return 0, fmt.Errorf("read consent states: %w", err)
	}
	suppressed := map[string]bool{}
	for _, s := range now {
		suppressed[s.Channel] = s.Suppressed
	}
	type lost struct {
		channels []string
		since    time.Time
	}
	byReason := map[string]*lost{}
	var reasons []string
	for _, s := range before {
		if suppressed[s.Channel] {
			continue
		}
		suppressed[s.Channel] = true
		l := byReason[s.Reason]
		if l == nil {
			l = &lost{since: s.Since}
			byReason[s.Reason] = l
			reasons = append(reasons, s.Reason)
		}
		l.channels = append(l.channels, s.Channel)
		if s.Since.Before(l.since) {
			l.since = s.Since
		}
	}
	at := store.Now()
	added := 0
	for _, reason := range reasons {
		l := byReason[reason]
		channels := l.channels
		if len(channels) == len(Channels) {
			channels = []string{ChannelAll}
		}
		for _, ch := range channels {
			ev := &ConsentEvent{CustomerID: keep.CustomerID, ID: uuid.Must(uuid.NewV7()).String(), ContactID: keep.ID, Channel: ch,
				Kind: OptOut, Reason: reason, Source: "manual",
				Evidence:  "merged with a contact holding another spelling of the same address, opted out since " + l.since.UTC().Format(time.RFC3339),
				ActorType: t.Actor.Type, ActorID: t.Actor.ID, ActorLabel: t.Actor.Label, OccurredAt: at, RecordedAt: at}
			if err := t.G.Create(ev).Error; err != nil {
				return 0, fmt.Errorf("keep an opt-out through a merge: %w", err)
			}
			added++
		}
	}
	if added > 0 {
		return added, RefreshStates(t, keep)
	}
	return 0, nil
}
