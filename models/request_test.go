package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	casework "github.com/sendara/console/models/casework"

	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	requests "github.com/sendara/console/models/requests"

	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func la(t *testing.T) calendar.Business {
	t.Helper()
	return calendar.DefaultBusiness()
}

func newRequest(t *testing.T, db *models.DB, in requests.RequestInput) *requests.PrivacyRequest {
	t.Helper()
	if in.Channel == "" {
		in.Channel = "api"
	}
	r, err := db.CreateRequest(context.Background(), modeltest.Staff, la(t), in, "US")
	if err != nil {
		t.Fatalf("create request: %v", err)
	}
	return r
}

func TestRequestsGetSequentialReferencesAndDeadlines(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	received := time.Date(2026, 5, 10, 19, 0, 0, 0, time.UTC) // 12:00 in Los Angeles
	tests := []struct {
		typ, regime string
		due, ack    string
	}{
		{calendar.TypeAccess, calendar.RegimeGDPR, "2026-06-10", ""},
		{calendar.TypeKnow, calendar.RegimeCCPA, "2026-06-24", "2026-05-22"},
		{calendar.TypeOptOutSale, calendar.RegimeCCPA, "2026-06-01", ""},
		{calendar.TypeErasure, calendar.RegimeOther, "2026-06-10", ""},
	}
	ref := regexp.MustCompile(`^PR-2026-\d{6}$`)
	seen := map[string]bool{}
	for _, tt := range tests {
		r := newRequest(t, db, requests.RequestInput{Type: tt.typ, Regime: tt.regime, ReceivedAt: received,
			Requester: requests.Requester{Email: "Jane@Example.com"}})
		if !ref.MatchString(r.Reference) || seen[r.Reference] {
			t.Errorf("reference %q is malformed or repeated", r.Reference)
		}
		seen[r.Reference] = true
		if r.DueOn.String() != tt.due || derefOrEmpty(r.AckDueOn) != tt.ack {
			t.Errorf("%s/%s: due %s ack %v, want %s / %q", tt.typ, tt.regime, r.DueOn, derefOrEmpty(r.AckDueOn), tt.due, tt.ack)
		}
		if ids := r.Identifiers(); len(ids) != 1 || ids[0] != "jane@example.com" {
			t.Errorf("an end user's request is about the requester: %v", ids)
		}
	}
	if _, ok := seen["PR-2026-000001"]; !ok {
		t.Errorf("the first reference of the year is not PR-2026-000001: %v", seen)
	}
}

func derefOrEmpty(d *calendar.Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

func TestCreateRequestRefusesBadInputNamingTheField(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	tests := []struct {
		name  string
		in    requests.RequestInput
		field string
	}{
		{"an unknown type", requests.RequestInput{Type: "wish", Requester: requests.Requester{Email: "a@example.com"}}, "type"},
		{"an unknown regime", requests.RequestInput{Type: "access", Regime: "mars", Requester: requests.Requester{Email: "a@example.com"}}, "regime"},
		{"no way to answer", requests.RequestInput{Type: "access", Regime: "gdpr"}, "requester.email"},
		{"a bad email", requests.RequestInput{Type: "access", Regime: "gdpr", Requester: requests.Requester{Email: "nope"}}, "requester.email"},
		{"a bad subject identifier", requests.RequestInput{Type: "access", Regime: "gdpr", Requester: requests.Requester{Email: "a@example.com"}, Identifiers: []string{"xyz"}}, "subject_identifiers[0]"},
		{"an agent without proof", requests.RequestInput{Type: "access", Regime: "gdpr", Identifiers: []string{"+14155550123"},
			Requester: requests.Requester{Email: "agent@example.com", Relationship: "authorized_agent"}}, "requester.proof"},
		{"an agent without the subject", requests.RequestInput{Type: "access", Regime: "gdpr",
			Requester: requests.Requester{Email: "agent@example.com", Relationship: "authorized_agent", Proof: "signed"}}, "subject_identifiers"},
		{"a future receipt", requests.RequestInput{Type: "access", Regime: "gdpr", ReceivedAt: time.Now().Add(time.Hour), Requester: requests.Requester{Email: "a@example.com"}}, "received_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Channel = "api"
			_, err := db.CreateRequest(context.Background(), modeltest.Staff, la(t), tt.in, "US")
			v, ok := errs.AsValidation(err)
			if !ok || v.Field != tt.field {
				t.Errorf("got %v, want a validation error on %s", err, tt.field)
			}
		})
	}
	if rs, _ := db.ListRequests(context.Background(), modeltest.Staff, casework.RequestFilter{View: "open"}); len(rs) != 0 {
		t.Errorf("refused requests left %d rows", len(rs))
	}
}

