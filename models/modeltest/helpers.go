// What the models' tests share besides a fresh database: customers, users
// and requests made the way the tests need them, the audit entries a change
// wrote, and checks of the errors the models return.

package modeltest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"
	"github.com/sendara/console/models"
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"
	customers "github.com/sendara/console/models/customers"
	errs "github.com/sendara/console/models/errs"
	outbox "github.com/sendara/console/models/outbox"
	registers "github.com/sendara/console/models/registers"
	requests "github.com/sendara/console/models/requests"
	store "github.com/sendara/console/models/store"
)

// Verify walks the audit chain and returns its report.
func Verify(t testing.TB, db *models.DB) store.ChainReport {
	t.Helper()
	rep, err := db.VerifyAudit(t.Context())
	if err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	return rep
}

// LastAuditDetails is the details of the newest audit entry of action about
// object, as stored.
func LastAuditDetails(t *testing.T, db *models.DB, action, objectID string) string {
	t.Helper()
	var details string
	if err := db.Gorm.Raw("SELECT details FROM audit_events WHERE action = ? AND object_id = ? ORDER BY seq DESC LIMIT 1",
		action, objectID).Scan(&details).Error; err != nil {
		t.Fatal(err)
	}
	return details
}

// RequesterMail is the newest mail of kind to the requester of r.
func RequesterMail(t *testing.T, db *models.DB, r *requests.PrivacyRequest, kind string) *outbox.OutboxMail {
	t.Helper()
	ms, err := db.Outbox(context.Background(), Staff, outbox.OutboxFilter{RequestID: r.ID, Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ToAddr == r.RequesterEmail {
			return &m
		}
	}
	t.Fatalf("no %s mail to %s", kind, r.RequesterEmail)
	return nil
}

// TimelineText is a request's timeline as one text, for assertions on what it says.
func TimelineText(t *testing.T, db *models.DB, r *requests.PrivacyRequest) string {
	t.Helper()
	evs, err := db.Timeline(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.Text + "\n")
	}
	return b.String()
}

