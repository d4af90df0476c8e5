package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	fulfilment "github.com/sendara/console/models/fulfilment"

	registers "github.com/sendara/console/models/registers"

	requests "github.com/sendara/console/models/requests"

	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

const (
	janePhone = "+14155550123"
	janeEmail = "jane@example.com"
)

// subject gives customer a contact for Jane with some history: an opt-out
// and a later opt-in, a STOP reply, an ordinary reply and two
// communication records.
func subject(t *testing.T, db *models.DB, c *customers.Customer, ids ...string) *consent.Contact {
	t.Helper()
	ctx := context.Background()
	if len(ids) == 0 {
		ids = []string{janePhone, janeEmail}
	}
	contact, err := db.CreateContact(ctx, modeltest.Staff, c.ID, consent.ContactInput{Identifiers: ids, Name: "Jane Doe", CRMID: "crm-42"}, "US")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-48 * time.Hour)
	steps := []consent.ConsentInput{
		{ContactID: contact.ID, Kind: consent.OptOut, OccurredAt: base},
		{ContactID: contact.ID, Kind: consent.OptIn, Evidence: "web form, ticked the box", OccurredAt: base.Add(time.Hour)},
	}
	for _, in := range steps {
		if _, err := db.RecordConsent(ctx, modeltest.Staff, c.ID, in, "US"); err != nil {
			t.Fatal(err)
		}
	}
	for i, body := range []string{"Hello, is this the dentist?", "STOP"} {
		if _, err := db.RecordInbound(ctx, modeltest.Staff, c.ID, ids[0], body, base.Add(time.Duration(2+i)*time.Hour), "US", calendar.Business{Loc: time.UTC, Calendar: calendar.DefaultCalendar()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{registers.DirectionOutbound, registers.DirectionInbound} {
		if _, err := db.RecordCommunication(ctx, modeltest.Staff, c.ID, registers.CommunicationInput{ContactID: contact.ID,
			Channel: consent.ChannelIMessage, Direction: dir, DeliveryStatus: "delivered", OccurredAt: base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	return contact
}

// instructed records a request of typ about ids, verifies and routes it,
// and has every controller approve it except those in deny, which deny:
// the request is then in progress.
func instructed(t *testing.T, db *models.DB, typ string, ids []string, deny ...*customers.Customer) *requests.PrivacyRequest {
	t.Helper()
	ctx := context.Background()
	r := newRequest(t, db, requests.RequestInput{Type: typ, Regime: "gdpr", Identifiers: ids, Requester: requests.Requester{Email: janeEmail}})
	if _, err := db.VerifyManually(ctx, modeltest.Staff, r.ID, "email_reply", "replied from the address on file"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Route(ctx, modeltest.Staff, la(t), r.ID, "https://console.example/inbox"); err != nil {
		t.Fatal(err)
	}
	tasks, err := db.Tasks(ctx, modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		decision, reason := requests.TaskApproved, ""
		if slices.ContainsFunc(deny, func(c *customers.Customer) bool { return c.ID == task.CustomerID }) {
			decision, reason = requests.TaskDenied, "we must keep this person's data for an open contract"
		}
		admin := store.CustomerUser(uuid.NewString(), "admin", task.CustomerID, "")
		if _, err := db.AnswerTask(ctx, admin, task.ID, decision, reason); err != nil {
			t.Fatal(err)
		}
	}
	r, err = db.Request(ctx, modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func unzip(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("the bundle is not a zip: %v", err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	return files
}

func rowsIn(t *testing.T, db *models.DB, table, customerID string) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Table(table).Where("customer_id = ?", customerID).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestExportBundleHoldsEveryCategoryWithAReadme(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	jane := subject(t, db, acme)
	subject(t, db, acme, "+14155550199") // someone else at the same customer
	r := instructed(t, db, calendar.TypeAccess, []string{janePhone})

	b, err := db.ExportBundle(ctx, modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b.Export.Data)
	if hex.EncodeToString(sum[:]) != b.Export.SHA256 || b.Export.Size != int64(len(b.Export.Data)) || len(b.Token) < 40 {
		t.Errorf("bundle metadata: size %d sha %s token %d chars", b.Export.Size, b.Export.SHA256, len(b.Token))
	}
	if d := time.Until(b.Export.ExpiresAt); d < 6*24*time.Hour || d > 7*24*time.Hour {
		t.Errorf("the link expires in %s, want 7 days", d)
	}
	files := unzip(t, b.Export.Data)
	for _, name := range []string{"README.txt", "acme/contacts.json", "acme/contacts.csv", "acme/consent_events.json", "acme/consent_events.csv",
		"acme/inbound_replies.json", "acme/inbound_replies.csv", "acme/communications.json", "acme/communications.csv"} {
		if _, ok := files[name]; !ok {
			t.Errorf("the bundle lacks %s (has %v)", name, mapKeys(files))
		}
	}
	var contacts []struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Identifiers []struct {
			Value string `json:"value"`
		} `json:"identifiers"`
	}
	if err := json.Unmarshal([]byte(files["acme/contacts.json"]), &contacts); err != nil {
		t.Fatalf("contacts.json: %v\n%s", err, files["acme/contacts.json"])
	}
	if len(contacts) != 1 || contacts[0].ID != jane.ID || contacts[0].Name != "Jane Doe" || len(contacts[0].Identifiers) != 2 {
		t.Errorf("contacts.json holds %+v, want Jane alone with her two identifiers", contacts)
	}
	for file, want := range map[string]int{"consent_events": 3, "inbound_replies": 2, "communications": 2} {
		var rows []map[string]any
		if err := json.Unmarshal([]byte(files["acme/"+file+".json"]), &rows); err != nil {
			t.Fatalf("%s.json: %v", file, err)
		}
		records, err := csv.NewReader(strings.NewReader(files["acme/"+file+".csv"])).ReadAll()
		if err != nil {
			t.Fatalf("%s.csv: %v", file, err)
		}
		if len(rows) != want || len(records) != want+1 || b.Counts[file] != int64(want) {
			t.Errorf("%s: %d JSON rows, %d CSV lines, count %d; want %d rows and a header", file, len(rows), len(records), b.Counts[file], want)
		}
	}
	if strings.Contains(files["acme/contacts.csv"], "+14155550199") {
		t.Error("the bundle holds another person's data")
	}
	readme := files["README.txt"]
	for _, want := range []string{r.Reference, "From ACME (folder acme/)", "Contact details", "Consent history", "Your replies", "Communication records",
		"WHY (PURPOSES)", "RETENTION", "Apple Inc.", "CRM", "YOUR RIGHTS", "complain"} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q:\n%s", want, readme)
		}
	}

	// The link works until it expires; each download is audited.
	got, err := db.DownloadExport(ctx, store.SystemProcess("export-link", "").From("192.0.2.1"), b.Token)
	if err != nil || !bytes.Equal(got.Data, b.Export.Data) || got.Reference != r.Reference {
		t.Fatalf("download: %v", err)
	}
	if _, err := db.DownloadExport(ctx, modeltest.Staff, b.Token+"x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a wrong token: %v", err)
	}
	if err := db.Gorm.Model(&fulfilment.RequestExport{}).Where("id = ?", b.Export.ID).Update("expires_at", time.Now().Add(-time.Minute)).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := db.DownloadExport(ctx, modeltest.Staff, b.Token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired link: %v, want not found", err)
	}
	events, _ := db.ListAudit(ctx, modeltest.Staff, store.AuditFilter{Action: "request.export"})
	actions := []string{}
	for _, e := range events {
		actions = append(actions, e.Action)
		if e.ObjectID != r.ID || !strings.Contains(e.Details, r.Reference) {
			t.Errorf("%s does not name the request: %s %s", e.Action, e.ObjectID, e.Details)
		}
	}
	if strings.Join(actions, " ") != "request.export_download request.export" {
		t.Errorf("audit: %v", actions)
	}
	timeline, _ := db.Timeline(ctx, r)
	if last := timeline[len(timeline)-1]; last.Kind != "export" || !strings.Contains(last.Text, "Access bundle prepared for the requester") {
		t.Errorf("timeline ends with %s: %s", last.Kind, last.Text)
	}
}

func mapKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestExportBundleForOneControllerHoldsOnlyItsData(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, bright := mustCustomer(t, db, "acme"), mustCustomer(t, db, "bright")
	subject(t, db, acme)
	subject(t, db, bright)
	r := instructed(t, db, calendar.TypePortability, []string{janeEmail})
	b, err := db.ExportBundleFor(ctx, modeltest.Staff, r.ID, bright.ID)
	if err != nil {
		t.Fatal(err)
	}
	files := unzip(t, b.Export.Data)
	if _, ok := files["acme/contacts.json"]; ok || files["bright/contacts.json"] == "" || b.Export.CustomerID == nil {
		t.Errorf("bright's bundle holds %v", mapKeys(files))
	}
	if !strings.Contains(files["README.txt"], "This copy is for BRIGHT") {
		t.Errorf("README does not address the controller:\n%s", files["README.txt"])
	}
	other := mustCustomer(t, db, "other")
	if _, err := db.ExportBundleFor(ctx, modeltest.Staff, r.ID, other.ID); !isValidation(err, "for") {
		t.Errorf("a bundle for a customer the request was not routed to: %v", err)
	}
}

func TestEraseSubjectLeavesNothingReadable(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	subject(t, db, acme)
	bystander := subject(t, db, acme, "+14155550199")
	r := instructed(t, db, calendar.TypeErasure, []string{janePhone})
	bundle, err := db.ExportBundle(ctx, modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}

	res, err := db.EraseSubject(ctx, modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"contacts": 1, "contact_identifiers": 2, "consent_events": 3, "consent_states": 2, "inbound_replies": 2, "communications": 2}
	for table, n := range want {
		if res.Deleted[table] != n {
			t.Errorf("deleted %d %s, want %d", res.Deleted[table], table, n)
		}
	}
	if res.HashesAdded != 2 || res.KeptUnderHold != 0 || res.ExportsPurged != 1 {
		t.Errorf("result %+v", res)
	}
	for _, v := range []string{janePhone, janeEmail} {
		if cs, more, _ := db.ListContacts(ctx, modeltest.Staff, consent.ContactFilter{CustomerID: acme.ID, Query: v}, "US"); len(cs) != 0 || more {
			t.Errorf("ListContacts finds %s: %+v", v, cs)
		}
		if cs, _ := db.ContactsByIdentifier(ctx, modeltest.Staff, acme.ID, v, "US"); len(cs) != 0 {
			t.Errorf("ContactsByIdentifier finds %s", v)
		}
	}
	if ms, _ := db.FindPerson(ctx, modeltest.Staff, "", []string{janePhone, janeEmail}, "US"); len(ms) != 0 {
		t.Errorf("FindPerson finds %+v", ms)
	}
	// The bystander's data is all that is left.
	for table, n := range map[string]int64{"contacts": 1, "contact_identifiers": 1, "consent_events": 3, "inbound_replies": 2, "communications": 2} {
		if got := rowsIn(t, db, table, acme.ID); got != n {
			t.Errorf("%s: %d rows left, want the bystander's %d", table, got, n)
		}
	}
	if _, err := db.Contact(ctx, modeltest.Staff, bystander.ID); err != nil {
		t.Errorf("the bystander's contact: %v", err)
	}
	if _, err := db.DownloadExport(ctx, modeltest.Staff, bundle.Token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the erased person's bundle still downloads: %v", err)
	}

	// The person is never messaged again: the suppression check answers erasure.
	s, err := db.CheckSuppression(ctx, acme.ID, store.Identifier{Kind: store.KindPhone, Value: janePhone}, consent.ChannelFaceTime)
	if err != nil || !s.Suppressed || s.Reason != consent.ReasonErasure || s.Since == nil || time.Since(*s.Since) > time.Minute {
		t.Errorf("CheckSuppression after erasure: %+v, %v", s, err)
	}
	many, err := db.CheckSuppressions(ctx, acme.ID, []store.Identifier{{Kind: store.KindEmail, Value: janeEmail},
		{Kind: store.KindPhone, Value: "+14155550100"}, {Kind: store.KindPhone, Value: "+14155550199"}, {Kind: store.KindPhone, Value: janePhone}}, "")
	if err != nil || len(many) != 4 || many[0].Reason != consent.ReasonErasure || many[1].Suppressed || many[2].Reason != consent.ReasonOptOut ||
		many[3].Reason != consent.ReasonErasure || many[3].To != janePhone {
		t.Errorf("CheckSuppressions after erasure: %+v, %v", many, err)
	}
	other := mustCustomer(t, db, "other")
	if s, _ := db.CheckSuppression(ctx, other.ID, store.Identifier{Kind: store.KindPhone, Value: janePhone}, ""); s.Suppressed {
		t.Errorf("the erasure at acme suppressed the number at another customer: %+v", s)
	}

	// No identifier is left in clear in the audit log or the erasure's timeline entry.
	audit, _ := db.ListAudit(ctx, modeltest.Staff, store.AuditFilter{Limit: 500})
	for _, e := range audit {
		if strings.Contains(e.Details, janePhone) || strings.Contains(e.Details, janeEmail) || strings.Contains(e.Details, "Jane") {
			t.Errorf("audit %s keeps an identifier: %s", e.Action, e.Details)
		}
	}
	var erase store.AuditEvent
	for _, e := range audit {
		if e.Action == "request.erase" {
			erase = e
			break
		}
	}
	if !strings.Contains(erase.Details, `"consent_events":3`) || !strings.Contains(erase.Details, `"kept_under_legal_hold":0`) {
		t.Errorf("request.erase details: %s", erase.Details)
	}
	timeline, _ := db.Timeline(ctx, r)
	last := timeline[len(timeline)-1]
	if last.Kind != "erase" || !strings.Contains(last.Text, "kept under legal hold: 0") || strings.Contains(last.Text, janePhone) {
		t.Errorf("timeline: %s %q", last.Kind, last.Text)
	}

	// Erasing again changes nothing, and the suppression keeps its date.
	var before []consent.ErasedIdentifier
	db.Gorm.Order("hash").Find(&before)
	again, err := db.EraseSubject(ctx, modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var after []consent.ErasedIdentifier
	db.Gorm.Order("hash").Find(&after)
	if again.HashesAdded != 0 || again.ExportsPurged != 0 || len(after) != len(before) || !after[0].Since.Equal(before[0].Since) {
		t.Errorf("a second erasure: %+v; suppression list %d → %d rows", again, len(before), len(after))
	}
	for table, n := range again.Deleted {
		if n != 0 {
			t.Errorf("a second erasure deleted %d %s", n, table)
		}
	}
	if rep, err := db.VerifyAudit(ctx); err != nil || !rep.Intact() {
		t.Errorf("audit chain: %+v %v", rep, err)
	}
}

func TestEraseNeedsAnErasureRequestInProgress(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	subject(t, db, acme)
	access := instructed(t, db, calendar.TypeAccess, []string{janePhone})
	received := newRequest(t, db, requests.RequestInput{Type: calendar.TypeErasure, Regime: "gdpr", Identifiers: []string{janePhone},
		Requester: requests.Requester{Email: janeEmail}})
	denied := instructed(t, db, calendar.TypeDelete, []string{janePhone}, acme)
	tests := []struct {
		name  string
		id    string
		field string
	}{
		{"an access request", access.ID, "type"},
		{"an erasure request just received", received.ID, "status"},
		{"an erasure every controller denied", denied.ID, "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.EraseSubject(ctx, modeltest.Staff, tt.id)
			if c, ok := errs.AsConflict(err); !ok || c.Field != tt.field {
				t.Errorf("got %v, want a conflict on %s", err, tt.field)
			}
		})
	}
	customer := store.CustomerUser(uuid.NewString(), "", acme.ID, "")
	if _, err := db.EraseSubject(ctx, customer, denied.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a customer user erased: %v", err)
	}
	if n := rowsIn(t, db, "contacts", acme.ID); n != 1 {
		t.Errorf("refused erasures left %d contacts, want 1", n)
	}
}

func TestEraseActsOnlyForControllersThatInstructedIt(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, bright, late, other := mustCustomer(t, db, "acme"), mustCustomer(t, db, "bright"), mustCustomer(t, db, "late"), mustCustomer(t, db, "other")
	subject(t, db, acme)
	subject(t, db, bright)
	subject(t, db, other, "+14155550199")
	r := instructed(t, db, calendar.TypeErasure, []string{janePhone, janeEmail}, bright)
	subject(t, db, late) // holds Jane too, but only since the request was routed

	if _, err := db.EraseSubject(ctx, modeltest.Staff, r.ID); err != nil {
		t.Fatal(err)
	}
	if n := rowsIn(t, db, "contacts", acme.ID); n != 0 {
		t.Errorf("acme, which approved, keeps %d contacts", n)
	}
	for _, c := range []*customers.Customer{bright, late, other} {
		for table, n := range map[string]int64{"contacts": 1, "consent_events": 3, "inbound_replies": 2, "communications": 2} {
			if got := rowsIn(t, db, table, c.ID); got != n {
				t.Errorf("%s: %d %s left, want %d", c.Slug, got, table, n)
			}
		}
		if got := rowsIn(t, db, "erased_identifiers", c.ID); got != 0 {
			t.Errorf("%s has %d erased identifiers", c.Slug, got)
		}
	}
	if s, _ := db.CheckSuppression(ctx, bright.ID, store.Identifier{Kind: store.KindPhone, Value: janePhone}, ""); s.Reason != consent.ReasonOptOut {
		t.Errorf("bright, which denied, answers %+v; want its own opt-out, not an erasure", s)
	}

	// Routed to both and approved by both, both erase.
	both := mustCustomer(t, db, "both")
	subject(t, db, both, "+14155550177")
	again := mustCustomer(t, db, "again")
	subject(t, db, again, "+14155550177")
	r2 := instructed(t, db, calendar.TypeChildData, []string{"+14155550177"})
	res, err := db.EraseSubject(ctx, modeltest.Staff, r2.ID)
	if err != nil || res.Deleted["contacts"] != 2 || rowsIn(t, db, "contacts", both.ID)+rowsIn(t, db, "contacts", again.ID) != 0 {
		t.Errorf("erasure routed to two controllers: %+v %v", res, err)
	}
}

func TestLegalHoldsKeepDataUntilReleased(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	byPhone := subject(t, db, acme, janePhone)
	byEmail := subject(t, db, acme, janeEmail)
	r := instructed(t, db, calendar.TypeErasure, []string{janePhone, janeEmail})
	hold, err := db.HoldIdentifier(ctx, modeltest.Staff, acme.ID, "(415) 555-0123", "litigation hold, case 2026-14", "US")
	if err != nil {
		t.Fatal(err)
	}
	if hold.IdentifierHash == nil || strings.Contains(*hold.IdentifierHash, "555") {
		t.Errorf("the hold stores %v, want a hash", hold.IdentifierHash)
	}

	res, err := db.EraseSubject(ctx, modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.KeptUnderHold != 1 || res.Deleted["contacts"] != 1 || res.HashesAdded != 2 {
		t.Errorf("erasure with a hold: %+v", res)
	}
	kept, err := db.Contact(ctx, modeltest.Staff, byPhone.ID)
	if err != nil || kept.Name != "Jane Doe" || len(kept.Identifiers) != 1 {
		t.Fatalf("the held contact: %+v %v", kept, err)
	}
	if _, err := db.Contact(ctx, modeltest.Staff, byEmail.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the contact without a hold survived: %v", err)
	}
	history, _ := db.ConsentHistory(ctx, modeltest.Staff, kept)
	if len(history) != 4 || history[3].Reason != consent.ReasonErasure {
		t.Errorf("the held contact's ledger: %d events, want its 3 and an erasure opt-out", len(history))
	}
	s, _ := db.CheckSuppression(ctx, acme.ID, store.Identifier{Kind: store.KindPhone, Value: janePhone}, "")
	if !s.Suppressed || s.Reason != consent.ReasonErasure {
		t.Errorf("a held contact is still messaged: %+v", s)
	}
	if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{ContactID: kept.ID, Kind: consent.OptIn, Evidence: "said yes"}, "US"); !isConflict(err) {
		t.Errorf("an opt-in lifted an erasure: %v", err)
	}
	timeline, _ := db.Timeline(ctx, r)
	if last := timeline[len(timeline)-1]; !strings.Contains(last.Text, "kept under legal hold: 1") {
		t.Errorf("timeline: %q", last.Text)
	}

	// A second erasure keeps it too, without a second erasure event.
	if res, err := db.EraseSubject(ctx, modeltest.Staff, r.ID); err != nil || res.KeptUnderHold != 1 || res.Deleted["contacts"] != 0 {
		t.Errorf("erasing again under the hold: %+v %v", res, err)
	}
	if history, _ := db.ConsentHistory(ctx, modeltest.Staff, kept); len(history) != 4 {
		t.Errorf("erasing again appended to the ledger: %d events", len(history))
	}

	// Once released, the next erasure removes it; the suppression stays.
	if _, err := db.ReleaseHold(ctx, modeltest.Staff, r.ID, hold.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ReleaseHold(ctx, modeltest.Staff, r.ID, hold.ID); !isConflict(err) {
		t.Errorf("releasing twice: %v", err)
	}
	if res, err := db.EraseSubject(ctx, modeltest.Staff, r.ID); err != nil || res.KeptUnderHold != 0 || res.Deleted["contacts"] != 1 || res.Deleted["consent_events"] != 4 {
		t.Errorf("erasure after the release: %+v %v", res, err)
	}
	if s, _ := db.CheckSuppression(ctx, acme.ID, store.Identifier{Kind: store.KindPhone, Value: janePhone}, ""); !s.Suppressed || s.Reason != consent.ReasonErasure {
		t.Errorf("after the held data went: %+v", s)
	}
	acts := []string{}
	events, _ := db.ListAudit(ctx, modeltest.Staff, store.AuditFilter{Action: "legal_hold."})
	for _, e := range events {
		acts = append(acts, e.Action)
	}
	if strings.Join(acts, " ") != "legal_hold.release legal_hold.place" {
		t.Errorf("audit: %v", acts)
	}
}

func TestHoldSubjectHoldsEveryContactOfTheRequestOnce(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, bright := mustCustomer(t, db, "acme"), mustCustomer(t, db, "bright")
	subject(t, db, acme)
	subject(t, db, bright)
	r := instructed(t, db, calendar.TypeErasure, []string{janePhone})
	if _, err := db.HoldSubject(ctx, modeltest.Staff, r.ID, " "); !isValidation(err, "reason") {
		t.Errorf("a hold without a reason: %v", err)
	}
	n, err := db.HoldSubject(ctx, modeltest.Staff, r.ID, "tax audit")
	if err != nil || n != 2 {
		t.Fatalf("placed %d holds, %v; want 2", n, err)
	}
	if _, err := db.HoldSubject(ctx, modeltest.Staff, r.ID, "tax audit"); !isConflict(err) {
		t.Errorf("holding the same contacts again: %v", err)
	}
	st, err := db.Fulfilment(ctx, modeltest.Staff, r)
	if err != nil || !st.Instructed || len(st.Subjects) != 2 {
		t.Fatalf("fulfilment state: %+v %v", st, err)
	}
	for _, sd := range st.Subjects {
		if len(sd.Contacts) != 1 || sd.Holds[sd.Contacts[0].ID].Reason != "tax audit" {
			t.Errorf("%s: %d contacts, holds %+v", sd.Customer.Slug, len(sd.Contacts), sd.Holds)
		}
	}
	res, err := db.EraseSubject(ctx, modeltest.Staff, r.ID)
	if err != nil || res.KeptUnderHold != 2 || res.Deleted["contacts"] != 0 {
		t.Errorf("erasure of a fully held subject: %+v %v", res, err)
	}
}

func TestRectificationRecordsBeforeAndAfter(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	jane := subject(t, db, acme)
	stranger := subject(t, db, acme, "+14155550199")
	r := instructed(t, db, calendar.TypeRectification, []string{janePhone})

	in := consent.ContactInput{Name: "Jane Roe", CRMID: "crm-42", Identifiers: []string{janePhone, "jane.roe@example.com"}}
	if _, err := db.Rectify(ctx, modeltest.Staff, r.ID, stranger.ID, in, "US"); !isValidation(err, "contact") {
		t.Errorf("rectifying someone else's contact: %v", err)
	}
	if _, err := db.Rectify(ctx, modeltest.Staff, r.ID, jane.ID, consent.ContactInput{Name: "Jane Doe", CRMID: "crm-42",
		Identifiers: []string{janeEmail, janePhone}}, "US"); !isValidation(err, "contact") {
		t.Errorf("a rectification that changes nothing: %v", err)
	}
	c, err := db.Rectify(ctx, modeltest.Staff, r.ID, jane.ID, in, "US")
	if err != nil || c.Name != "Jane Roe" || !slices.Contains(c.Values(), "jane.roe@example.com") || slices.Contains(c.Values(), janeEmail) {
		t.Fatalf("rectified contact: %+v %v", c, err)
	}
	events, _ := db.ListAudit(ctx, modeltest.Staff, store.AuditFilter{Action: "request.rectify"})
	if len(events) != 1 {
		t.Fatalf("%d request.rectify entries", len(events))
	}
	var details struct {
		Contact string                                `json:"contact"`
		Changes map[string]map[string]json.RawMessage `json:"changes"`
	}
	if err := json.Unmarshal([]byte(events[0].Details), &details); err != nil {
		t.Fatal(err)
	}
	if details.Contact != jane.ID || string(details.Changes["name"]["before"]) != `"Jane Doe"` || string(details.Changes["name"]["after"]) != `"Jane Roe"` ||
		!strings.Contains(string(details.Changes["identifiers"]["after"]), "jane.roe@example.com") || details.Changes["crm_id"] != nil {
		t.Errorf("rectify details: %s", events[0].Details)
	}
	timeline, _ := db.Timeline(ctx, r)
	if last := timeline[len(timeline)-1]; last.Kind != "rectify" || !strings.Contains(last.Text, "identifiers, name corrected") {
		t.Errorf("timeline: %s %q", last.Kind, last.Text)
	}
	erasure := instructed(t, db, calendar.TypeErasure, []string{janePhone})
	if _, err := db.Rectify(ctx, modeltest.Staff, erasure.ID, jane.ID, in, "US"); !isConflict(err) {
		t.Errorf("rectifying under an erasure request: %v", err)
	}
}

func TestRecordCommunicationChecksItsInput(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, other := mustCustomer(t, db, "acme"), mustCustomer(t, db, "other")
	c, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{janePhone}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	good := registers.CommunicationInput{ContactID: c.ID, Channel: "FaceTime", Direction: registers.DirectionOutbound, DeliveryStatus: "answered"}
	tests := []struct {
		name  string
		edit  func(*registers.CommunicationInput)
		field string
	}{
		{"an unknown channel", func(in *registers.CommunicationInput) { in.Channel = "sms" }, "channel"},
		{"an unknown direction", func(in *registers.CommunicationInput) { in.Direction = "sideways" }, "direction"},
		{"an unknown status", func(in *registers.CommunicationInput) { in.DeliveryStatus = "lost" }, "delivery_status"},
		{"a future time", func(in *registers.CommunicationInput) { in.OccurredAt = time.Now().Add(time.Hour) }, "occurred_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good
			tt.edit(&in)
			if _, err := db.RecordCommunication(ctx, modeltest.Staff, acme.ID, in); !isValidation(err, tt.field) {
				t.Errorf("got %v, want a validation error on %s", err, tt.field)
			}
		})
	}
	if _, err := db.RecordCommunication(ctx, modeltest.Staff, other.ID, good); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a communication with another customer's contact: %v", err)
	}
	otherUser := store.CustomerUser(uuid.NewString(), "", other.ID, "")
	if _, err := db.RecordCommunication(ctx, otherUser, acme.ID, good); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another tenant recorded a communication: %v", err)
	}
	rec, err := db.RecordCommunication(ctx, modeltest.Staff, acme.ID, good)
	if err != nil || rec.Channel != consent.ChannelFaceTime || rowsIn(t, db, "communications", acme.ID) != 1 {
		t.Errorf("recorded %+v, %v", rec, err)
	}
}
