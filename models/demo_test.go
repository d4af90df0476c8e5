package models_test

import (
	casework "github.com/sendara/console/models/casework"
	consent "github.com/sendara/console/models/consent"

	imports "github.com/sendara/console/models/imports"

	outbox "github.com/sendara/console/models/outbox"

	registers "github.com/sendara/console/models/registers"

	requests "github.com/sendara/console/models/requests"

	"context"
	"testing"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// demoActors signs in the demo accounts as the pages would see them.
func demoActors(t *testing.T, db *models.DB) map[string]store.Actor {
	t.Helper()
	users, err := db.Users(context.Background(), modeltest.Staff)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.Actor{}
	for i := range users {
		out[users[i].Email] = users[i].Actor("")
	}
	return out
}

// TestDemoSeedFillsEveryPage runs the demo seed on a fresh database and
// asks each page's model query what a demo role would be shown: none is
// empty, the audit chain verifies, and a second run seeds nothing.
func TestDemoSeedFillsEveryPage(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	seed, err := db.SeedDemo(ctx, "http://console.test")
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	if seed == nil || len(seed.Logins) != 6 || seed.APIKey == "" {
		t.Fatalf("seed answered %+v, want six logins and an API key", seed)
	}
	as := demoActors(t, db)
	admin, officer, auditor := as["admin@sendara.example"], as["privacy@sendara.example"], as["auditor@sendara.example"]
	acmeAdmin, agent, bright := as["admin@acme-realty.example"], as["agent@acme-realty.example"], as["admin@brightside.example"]
	biz := db.Business()
	today := biz.Today()
	customers, err := db.Customers(ctx, admin)
	if err != nil || len(customers) != 2 {
		t.Fatalf("customers: %d %v", len(customers), err)
	}
	ids := map[string]string{}
	for _, c := range customers {
		ids[c.Slug] = c.ID
	}
	acme, brightside := ids["acme-realty"], ids["brightside-dental"]

	// Requests: every status the queue shows, a merged duplicate, an
	// agent's proof waiting for a check, an urgent mailbox report.
	all, err := db.ListRequests(ctx, officer, casework.RequestFilter{Status: "all", Today: today})
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[string]int{}
	var agentReq, dupOf, urgent *requests.PrivacyRequest
	for i := range all {
		r := &all[i]
		byStatus[r.Status]++
		if r.Relationship == "authorized_agent" {
			agentReq = r
		}
		if r.SuggestedType == registers.SuggestedAccountCompromise {
			urgent = r
		}
		if d, err := db.DuplicatesOf(ctx, officer, r.ID); err != nil {
			t.Fatal(err)
		} else if d.Of != nil {
			dupOf = r
		}
	}
	for _, s := range []string{requests.StatusReceived, requests.StatusWaiting, requests.StatusWithController, requests.StatusDenied} {
		if byStatus[s] == 0 {
			t.Errorf("no demo request is %s (statuses: %v)", s, byStatus)
		}
	}
	if dupOf == nil {
		t.Error("no demo request is merged into another")
	}
	if urgent == nil {
		t.Error("no demo request is an account-compromise report")
	}
	if agentReq == nil {
		t.Fatal("no demo request comes from an authorized agent")
	}
	proofs, err := db.Proofs(ctx, officer, agentReq.ID)
	if err != nil || len(proofs) != 1 || proofs[0].CheckedAt != nil {
		t.Errorf("the agent's request has proofs %+v (%v), want one awaiting a check", proofs, err)
	}
	if why, _ := db.ProofStanding(ctx, agentReq); why == "" {
		t.Error("the agent's request may proceed although its proof was not checked")
	}
	if mine, err := db.ListRequests(ctx, officer, casework.RequestFilter{View: "mine", UserID: officer.ID, Today: today}); err != nil || len(mine) == 0 {
		t.Errorf("the privacy officer's own requests: %d %v", len(mine), err)
	}
	if views, err := db.SavedRequestViews(ctx, officer); err != nil || len(views) == 0 {
		t.Errorf("the privacy officer's saved views: %d %v", len(views), err)
	}
	if n, err := db.Notifications(ctx, officer, true, 50); err != nil || len(n) == 0 {
		t.Errorf("the privacy officer's unread notifications: %d %v", len(n), err)
	}
	if cf, err := db.CaseFile(ctx, auditor, all[0].ID, "request.case_file_view"); err != nil || len(cf.Timeline) == 0 {
		t.Errorf("a case file for the auditor: %v", err)
	}

	// Controllers: routed tasks, replies, a pending reversal, an import,
	// an invitation.
	for name, a := range map[string]store.Actor{"acme": acmeAdmin, "brightside": bright} {
		if tasks, err := db.Inbox(ctx, a, true); err != nil || len(tasks) == 0 {
			t.Errorf("%s's inbox: %d %v", name, len(tasks), err)
		}
	}
	if q, err := db.ReviewQueue(ctx, agent, acme, 50); err != nil || len(q) == 0 {
		t.Errorf("acme's replies to review: %d %v", len(q), err)
	}
	if rv, err := db.ConsentReversals(ctx, acmeAdmin, acme, consent.ReversalPending); err != nil || len(rv) != 1 {
		t.Errorf("acme's pending reversals: %d %v, want 1", len(rv), err)
	}
	if jobs, _, err := db.ImportJobs(ctx, acmeAdmin, imports.ImportFilter{}); err != nil || len(jobs) != 1 {
		t.Errorf("acme's imports: %d %v, want 1", len(jobs), err)
	} else if j := jobs[0]; j.Kind != imports.ImportOptIns || j.Status != imports.ImportPreview || j.TotalRows != 3 || j.BadRows != 1 {
		t.Errorf("acme's import: %s %s, %d rows, %d bad; want an opt-in import in preview, 3 rows, 1 without evidence", j.Kind, j.Status, j.TotalRows, j.BadRows)
	}
	if inv, err := db.PendingInvites(ctx, acmeAdmin); err != nil || len(inv) == 0 {
		t.Errorf("acme's pending invitations: %d %v", len(inv), err)
	}
	rep, err := db.SentAfterOptOutFor(ctx, acmeAdmin, acme, today.AddDays(-30), today, biz)
	if err != nil || len(rep.Rows) != 1 || rep.Rows[0].ContactName != "Drew Kim" {
		t.Errorf("acme's sent-after-opt-out report: %+v %v, want Drew Kim's message", rep, err)
	}

	// Registers.
	incidents, err := db.Incidents(ctx, officer)
	if err != nil || len(incidents) != 3 {
		t.Fatalf("incidents: %d %v, want 3", len(incidents), err)
	}
	overdue := 0
	for _, inc := range incidents {
		full, err := db.Incident(ctx, officer, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range full.Customers {
			if c.Overdue(store.Now()) {
				overdue++
			}
		}
	}
	if overdue != 1 {
		t.Errorf("%d overdue incident notices, want 1", overdue)
	}
	if mine, err := db.Incidents(ctx, bright); err != nil || len(mine) == 0 {
		t.Errorf("brightside's incidents: %d %v", len(mine), err)
	}
	sps, err := db.Subprocessors(ctx)
	if err != nil || len(sps) < 2 {
		t.Fatalf("sub-processors: %d %v", len(sps), err)
	}
	if today.After(sps[0].ObjectionUntil) {
		t.Errorf("no sub-processor is inside its objection window: %+v", sps)
	}
	if pv, err := db.PolicyVersions(ctx); err != nil || len(pv) == 0 {
		t.Errorf("policy versions: %d %v", len(pv), err)
	}
	for name, c := range map[string]struct {
		a    store.Actor
		want int
	}{"staff": {officer, 1}, "acme": {acmeAdmin, 1}, "brightside": {bright, 0}} {
		if obj, err := db.SubprocessorObjections(ctx, c.a); err != nil || len(obj) != c.want {
			t.Errorf("objections %s sees: %d %v, want %d", name, len(obj), err, c.want)
		}
	}
	if ds, err := db.Disclosures(ctx, officer); err != nil || len(ds) < 3 {
		t.Errorf("legal disclosures: %d %v", len(ds), err)
	}
	if tr, err := db.TransparencyReport(ctx, auditor); err != nil || len(tr) == 0 {
		t.Errorf("transparency report: %d %v", len(tr), err)
	}
	if pr, err := db.ProcessingRecordFor(ctx, acmeAdmin, acme, today); err != nil || len(pr.Rows()) == 0 {
		t.Errorf("acme's processing record: %v", err)
	}
	if b, err := db.AccountBundleFor(ctx, admin, brightside); err != nil || len(b.Users) == 0 {
		t.Errorf("brightside's account bundle: %v", err)
	}
	if mail, err := db.Outbox(ctx, admin, outbox.OutboxFilter{}); err != nil || len(mail) == 0 {
		t.Errorf("outbox: %d %v", len(mail), err)
	}
	if ps, err := db.AccessReview(ctx, auditor, biz.Loc); err != nil || len(ps) == 0 {
		t.Errorf("access review: %d %v", len(ps), err)
	}

	chain, err := db.VerifyAudit(ctx)
	if err != nil || !chain.Intact() {
		t.Fatalf("audit verify after the demo seed: %+v %v", chain, err)
	}
	again, err := db.SeedDemo(ctx, "http://console.test")
	if err != nil || again != nil {
		t.Fatalf("a second run seeded %+v (%v), want nothing", again, err)
	}
	if after, err := db.VerifyAudit(ctx); err != nil || after.Entries != chain.Entries {
		t.Errorf("a second run wrote to the audit log: %d entries, then %d (%v)", chain.Entries, after.Entries, err)
	}
}
