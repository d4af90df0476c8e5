package models_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
)

func queueRefs(rs []models.PrivacyRequest) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Reference)
	}
	return strings.Join(out, ",")
}

func TestQueueFiltersSearchAndSort(t *testing.T) {
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	officer := newUser(t, db, "officer@sendara.test", models.RolePrivacyOfficer, "", "")
	old := time.Now().Add(-20 * 24 * time.Hour)
	a := newRequest(t, db, models.RequestInput{Type: models.TypeAccess, Regime: models.RegimeGDPR, ReceivedAt: old,
		Requester: models.Requester{Name: "Jane Doe", Email: "jane@example.com"}})
	b := newRequest(t, db, models.RequestInput{Type: models.TypeDelete, Regime: models.RegimeCCPA, CustomerID: acme.ID,
		Requester: models.Requester{Name: "Bob Roe", Phone: "+14155550123"}})
	c := newRequest(t, db, models.RequestInput{Type: models.TypeErasure, Regime: models.RegimeGDPR,
		Requester: models.Requester{Name: "Carla 100%_Real", Email: "carla@example.com"}})
	if err := db.Assign(ctx, modeltest.Staff, b.ID, officer.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetStatus(ctx, modeltest.Staff, c.ID, models.StatusWithdrawn, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    models.RequestFilter
		want string
	}{
		{"open by default, soonest due first", models.RequestFilter{}, a.Reference + "," + b.Reference},
		{"closed", models.RequestFilter{Status: "closed"}, c.Reference},
		{"all", models.RequestFilter{Status: "all", Sort: "reference"}, a.Reference + "," + b.Reference + "," + c.Reference},
		{"one status", models.RequestFilter{Status: models.StatusWithdrawn}, c.Reference},
		{"type", models.RequestFilter{Type: models.TypeDelete}, b.Reference},
		{"regime", models.RequestFilter{Regime: models.RegimeGDPR, Status: "all", Sort: "reference"}, a.Reference + "," + c.Reference},
		{"assignee", models.RequestFilter{AssigneeID: officer.ID}, b.Reference},
		{"unassigned", models.RequestFilter{AssigneeID: "none"}, a.Reference},
		{"customer", models.RequestFilter{CustomerID: acme.ID}, b.Reference},
		{"due before", models.RequestFilter{DueBefore: a.DueOn.String()}, a.Reference},
		{"newest first", models.RequestFilter{Sort: "received", Status: "all"}, c.Reference + "," + b.Reference + "," + a.Reference},
		{"search by reference finds a closed request", models.RequestFilter{Query: strings.ToLower(c.Reference)}, c.Reference},
		{"search by part of a name", models.RequestFilter{Query: "jane d"}, a.Reference},
		{"wildcards in a name are literal", models.RequestFilter{Query: "100%_r"}, c.Reference},
		{"a percent sign matches only itself", models.RequestFilter{Query: "%"}, c.Reference},
		{"an underscore matches only itself", models.RequestFilter{Query: "jane_doe"}, ""},
		{"search by email across statuses", models.RequestFilter{Query: "carla@example.com"}, c.Reference},
		{"search by a phone as written", models.RequestFilter{Query: "(415) 555-0123", Region: "US"}, b.Reference},
		{"paging", models.RequestFilter{Status: "all", Sort: "reference", Limit: 1, Offset: 1}, b.Reference},
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
		f     models.RequestFilter
		field string
	}{
		{models.RequestFilter{Status: "lost"}, "status"},
		{models.RequestFilter{Type: "nonsense"}, "type"},
		{models.RequestFilter{Regime: "xx"}, "regime"},
		{models.RequestFilter{DueBefore: "31/12/2026"}, "due_before"},
		{models.RequestFilter{Sort: "name"}, "sort"},
		{models.RequestFilter{AssigneeID: "bob"}, "assignee"},
		{models.RequestFilter{Offset: models.MaxRequestOffset + 1}, "page"},
	}
	for _, tt := range bad {
		if _, err := db.ListRequests(ctx, modeltest.Staff, tt.f); !isValidation(err, tt.field) {
			t.Errorf("%+v: got %v, want a message about %s", tt.f, err, tt.field)
		}
	}
}

func TestQueueSavedViewsBelongToTheirUser(t *testing.T) {
	db := modeltest.Open(t)
	ctx := context.Background()
	ann := newUser(t, db, "ann@sendara.test", models.RolePrivacyOfficer, "", "")
	bob := newUser(t, db, "bob@sendara.test", models.RoleAuditor, "", "")
	asAnn, asBob := ann.Actor(""), bob.Actor("")
	v, err := db.SaveRequestView(ctx, asAnn, " CCPA deletes ", models.RequestFilter{Type: models.TypeDelete, Regime: models.RegimeCCPA, Sort: "received"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveRequestView(ctx, asAnn, "CCPA deletes", models.RequestFilter{}); err == nil {
		t.Error("a second view of the same name was saved")
	}
	if _, err := db.SaveRequestView(ctx, asAnn, "bad", models.RequestFilter{Status: "lost"}); !isValidation(err, "status") {
		t.Errorf("a view of an unknown status: %v", err)
	}
	if _, err := db.SaveRequestView(ctx, asAnn, "", models.RequestFilter{}); !isValidation(err, "name") {
		t.Errorf("a view without a name: %v", err)
	}
	vs, err := db.SavedRequestViews(ctx, asAnn)
	if err != nil || len(vs) != 1 || vs[0].Name != "CCPA deletes" {
		t.Fatalf("Ann's views: %+v, %v", vs, err)
	}
	if f := vs[0].Filter(); f.Type != models.TypeDelete || f.Regime != models.RegimeCCPA || f.Sort != "received" {
		t.Errorf("the view keeps its filters: %+v", f)
	}
	if vs, _ := db.SavedRequestViews(ctx, asBob); len(vs) != 0 {
		t.Errorf("Bob sees Ann's views: %+v", vs)
	}
	if err := db.DeleteRequestView(ctx, asBob, v.ID); err != models.ErrNotFound {
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
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	officer := newUser(t, db, "officer@sendara.test", models.RolePrivacyOfficer, "", "")
	auditor := newUser(t, db, "auditor@sendara.test", models.RoleAuditor, "", "")
	agent := newUser(t, db, "agent@acme.test", models.RoleCustomerAgent, acme.ID, "")
	var ids []string
	for range 3 {
		ids = append(ids, newRequest(t, db, models.RequestInput{Type: models.TypeAccess, Regime: models.RegimeGDPR,
			Requester: models.Requester{Email: "jane@example.com"}}).ID)
	}
	for _, u := range []*models.User{auditor, agent} {
		if _, err := db.AssignMany(ctx, modeltest.Staff, ids, u.ID); !isValidation(err, "assignee") {
			t.Errorf("assigning to %s: %v, want refused", u.Email, err)
		}
		if err := db.Assign(ctx, modeltest.Staff, ids[0], u.ID); !isValidation(err, "assignee") {
			t.Errorf("assigning one to %s: %v, want refused", u.Email, err)
		}
	}
	if rs, _ := db.ListRequests(ctx, modeltest.Staff, models.RequestFilter{AssigneeID: "none"}); len(rs) != 3 {
		t.Fatalf("a refused assignment changed %d requests", 3-len(rs))
	}
	if _, err := db.AssignMany(ctx, modeltest.Staff, append(ids, "00000000-0000-7000-8000-000000000000"), officer.ID); !isValidation(err, "ids") {
		t.Errorf("an unknown request in the selection: %v", err)
	}
	n, err := db.AssignMany(ctx, modeltest.Staff, append(ids, ids[0]), officer.ID)
	if err != nil || n != 3 {
		t.Fatalf("bulk assign: %d, %v", n, err)
	}
	rs, _ := db.ListRequests(ctx, modeltest.Staff, models.RequestFilter{AssigneeID: officer.ID})
	if len(rs) != 3 {
		t.Errorf("%d requests assigned to the officer, want 3", len(rs))
	}
	if got := len(auditEvents(t, db, "request.assign")); got != 3 {
		t.Errorf("%d request.assign events, want one per request", got)
	}
	ns, _ := db.Notifications(ctx, officer.Actor(""), true, 0)
	if len(ns) != 3 || ns[0].Kind != models.NotifyAssigned || !strings.Contains(ns[0].Text, "assigned to you") {
		t.Errorf("the officer's notifications: %+v", ns)
	}
}

func queueOutboxTo(t *testing.T, db *models.DB, to string) []models.OutboxMail {
	t.Helper()
	ms, err := db.Outbox(context.Background(), modeltest.Staff, models.OutboxFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []models.OutboxMail
	for _, m := range ms {
		if m.ToAddr == to {
			out = append(out, m)
		}
	}
	return out
}

func TestNotificationsForEachEvent(t *testing.T) {
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	subject(t, db, acme)
	officer := newUser(t, db, "officer@sendara.test", models.RolePrivacyOfficer, "", "")
	admin := newUser(t, db, "boss@sendara.test", models.RoleStaffAdmin, "", "")
	newUser(t, db, "auditor@sendara.test", models.RoleAuditor, "", "")
	r := newRequest(t, db, models.RequestInput{Type: models.TypeErasure, Regime: "gdpr", Identifiers: []string{janePhone},
		Requester: models.Requester{Email: janeEmail}})

	// Unassigned: new mail tells every staff admin and privacy officer, not auditors.
	if _, _, err := db.ReceiveMail(ctx, la(t), "US", models.MailIntake{MessageID: "m1@example.com", FromAddr: janeEmail,
		Subject: "Re: " + r.Reference, Reference: r.Reference, Body: "Any news?", Raw: []byte("Subject: x\r\n\r\nAny news?\r\n")}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*models.User{officer, admin} {
		ns, _ := db.Notifications(ctx, u.Actor(""), true, 0)
		if len(ns) != 1 || ns[0].Kind != models.NotifyMailIn || *ns[0].RequestID != r.ID {
			t.Errorf("%s after new mail: %+v", u.Email, ns)
		}
		if ms := queueOutboxTo(t, db, u.Email); len(ms) != 1 || !strings.Contains(ms[0].Subject, r.Reference) {
			t.Errorf("%s's notification mail: %+v", u.Email, ms)
		}
	}
	if ns, _ := db.Notifications(ctx, models.StaffUser("x", "auditor@sendara.test", ""), false, 0); len(ns) != 0 {
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
	if _, err := db.AnswerTask(ctx, customerActor(t, db, acme), task[0].ID, models.TaskApproved, ""); err != nil {
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
	if err := db.MarkNotificationsRead(ctx, admin.Actor(""), ns[0].ID); err != models.ErrNotFound {
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
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	subject(t, db, acme)
	officer := newUser(t, db, "officer@sendara.test", models.RolePrivacyOfficer, "", "")
	biz := la(t)
	// A CCPA request received 8 business days ago: acknowledgement due in 2.
	received := biz.Calendar.AddBusinessDays(time.Now(), biz.Loc, 0).AddDate(0, 0, -12).Add(20 * time.Hour)
	r := newRequest(t, db, models.RequestInput{Type: models.TypeKnow, Regime: models.RegimeCCPA, ReceivedAt: received,
		Requester: models.Requester{Email: janeEmail}, Identifiers: []string{janePhone}})
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
	if len(ns) != 3 || ns[0].Kind != models.NotifyAckDue || !strings.Contains(ns[0].Text, r.AckDueOn.String()) {
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
	if !strings.Contains(got[models.NotifyTaskOverdue], acme.Name+" has not answered") ||
		!strings.Contains(got[models.NotifyAnswerDue], "is due on "+r.DueOn.String()) {
		t.Errorf("notifications: %v", got)
	}
}

func TestNotificationDigestIsOneMailPerDay(t *testing.T) {
	db := modeltest.Open(t)
	ctx := context.Background()
	biz := la(t)
	ann := newUser(t, db, "ann@sendara.test", models.RolePrivacyOfficer, "", "")
	if err := db.SetNotificationMode(ctx, ann.Actor(""), models.NotifyByDigest); err != nil {
		t.Fatal(err)
	}
	if err := db.SetNotificationMode(ctx, ann.Actor(""), "pigeon"); !isValidation(err, "mode") {
		t.Errorf("an unknown mode: %v", err)
	}
	var refs []string
	for range 2 {
		r := newRequest(t, db, models.RequestInput{Type: models.TypeAccess, Regime: models.RegimeGDPR, Requester: models.Requester{Email: janeEmail}})
		if err := db.Assign(ctx, modeltest.Staff, r.ID, ann.ID); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, r.Reference)
	}
	if ms := queueOutboxTo(t, db, "ann@sendara.test"); len(ms) != 0 {
		t.Fatalf("a digest user got mail at once: %+v", ms)
	}
	today := models.DateOf(time.Now(), biz.Loc)
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
	db := modeltest.Open(t)
	ctx := context.Background()
	if err := db.ClaimNotifier(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := db.ClaimNotifier(ctx, "b"); err != models.ErrNotifierBusy {
		t.Errorf("b claimed while a holds the lease: %v", err)
	}
	if err := db.ReleaseNotifier(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := db.ClaimNotifier(ctx, "b"); err != nil {
		t.Errorf("b after a released: %v", err)
	}
}