// LosAngeles is the America/Los_Angeles zone; the test fails without tzdata.
func LosAngeles(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// MustDate parses a YYYY-MM-DD civil date or fails the test.
func MustDate(t *testing.T, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// NoonIn is midday on a civil date in loc: far from midnight, so only the
// date matters.
func NoonIn(t *testing.T, day string, loc *time.Location) time.Time {
	t.Helper()
	d := MustDate(t, day)
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, loc)
}

// Jane is the data subject of the request tests.
const (
	JanePhone = "+14155550123"
	JaneEmail = "jane@example.com"
)

// Subject gives customer a contact for Jane with some history: an opt-out
// and a later opt-in, a STOP reply, an ordinary reply and two
// communication records.
func Subject(t *testing.T, db *models.DB, c *customers.Customer, ids ...string) *consent.Contact {
	t.Helper()
	ctx := context.Background()
	if len(ids) == 0 {
		ids = []string{JanePhone, JaneEmail}
	}
	contact, err := db.CreateContact(ctx, Staff, c.ID, consent.ContactInput{Identifiers: ids, Name: "Jane Doe", CRMID: "crm-42"}, "US")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-48 * time.Hour)
	steps := []consent.ConsentInput{
		{ContactID: contact.ID, Kind: consent.OptOut, OccurredAt: base},
		{ContactID: contact.ID, Kind: consent.OptIn, Evidence: "web form, ticked the box", OccurredAt: base.Add(time.Hour)},
	}
	for _, in := range steps {
		if _, err := db.RecordConsent(ctx, Staff, c.ID, in, "US"); err != nil {
			t.Fatal(err)
		}
	}
	for i, body := range []string{"Hello, is this the dentist?", "STOP"} {
		if _, err := db.RecordInbound(ctx, Staff, c.ID, ids[0], body, base.Add(time.Duration(2+i)*time.Hour), "US", calendar.Business{Loc: time.UTC, Calendar: calendar.DefaultCalendar()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{registers.DirectionOutbound, registers.DirectionInbound} {
		if _, err := db.RecordCommunication(ctx, Staff, c.ID, registers.CommunicationInput{ContactID: contact.ID,
			Channel: consent.ChannelIMessage, Direction: dir, DeliveryStatus: "delivered", OccurredAt: base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	return contact
}

// Instructed records a request of typ about ids, verifies and routes it,
// and has every controller approve it except those in deny, which deny:
// the request is then in progress.
func Instructed(t *testing.T, db *models.DB, typ string, ids []string, deny ...*customers.Customer) *requests.PrivacyRequest {
	t.Helper()
	ctx := context.Background()
	r := NewRequest(t, db, requests.RequestInput{Type: typ, Regime: "gdpr", Identifiers: ids, Requester: requests.Requester{Email: JaneEmail}})
	if _, err := db.VerifyManually(ctx, Staff, r.ID, "email_reply", "replied from the address on file"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Route(ctx, Staff, La(t), r.ID, "https://console.example/inbox"); err != nil {
		t.Fatal(err)
	}
	tasks, err := db.Tasks(ctx, Staff, r.ID)
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
	r, err = db.Request(ctx, Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// OptInCheck is the suppression check's answer for value as the pipeline
// reads it: "opted_out", "opted_in" or "no_record".
func OptInCheck(t *testing.T, db *models.DB, c *customers.Customer, value string) string {
	t.Helper()
	s, err := db.CheckSuppression(context.Background(), c.ID, BulkIdent(value), "")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case s.Suppressed:
		return "opted_out"
	case s.OptedIn:
		return "opted_in"
	}
	return "no_record"
}

// AuditActions lists the audit entries the filter store.AuditFilter{Action:
// prefix} finds, as staff see them.
func AuditActions(t testing.TB, db *models.DB, prefix string) []store.AuditEvent {
	t.Helper()
	events, err := db.ListAudit(t.Context(), Staff, store.AuditFilter{Action: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// ProofsPDF is a small file whose content sniffs as a PDF.
var ProofsPDF = []byte("%PDF-1.4\n% signed permission from Jane Doe for Agent Smith\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")

// Exec runs raw SQL on the test database or fails the test.
func Exec(t *testing.T, db *models.DB, sql string, args ...any) {
	t.Helper()
	if err := db.Gorm.Exec(sql, args...).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// La is the default business calendar (calendar.DefaultBusiness).
func La(t *testing.T) calendar.Business {
	t.Helper()
	return calendar.DefaultBusiness()
}

// NewRequest creates a privacy request from in as staff, or fails the test.
func NewRequest(t *testing.T, db *models.DB, in requests.RequestInput) *requests.PrivacyRequest {
	t.Helper()
	if in.Channel == "" {
		in.Channel = "api"
	}
	r, err := db.CreateRequest(context.Background(), Staff, La(t), in, "US")
	if err != nil {
		t.Fatalf("create request: %v", err)
	}
	return r
}

// IsConflict reports whether err is the models' conflict error.
func IsConflict(err error) bool { _, ok := errs.AsConflict(err); return ok }

// IsValidation reports whether err is a validation error naming field.
func IsValidation(err error, field string) bool {
	v, ok := errs.AsValidation(err)
	return ok && v.Field == field
}

// MustCustomer creates a customer with slug, named as the slug in capitals
// (the name the reports tests read), or fails the test.
func MustCustomer(t *testing.T, db *models.DB, slug string) *customers.Customer {
	t.Helper()
	c, err := db.CreateCustomer(context.Background(), Staff, customers.CustomerInput{Slug: slug, Name: strings.ToUpper(slug)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// CustomerActor is a user of c (an id derived from c's), as an actor
// scoped to c; no user row backs it.
func CustomerActor(t *testing.T, db *models.DB, c *customers.Customer) store.Actor {
	t.Helper()
	return store.CustomerUser("00000000-0000-7000-8000-"+c.ID[len(c.ID)-12:], "admin@"+c.Slug, c.ID, "")
}

// Login signs in with a password as from TestIP, or fails the test.
func Login(t testing.TB, db *models.DB, email, password string) *accounts.LoginResult {
	t.Helper()
	res, err := db.Login(t.Context(), email, password, TestIP, "test agent", TestPolicy)
	if err != nil {
		t.Fatalf("Login %s: %v", email, err)
	}
	return res
}

// Enrolled signs in a staff user, enrols TOTP and returns a fresh login
// that still has to pass the second factor, with the recovery codes.
func Enrolled(t *testing.T, db *models.DB) (res *accounts.LoginResult, secret string, codes []string) {
	t.Helper()
	u := NewUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", GoodPassword)
	first := Login(t, db, u.Email, GoodPassword)
	key, err := db.BeginTOTP(t.Context(), first.User)
	if err != nil {
		t.Fatalf("BeginTOTP: %v", err)
	}
	code, err := totp.GenerateCode(key.Secret(), time.Now())
	if err != nil {
		t.Fatalf("GenerateCode: %v", err)
	}
	codes, err = db.ConfirmTOTP(t.Context(), u.Actor(TestIP), first.Token, key.Secret(), code)
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	return Login(t, db, u.Email, GoodPassword), key.Secret(), codes
}

// NextCode is the code of the next time step: enrolment spent the current
// one, and a used step is refused as a replay. It is within the accepted
// clock skew.
func NextCode(t *testing.T, secret string) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatalf("GenerateCode: %v", err)
	}
	return code
}

// TestIP is the address the account tests act from.
const (
	TestIP = "192.0.2.10"
	// GoodPassword passes the password policy for every fixture email.
	GoodPassword = "violet tractor murmurs 1987"
)

// TestPolicy is the session policy the account tests sign in under.
var TestPolicy = accounts.SessionPolicy{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}

// NewCustomer creates a customer with slug, named "Customer <slug>", or
// fails the test.
func NewCustomer(t testing.TB, db *models.DB, slug string) *customers.Customer {
	t.Helper()
	c, err := db.CreateCustomer(t.Context(), Staff, customers.CustomerInput{Slug: slug, Name: "Customer " + slug})
	if err != nil {
		t.Fatalf("create customer %s: %v", slug, err)
	}
	return c
}

// NewUser creates a user as the system; an empty password leaves the user
// waiting for an invitation (and skips the slow hash).
func NewUser(t testing.TB, db *models.DB, email string, role accounts.Role, customerID, password string) *accounts.User {
	t.Helper()
	u, err := db.CreateUser(t.Context(), Staff, accounts.UserInput{
		Email: email, Name: "Test " + string(role), Role: role, CustomerID: customerID, Password: password})
	if err != nil {
		t.Fatalf("create user %s (%s): %v", email, role, err)
	}
	return u
}

// AuditEvents lists the events with exactly this action, newest first.
func AuditEvents(t testing.TB, db *models.DB, action string) []store.AuditEvent {
	t.Helper()
	all, err := db.ListAudit(t.Context(), Staff, store.AuditFilter{Action: action, Limit: 500})
	if err != nil {
		t.Fatalf("list audit events %s: %v", action, err)
	}
	var out []store.AuditEvent
	for _, e := range all {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// OnlyAuditEvent returns the single event with this action.
func OnlyAuditEvent(t testing.TB, db *models.DB, action string) store.AuditEvent {
	t.Helper()
	es := AuditEvents(t, db, action)
	if len(es) != 1 {
		t.Fatalf("audit events %s: got %d, want 1", action, len(es))
	}
	return es[0]
}

// DetailsOf decodes an audit entry's details.
func DetailsOf(t testing.TB, e store.AuditEvent) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(e.Details), &d); err != nil {
		t.Fatalf("audit event %d details %q: %v", e.Seq, e.Details, err)
	}
	return d
}

// WantInvalid fails unless err is a ValidationError on field.
func WantInvalid(t testing.TB, err error, field string) {
	t.Helper()
	v, ok := errs.AsValidation(err)
	if !ok {
		t.Fatalf("error = %v, want a ValidationError on %q", err, field)
	}
	if v.Field != field {
		t.Fatalf("ValidationError on %q (%s), want field %q", v.Field, v.Message, field)
	}
}

// BulkIdent is value as an identifier: an e-mail when it holds an @, else
// a phone number, as written (not normalized).
func BulkIdent(value string) store.Identifier {
	if strings.Contains(value, "@") {
		return store.Identifier{Kind: store.KindEmail, Value: value}
	}
	return store.Identifier{Kind: store.KindPhone, Value: value}
}