func TestRequestLifecycleAllowsOnlyItsTransitions(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	r := newRequest(t, db, requests.RequestInput{Type: "access", Regime: "gdpr", Requester: requests.Requester{Email: "a@example.com"}})
	if _, err := db.SetStatus(ctx, modeltest.Staff, r.ID, requests.StatusCompleted, ""); !isConflict(err) {
		t.Errorf("received → completed: %v, want a conflict", err)
	}
	if _, err := db.SetStatus(ctx, modeltest.Staff, r.ID, requests.StatusDenied, ""); !isValidation(err, "reason") {
		t.Errorf("a denial without a reason: %v", err)
	}
	if _, err := db.SkipVerification(ctx, modeltest.Staff, r.ID, ""); !isValidation(err, "reason") {
		t.Errorf("skipping verification without a reason: %v", err)
	}
	if _, err := db.VerifyManually(ctx, modeltest.Staff, r.ID, "phone_call", "called back on the number on file"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetStatus(ctx, modeltest.Staff, r.ID, requests.StatusInProgress, ""); err != nil {
		t.Fatal(err)
	}
	done, err := db.SetStatus(ctx, modeltest.Staff, r.ID, requests.StatusCompleted, "sent the export")
	if err != nil || done.CompletedAt == nil || done.Outcome != "sent the export" {
		t.Fatalf("completion: %+v %v", done, err)
	}
	if _, err := db.SetStatus(ctx, modeltest.Staff, r.ID, requests.StatusWithdrawn, ""); !isConflict(err) {
		t.Errorf("a closed request changed status: %v", err)
	}
	timeline, _ := db.Timeline(ctx, done)
	kinds := []string{}
	for _, e := range timeline {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, ",") != "received,email_out,verify,status,status,email_out" {
		t.Errorf("timeline kinds %v", kinds)
	}
}

func isConflict(err error) bool { _, ok := errs.AsConflict(err); return ok }

func isValidation(err error, field string) bool {
	v, ok := errs.AsValidation(err)
	return ok && v.Field == field
}

func TestExtensionsFollowTheRegime(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	gdpr := newRequest(t, db, requests.RequestInput{Type: "access", Regime: "gdpr", Requester: requests.Requester{Email: "a@example.com"}})
	if _, err := db.Extend(ctx, modeltest.Staff, la(t), gdpr.ID, ""); !isValidation(err, "reason") {
		t.Errorf("an extension without reasons: %v", err)
	}
	ext, err := db.Extend(ctx, modeltest.Staff, la(t), gdpr.ID, "many systems to search")
	if err != nil || ext.ExtendedTo == nil || !ext.EffectiveDueOn().After(gdpr.DueOn) {
		t.Fatalf("GDPR extension: %+v %v", ext, err)
	}
	if _, err := db.Extend(ctx, modeltest.Staff, la(t), gdpr.ID, "again"); !isConflict(err) {
		t.Errorf("a second extension: %v", err)
	}
	optOut := newRequest(t, db, requests.RequestInput{Type: "opt_out_sale", Regime: "ccpa", Requester: requests.Requester{Email: "b@example.com"}})
	if _, err := db.Extend(ctx, modeltest.Staff, la(t), optOut.ID, "busy"); err == nil {
		t.Error("a CCPA opt-out of sale was extended")
	}
	late := newRequest(t, db, requests.RequestInput{Type: "access", Regime: "gdpr", ReceivedAt: time.Now().AddDate(0, -2, 0),
		Requester: requests.Requester{Email: "c@example.com"}})
	if _, err := db.Extend(ctx, modeltest.Staff, la(t), late.ID, "late"); !isValidation(err, "extension") {
		t.Errorf("an extension after the first month: %v", err)
	}
}

func TestAStopRequestSuppressesAtIntakeAndRoutingInformsEachController(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	bright := mustCustomer(t, db, "bright")
	other := mustCustomer(t, db, "other")
	for _, c := range []*customers.Customer{acme, bright} {
		if _, err := db.CreateContact(ctx, modeltest.Staff, c.ID, consent.ContactInput{Identifiers: []string{"+14155550123"}}, "US"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.CreateContact(ctx, modeltest.Staff, other.ID, consent.ContactInput{Identifiers: []string{"+14155550999"}}, "US"); err != nil {
		t.Fatal(err)
	}
	r := newRequest(t, db, requests.RequestInput{Type: calendar.TypeObjection, Regime: "gdpr", Identifiers: []string{"(415) 555-0123"},
		Requester: requests.Requester{Email: "jane@example.com"}})
	// Sending stops at intake, before verification and routing.
	for _, c := range []*customers.Customer{acme, bright} {
		s, _ := db.CheckSuppression(ctx, c.ID, store.Identifier{Kind: store.KindPhone, Value: "+14155550123"}, "")
		if !s.Suppressed || s.Reason != consent.ReasonObjection {
			t.Errorf("%s right after intake: %+v, want suppressed for objection", c.Slug, s)
		}
	}
	res, err := db.Route(ctx, modeltest.Staff, la(t), r.ID, "https://console.example/inbox")
	if err != nil {
		t.Fatalf("route an unverified objection: %v", err)
	}
	if len(res.Tasks) != 2 || res.Suppressed != 0 {
		t.Fatalf("tasks %d, suppressed by routing %d; want 2 and 0 (done at intake)", len(res.Tasks), res.Suppressed)
	}
	// Each controller sees only its own task; the request moves on when all answered.
	acmeAdmin := customerActor(t, db, acme)
	inbox, _ := db.Inbox(ctx, acmeAdmin, false)
	if len(inbox) != 1 || inbox[0].CustomerID != acme.ID {
		t.Fatalf("acme's inbox: %+v", inbox)
	}
	if _, err := db.AnswerTask(ctx, acmeAdmin, inbox[0].ID, requests.TaskDenied, ""); !isValidation(err, "reason") {
		t.Errorf("a denial without a reason: %v", err)
	}
	otherTask := res.Tasks[0].ID
	if res.Tasks[0].CustomerID == acme.ID {
		otherTask = res.Tasks[1].ID
	}
	if _, err := db.AnswerTask(ctx, acmeAdmin, otherTask, requests.TaskApproved, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("answering another controller's task: %v, want not found", err)
	}
	if _, err := db.AnswerTask(ctx, acmeAdmin, inbox[0].ID, requests.TaskApproved, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Request(ctx, modeltest.Staff, r.ID); got.Status != requests.StatusWithController {
		t.Errorf("with one task open the request is %s", got.Status)
	}
	if _, err := db.AnswerTask(ctx, customerActor(t, db, bright), otherTask, requests.TaskInstructed, "erase after export"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Request(ctx, modeltest.Staff, r.ID); got.Status != requests.StatusInProgress {
		t.Errorf("with every task answered the request is %s", got.Status)
	}
	if _, err := db.Request(ctx, customerActor(t, db, other), r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an uninvolved customer sees the request: %v", err)
	}
}

func TestAnAccessRequestIsRoutedOnlyOnceVerified(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	r := newRequest(t, db, requests.RequestInput{Type: "access", Regime: "gdpr", Requester: requests.Requester{Email: "a@example.com"}})
	if _, err := db.Route(ctx, modeltest.Staff, la(t), r.ID, "https://console.example/inbox"); !isConflict(err) {
		t.Errorf("routing an unverified access request: %v", err)
	}
}

func TestFindPersonIsForStaffAndAudited(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	if _, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"jane@example.com"}}, "US"); err != nil {
		t.Fatal(err)
	}
	ms, err := db.FindPerson(ctx, modeltest.Staff, "", []string{"JANE@example.com", "+14155550100"}, "US")
	if err != nil || len(ms) != 1 || ms[0].CustomerSlug != "acme" {
		t.Fatalf("matches %+v, %v", ms, err)
	}
	if _, err := db.FindPerson(ctx, customerActor(t, db, acme), "", []string{"jane@example.com"}, "US"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a customer searched across customers: %v", err)
	}
	events, _ := db.ListAudit(ctx, modeltest.Staff, store.AuditFilter{Action: "person.search"})
	if len(events) != 1 {
		t.Errorf("%d person.search audit events, want 1", len(events))
	}
}

func mustCustomer(t *testing.T, db *models.DB, slug string) *customers.Customer {
	t.Helper()
	c, err := db.CreateCustomer(context.Background(), modeltest.Staff, customers.CustomerInput{Slug: slug, Name: strings.ToUpper(slug)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func customerActor(t *testing.T, db *models.DB, c *customers.Customer) store.Actor {
	t.Helper()
	return store.CustomerUser("00000000-0000-7000-8000-"+c.ID[len(c.ID)-12:], "admin@"+c.Slug, c.ID, "")
}
