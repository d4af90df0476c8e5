package models_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	casework "github.com/sendara/console/models/casework"

	outbox "github.com/sendara/console/models/outbox"

	requests "github.com/sendara/console/models/requests"

	"context"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func queueRefs(rs []requests.PrivacyRequest) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Reference)
	}
	return strings.Join(out, ",")
}

func TestQueueFiltersSearchAndSort(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	officer := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", "")
	old := time.Now().Add(-20 * 24 * time.Hour)
	a := newRequest(t, db, requests.RequestInput{Type: calendar.TypeAccess, Regime: calendar.RegimeGDPR, ReceivedAt: old,
		Requester: requests.Requester{Name: "Jane Doe", Email: "jane@example.com"}})
	b := newRequest(t, db, requests.RequestInput{Type: calendar.TypeDelete, Regime: calendar.RegimeCCPA, CustomerID: acme.ID,
		Requester: requests.Requester{Name: "Bob Roe", Phone: "+14155550123"}})
	c := newRequest(t, db, requests.RequestInput{Type: calendar.TypeErasure, Regime: calendar.RegimeGDPR,
		Requester: requests.Requester{Name: "Carla 100%_Real", Email: "carla@example.com"}})
	if err := db.Assign(ctx, modeltest.Staff, b.ID, officer.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetStatus(ctx, modeltest.Staff, c.ID, requests.StatusWithdrawn, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    casework.RequestFilter
		want string
	}{
		{"open by default, soonest due first", casework.RequestFilter{}, a.Reference + "," + b.Reference},
		{"closed", casework.RequestFilter{Status: "closed"}, c.Reference},
		{"all", casework.RequestFilter{Status: "all", Sort: "reference"}, a.Reference + "," + b.Reference + "," + c.Reference},
		{"one status", casework.RequestFilter{Status: requests.StatusWithdrawn}, c.Reference},
		{"type", casework.RequestFilter{Type: calendar.TypeDelete}, b.Reference},
		{"regime", casework.RequestFilter{Regime: calendar.RegimeGDPR, Status: "all", Sort: "reference"}, a.Reference + "," + c.Reference},
		{"assignee", casework.RequestFilter{AssigneeID: officer.ID}, b.Reference},
		{"unassigned", casework.RequestFilter{AssigneeID: "none"}, a.Reference},
		{"customer", casework.RequestFilter{CustomerID: acme.ID}, b.Reference},
		{"due before", casework.RequestFilter{DueBefore: a.DueOn.String()}, a.Reference},
		{"newest first", casework.RequestFilter{Sort: "received", Status: "all"}, c.Reference + "," + b.Reference + "," + a.Reference},
		{"search by reference finds a closed request", casework.RequestFilter{Query: strings.ToLower(c.Reference)}, c.Reference},
		{"search by part of a name", casework.RequestFilter{Query: "jane d"}, a.Reference},
		{"wildcards in a name are literal", casework.RequestFilter{Query: "100%_r"}, c.Reference},
		{"a percent sign matches only itself", casework.RequestFilter{Query: "%"}, c.Reference},
		{"an underscore matches only itself", casework.RequestFilter{Query: "jane_doe"}, ""},
		{"search by email across statuses", casework.RequestFilter{Query: "carla@example.com"}, c.Reference},
		{"search by a phone as written", casework.RequestFilter{Query: "(415) 555-0123", Region: "US"}, b.Reference},
		{"paging", casework.RequestFilter{Status: "all", Sort: "reference", Limit: 1, Offset: 1}, b.Reference},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := db.ListRequests(ctx, modeltest.Staff, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := queueRefs(rs); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	bad := []struct {
		f     casework.RequestFilter
		field string
	}{
		{casework.RequestFilter{Status: "lost"}, "status"},
		{casework.RequestFilter{Type: "nonsense"}, "type"},
		{casework.RequestFilter{Regime: "xx"}, "regime"},
		{casework.RequestFilter{DueBefore: "31/12/2026"}, "due_before"},
		{casework.RequestFilter{Sort: "name"}, "sort"},
		{casework.RequestFilter{AssigneeID: "bob"}, "assignee"},
		{casework.RequestFilter{Offset: casework.MaxRequestOffset + 1}, "page"},
	}
	for _, tt := range bad {
		if _, err := db.ListRequests(ctx, modeltest.Staff, tt.f); !isValidation(err, tt.field) {
			t.Errorf("%+v: got %v, want a message about %s", tt.f, err, tt.field)
		}
	}
}

func TestQueueSavedViewsBelongToTheirUser(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	ann := newUser(t, db, "ann@sendara.test", accounts.RolePrivacyOfficer, "", "")
	bob := newUser(t, db, "bob@sendara.test", accounts.RoleAuditor, "", "")
	asAnn, asBob := ann.Actor(""), bob.Actor("")
	v, err := db.SaveRequestView(ctx, asAnn, " CCPA deletes ", casework.RequestFilter{Type: calendar.TypeDelete, Regime: calendar.RegimeCCPA, Sort: "received"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveRequestView(ctx, asAnn, "CCPA deletes", casework.RequestFilter{}); err == nil {
		t.Error("a second view of the same name was saved")
	}
	if _, err := db.SaveRequestView(ctx, asAnn, "bad", casework.RequestFilter{Status: "lost"}); !isValidation(err, "status") {
		t.Errorf("a view of an unknown status: %v", err)
	}
	if _, err := db.SaveRequestView(ctx, asAnn, "", casework.RequestFilter{}); !isValidation(err, "name") {
		t.Errorf("a view without a name: %v", err)
	}
	vs, err := db.SavedRequestViews(ctx, asAnn)
	if err != nil || len(vs) != 1 || vs[0].Name != "CCPA deletes" {
		t.Fatalf("Ann's views: %+v, %v", vs, err)
	}
	if f := vs[0].Filter(); f.Type != calendar.TypeDelete || f.Regime != calendar.RegimeCCPA || f.Sort != "received" {
		t.Errorf("the view keeps its filters: %+v", f)
	}
	if vs, _ := db.SavedRequestViews(ctx, asBob); len(vs) != 0 {
		t.Errorf("Bob sees Ann's views: %+v", vs)
	}
	if err := db.DeleteRequestView(ctx, asBob, v.ID); err != store.ErrNotFound {
		t.Errorf("Bob deleting Ann's view: %v, want not found", err)
	}
	if err := db.DeleteRequestView(ctx, asAnn, v.ID); err != nil {
		t.Fatal(err)
	}
	if vs, _ := db.SavedRequestViews(ctx, asAnn); len(vs) != 0 {
		t.Errorf("the view is still listed: %+v", vs)
	}
	if n := len(auditEvents(t, db, "request_view.save")); n != 1 {
		t.Errorf("%d request_view.save events, want 1", n)
	}
	if n := len(auditEvents(t, db, "request_view.delete")); n != 1 {
		t.Errorf("%d request_view.delete events, want 1", n)
	}
}

func TestQueueBulkAssignOnlyToUsersWhoCanAct(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	officer := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", "")
	auditor := newUser(t, db, "auditor@sendara.test", accounts.RoleAuditor, "", "")
	agent := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, "")
	var ids []string
	for range 3 {
		ids = append(ids, newRequest(t, db, requests.RequestInput{Type: calendar.TypeAccess, Regime: calendar.RegimeGDPR,
			Requester: requests.Requester{Email: "jane@example.com"}}).ID)
	}
	for _, u := range []*accounts.User{auditor, agent} {
		if _, err := db.AssignMany(ctx, modeltest.Staff, ids, u.ID); !isValidation(err, "assignee") {
			t.Errorf("assigning to %s: %v, want refused", u.Email, err)
		}
		if err := db.Assign(ctx, modeltest.Staff, ids[0], u.ID); !isValidation(err, "assignee") {
			t.Errorf("assigning one to %s: %v, want refused", u.Email, err)
		}
	}
	if rs, _ := db.ListRequests(ctx, modeltest.Staff, casework.RequestFilter{AssigneeID: "none"}); len(rs) != 3 {
		t.Fatalf("a refused assignment changed %d requests", 3-len(rs))
	}
	if _, err := db.AssignMany(ctx, modeltest.Staff, append(ids, "00000000-0000-7000-8000-000000000000"), officer.ID); !isValidation(err, "ids") {
		t.Errorf("an unknown request in the selection: %v", err)
	}
	n, err := db.AssignMany(ctx, modeltest.Staff, append(ids, ids[0]), officer.ID)
	if err != nil || n != 3 {
		t.Fatalf("bulk assign: %d, %v", n, err)
	}
	rs, _ := db.ListRequests(ctx, modeltest.Staff, casework.RequestFilter{AssigneeID: officer.ID})
	if len(rs) != 3 {
		t.Errorf("%d requests assigned to the officer, want 3", len(rs))
	}
	if got := len(auditEvents(t, db, "request.assign")); got != 3 {
		t.Errorf("%d request.assign events, want one per request", got)
	}
	ns, _ := db.Notifications(ctx, officer.Actor(""), true, 0)
	if len(ns) != 3 || ns[0].Kind != requests.NotifyAssigned || !strings.Contains(ns[0].Text, "assigned to you") {
		t.Errorf("the officer's notifications: %+v", ns)
	}
}

func queueOutboxTo(t *testing.T, db *models.DB, to string) []outbox.OutboxMail {
	t.Helper()
	ms, err := db.Outbox(context.Background(), modeltest.Staff, outbox.OutboxFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []outbox.OutboxMail
	for _, m := range ms {
		if m.ToAddr == to {
			out = append(out, m)
		}
	}
	return out
}

func TestNotificationsForEachEvent(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	subject(t, db, acme)
	officer := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", "")
	admin := newUser(t, db, "boss@sendara.test", accounts.RoleStaffAdmin, "", "")
	newUser(t, db, "auditor@sendara.test", accounts.RoleAuditor, "", "")
	r := newRequest(t, db, requests.RequestInput{Type: calendar.TypeErasure, Regime: "gdpr", Identifiers: []string{janePhone},
		Requester: requests.Requester{Email: janeEmail}})

	// Unassigned: new mail tells every staff admin and privacy officer, not auditors.
	if _, _, err := db.ReceiveMail(ctx, la(t), "US", requests.MailIntake{MessageID: "m1@example.com", FromAddr: janeEmail,
		Subject: "Re: " + r.Reference, Reference: r.Reference, Body: "Any news?", Raw: []byte("Subject: x\r\n\r\nAny news?\r\n")}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*accounts.User{officer, admin} {
		ns, _ := db.Notifications(ctx, u.Actor(""), true, 0)
		if len(ns) != 1 || ns[0].Kind != requests.NotifyMailIn || *ns[0].RequestID != r.ID {
			t.Errorf("%s after new mail: %+v", u.Email, ns)
		}
		if ms := queueOutboxTo(t, db, u.Email); len(ms) != 1 || !strings.Contains(ms[0].Subject, r.Reference) {
			t.Errorf("%s's notification mail: %+v", u.Email, ms)
		}
	}
	if ns, _ := db.Notifications(ctx, store.StaffUser("x", "auditor@sendara.test", ""), false, 0); len(ns) != 0 {
		t.Errorf("an unknown user has notifications: %+v", ns)
	}

	// Assigned: only the assignee hears of the request from now on.
	if err := db.Assign(ctx, admin.Actor(""), r.ID, officer.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.VerifyManually(ctx, modeltest.Staff, r.ID, "phone_call", "called back"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Route(ctx, modeltest.Staff, la(t), r.ID, "https://console.example/inbox"); err != nil {
		t.Fatal(err)
	}
	task, _ := db.Inbox(ctx, customerActor(t, db, acme), false)
	if _, err := db.AnswerTask(ctx, customerActor(t, db, acme), task[0].ID, requests.TaskApproved, ""); err != nil {
		t.Fatal(err)
	}
	ns, _ := db.Notifications(ctx, officer.Actor(""), true, 0)
	var kinds []string
	for _, n := range ns {
		kinds = append(kinds, n.Kind)
	}
	if strings.Join(kinds, ",") != "controller_answered,assigned,mail_in" || !strings.Contains(ns[0].Text, acme.Name+" approved") {
		t.Errorf("the officer's notifications: %v %+v", kinds, ns)
	}
	if ns, _ := db.Notifications(ctx, admin.Actor(""), true, 0); len(ns) != 1 {
		t.Errorf("the admin who assigned it is told only of the mail before: %+v", ns)
	}
	if err := db.MarkNotificationsRead(ctx, admin.Actor(""), ns[0].ID); err != store.ErrNotFound {
		t.Errorf("the admin marking the officer's notification read: %v", err)
	}
	if err := db.MarkNotificationsRead(ctx, officer.Actor(""), ns[0].ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.UnreadNotifications(ctx, officer.Actor("")); n != 2 {
		t.Errorf("%d unread after reading one, want 2", n)
	}
	if err := db.MarkNotificationsRead(ctx, officer.Actor(""), ""); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.UnreadNotifications(ctx, officer.Actor("")); n != 0 {
		t.Errorf("%d unread after reading all", n)
	}
}

func TestDueNotificationsAreWrittenOncePerRequestKindAndDay(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	subject(t, db, acme)
	officer := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", "")
	biz := la(t)
	// A CCPA request received 8 business days ago: acknowledgement due in 2.
	received := biz.Calendar.AddBusinessDays(time.Now(), biz.Loc, 0).AddDate(0, 0, -12).Add(20 * time.Hour)
	r := newRequest(t, db, requests.RequestInput{Type: calendar.TypeKnow, Regime: calendar.RegimeCCPA, ReceivedAt: received,
		Requester: requests.Requester{Email: janeEmail}, Identifiers: []string{janePhone}})
	if err := db.Assign(ctx, modeltest.Staff, r.ID, officer.ID); err != nil {
		t.Fatal(err)
	}
	ack := *r.AckDueOn
	today := ack.AddDays(-1)
	n, err := db.DueNotifications(ctx, biz, today)
	if err != nil || n != 1 {
		t.Fatalf("first run: %d, %v; want the acknowledgement", n, err)
	}
	if n, err := db.DueNotifications(ctx, biz, today); err != nil || n != 0 {
		t.Errorf("second run the same day: %d, %v; want none", n, err)
	}
	if n, _ := db.DueNotifications(ctx, biz, today.AddDays(1)); n != 1 {
		t.Errorf("the next day: %d, want the acknowledgement again", n)
	}
	ns, _ := db.Notifications(ctx, officer.Actor(""), false, 0)
	if len(ns) != 3 || ns[0].Kind != requests.NotifyAckDue || !strings.Contains(ns[0].Text, r.AckDueOn.String()) {
		t.Errorf("notifications: %+v", ns)
	}

	// A routed task past its date, and the answer due: each once that day.
	if _, err := db.VerifyManually(ctx, modeltest.Staff, r.ID, "phone_call", "called back"); err != nil {
		t.Fatal(err)
	}
	res, err := db.Route(ctx, modeltest.Staff, biz, r.ID, "https://console.example/inbox")
	if err != nil {
		t.Fatal(err)
	}
	late := res.Tasks[0].DueOn
	late = late.AddDays(1)
	if n, err := db.DueNotifications(ctx, biz, late); err != nil || n != 2 {
		t.Fatalf("after the task's date: %d, %v; want the acknowledgement and the task", n, err)
	}
	if n, _ := db.DueNotifications(ctx, biz, late); n != 0 {
		t.Errorf("again that day: %d", n)
	}
	due := r.DueOn
	if n, _ := db.DueNotifications(ctx, biz, due.AddDays(-1)); n != 3 {
		t.Errorf("the day before the answer is due: %d, want acknowledgement, answer and task", n)
	}
	ns, _ = db.Notifications(ctx, officer.Actor(""), true, 5)
	got := map[string]string{}
	for _, n := range ns {
		got[n.Kind] += n.Text + "\n"
	}
	if !strings.Contains(got[requests.NotifyTaskOverdue], acme.Name+" has not answered") ||
		!strings.Contains(got[requests.NotifyAnswerDue], "is due on "+r.DueOn.String()) {
		t.Errorf("notifications: %v", got)
	}
}

func TestNotificationDigestIsOneMailPerDay(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	biz := la(t)
	ann := newUser(t, db, "ann@sendara.test", accounts.RolePrivacyOfficer, "", "")
	if err := db.SetNotificationMode(ctx, ann.Actor(""), requests.NotifyByDigest); err != nil {
		t.Fatal(err)
	}
	if err := db.SetNotificationMode(ctx, ann.Actor(""), "pigeon"); !isValidation(err, "mode") {
		t.Errorf("an unknown mode: %v", err)
	}
	var refs []string
	for range 2 {
		r := newRequest(t, db, requests.RequestInput{Type: calendar.TypeAccess, Regime: calendar.RegimeGDPR, Requester: requests.Requester{Email: janeEmail}})
		if err := db.Assign(ctx, modeltest.Staff, r.ID, ann.ID); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, r.Reference)
	}
	if ms := queueOutboxTo(t, db, "ann@sendara.test"); len(ms) != 0 {
		t.Fatalf("a digest user got mail at once: %+v", ms)
	}
	today := calendar.DateOf(time.Now(), biz.Loc)
	if n, err := db.NotificationDigests(ctx, biz, today, ""); err != nil || n != 0 {
		t.Errorf("today's notifications wait for the day to end: %d, %v", n, err)
	}
	tomorrow := today.AddDays(1)
	n, err := db.NotificationDigests(ctx, biz, tomorrow, "https://console.example")
	if err != nil || n != 1 {
		t.Fatalf("digest: %d, %v", n, err)
	}
	if n, _ := db.NotificationDigests(ctx, biz, tomorrow, ""); n != 0 {
		t.Errorf("a second run built %d more digests", n)
	}
	ms := queueOutboxTo(t, db, "ann@sendara.test")
	if len(ms) != 1 {
		t.Fatalf("%d digest mails, want 1", len(ms))
	}
	for _, ref := range refs {
		if !strings.Contains(ms[0].BodyText, ref) {
			t.Errorf("the digest does not list %s:\n%s", ref, ms[0].BodyText)
		}
	}
	if !strings.Contains(ms[0].Subject, today.String()) || !strings.Contains(ms[0].BodyText, "https://console.example/requests/") {
		t.Errorf("digest: %q\n%s", ms[0].Subject, ms[0].BodyText)
	}
}

func TestNotifierLeaseAdmitsOneInstance(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	if err := db.ClaimNotifier(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := db.ClaimNotifier(ctx, "b"); err != requests.ErrNotifierBusy {
		t.Errorf("b claimed while a holds the lease: %v", err)
	}
	if err := db.ReleaseNotifier(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := db.ClaimNotifier(ctx, "b"); err != nil {
		t.Errorf("b after a released: %v", err)
	}
}
