package jobs_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	"context"
	"testing"
	"time"

	"github.com/sendara/console/jobs"
	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

// Two instances' notifiers on one database: while one holds the lease the
// other skips its round, and a round run again the same day writes no
// notification twice and builds no digest twice.
func TestNotifiersOfTwoInstancesDuplicateNothing(t *testing.T) {
	db := modeltest.Open(t)
	ctx := context.Background()
	biz := calendar.DefaultBusiness()
	u, err := db.CreateUser(ctx, modeltest.Staff, accounts.UserInput{Email: "officer@sendara.test", Role: accounts.RolePrivacyOfficer})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetNotificationMode(ctx, u.Actor(""), requests.NotifyByDigest); err != nil {
		t.Fatal(err)
	}
	r, err := db.CreateRequest(ctx, modeltest.Staff, biz, requests.RequestInput{Type: calendar.TypeAccess, Regime: calendar.RegimeGDPR,
		Channel: "api", Requester: requests.Requester{Email: "jane@example.com"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	due := r.DueOn
	today := due.AddDays(-1)

	if err := db.ClaimNotifier(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	a := jobs.NewNotifier(db, biz, "a", "https://console.example", time.Hour, quiet())
	if notes, digests, err := a.RunOnce(ctx, today); err != nil || notes+digests != 0 {
		t.Fatalf("a's round while b holds the lease: %d, %d, %v", notes, digests, err)
	}
	b := jobs.NewNotifier(db, biz, "b", "https://console.example", time.Hour, quiet())
	if notes, _, err := b.RunOnce(ctx, today); err != nil || notes != 1 {
		t.Fatalf("b's round: %d notifications, %v; want the answer due", notes, err)
	}
	if notes, _, err := a.RunOnce(ctx, today); err != nil || notes != 0 {
		t.Errorf("a's round after b's, the same day: %d, %v", notes, err)
	}
	// The next day: the digest of the day before is built once. (The
	// notification was written now, so the digest is that of today's date
	// in the business time zone.)
	now := calendar.DateOf(time.Now(), biz.Loc)
	if _, digests, err := a.RunOnce(ctx, now.AddDays(1)); err != nil || digests != 1 {
		t.Errorf("digest round: %d, %v", digests, err)
	}
	if _, digests, _ := b.RunOnce(ctx, now.AddDays(1)); digests != 0 {
		t.Errorf("a second digest round built %d", digests)
	}
}
