package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/sendara/console/jobs"
	accounts "github.com/sendara/console/models/accounts"
	"github.com/sendara/console/models/modeltest"
	registers "github.com/sendara/console/models/registers"
)

// Two instances' sweepers on one database: while one holds the lease the
// other skips its round; the holder sweeps what is due and audits it.
func TestSweepersOfTwoInstancesTakeTurns(t *testing.T) {
	db := modeltest.Open(t)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, modeltest.Staff, accounts.UserInput{Email: "gone@sendara.test", Role: accounts.RoleAuditor, Password: "a long test passphrase 7"})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().AddDate(0, -3, 0)
	if err := db.Gorm.Exec("INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) VALUES ('h', ?, ?, ?, ?)", u.ID, old, old, old).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Exec("UPDATE retention_lock SET holder = 'b', lease_until = ?", time.Now().Add(time.Minute)).Error; err != nil {
		t.Fatal(err)
	}
	a := jobs.NewSweeper(db, "a", time.Hour, quiet())
	if run, err := a.SweepOnce(ctx); err != nil || run != nil {
		t.Fatalf("sweep while b holds the lease: %+v %v", run, err)
	}
	b := jobs.NewSweeper(db, "b", time.Hour, quiet())
	run, err := b.SweepOnce(ctx)
	if err != nil || run == nil {
		t.Fatalf("the lease holder's sweep: %+v %v", run, err)
	}
	if run.Removed != 1 || run.CountsByCategory()[registers.RetainSessions] != 1 {
		t.Errorf("b removed %d (%s), want the one expired session", run.Removed, run.Counts)
	}
	if run, err := a.SweepOnce(ctx); err != nil || run == nil || run.Removed != 0 {
		t.Errorf("a's sweep after b released the lease: %+v %v", run, err)
	}
}
