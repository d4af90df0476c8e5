package faults_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// importRows is the size of the file the kill scenarios import: large
// enough that a kill lands in the middle on a busy two-core machine.
const importRows = 120000

func writeOptOutCSV(t *testing.T, dir string, rows int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("phone,name\n")
	for i := range rows {
		fmt.Fprintf(&b, "%s,Person %d\n", phone(i/10000, i%10000), i)
	}
	path := filepath.Join(dir, "optouts.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// importProgress is how many rows the one import job has applied, and
// whether it is done.
func importProgress(t *testing.T, dsn string) (processed int64, done bool) {
	t.Helper()
	processed = query(t, dsn, "SELECT COALESCE(MAX(processed_rows), 0) FROM import_jobs")
	done = query(t, dsn, "SELECT COUNT(*) FROM import_jobs WHERE status = 'done'") > 0
	return processed, done
}

// optedOutContacts counts the contacts with an opt-out event, and the
// opt-out events: equal when no row was applied twice.
func optedOut(t *testing.T, dsn string) (contacts, events int64) {
	t.Helper()
	contacts = query(t, dsn, "SELECT COUNT(DISTINCT contact_id) FROM consent_events WHERE kind = 'opt_out'")
	events = query(t, dsn, "SELECT COUNT(*) FROM consent_events WHERE kind = 'opt_out'")
	return contacts, events
}

// A kill -9 of `console import opt-outs` in the middle of the file loses
// nothing and applies nothing twice: `console serve` resumes the job the
// dead process held once its heartbeat is stale, a kill -9 of serve in the
// middle is survived the same way, and in the end every row is applied
// exactly once and the audit chain verifies.
func TestKilledImportsResumeWithoutLossOrDuplicates(t *testing.T) {
	suite(t)
	t.Parallel()
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, dsn)
			e.setUpTenant("acme")
			file := writeOptOutCSV(t, e.dir, importRows)

			cli := e.start("import", "opt-outs", "--customer", "acme", file)
			waitUntil(t, 5*time.Minute, "the command line import to apply its first rows", func() bool {
				n, done := importProgress(t, dsn)
				if done {
					t.Fatalf("the import finished before it could be killed: make the file larger\n%s", cli.output())
				}
				return n > 0
			})
			cli.kill()
			killedAt, _ := importProgress(t, dsn)
			t.Logf("command line killed after %d of %d rows", killedAt, importRows)

			// serve's runner takes over the job once the dead process's
			// heartbeat is older than a minute.
			srv := e.serve()
			waitUntil(t, 4*time.Minute, "serve to resume the killed import", func() bool {
				n, done := importProgress(t, dsn)
				return done || n > killedAt
			})
			if _, done := importProgress(t, dsn); !done {
				srv.kill()
				at, _ := importProgress(t, dsn)
				t.Logf("serve killed after %d of %d rows", at, importRows)
				e.serve()
			}
			waitUntil(t, 6*time.Minute, "the import to finish", func() bool {
				_, done := importProgress(t, dsn)
				return done
			})
			contacts, events := optedOut(t, dsn)
			if contacts != importRows || events != importRows {
				t.Errorf("after the kills: %d contacts opted out by %d events, want %d and %d", contacts, events, importRows, importRows)
			}
			if code, out, errOut := e.run("", "audit", "verify"); code != 0 {
				t.Errorf("audit verify after the kills: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}
