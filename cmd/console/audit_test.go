package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models/auditchain"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// someEvents makes five audit entries through the command line, about two
// customers.
func someEvents(t *testing.T, dsn string) {
	t.Helper()
	mustConsole(t, dsn, "", "customer", "add", "--slug", "acme", "--name", "Acme <&> Realty")
	mustConsole(t, dsn, "", "customer", "add", "--slug", "bright", "--name", "Brightside")
	mustConsole(t, dsn, "", "apikey", "add", "--customer", "acme")
	mustConsole(t, dsn, "long enough passphrase 42\n", "user", "add", "--email", "ann@acme.example", "--role", "customer_admin", "--customer", "acme")
	mustConsole(t, dsn, "", "apikey", "add", "--customer", "bright")
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// noDB is a database the offline check must never need.
const noDB = "/nonexistent/directory/console.db"

func TestAuditExportVerifiesOfflineAndAnyEditFailsIt(t *testing.T) {
	dsn := modeltest.DSN(t)
	someEvents(t, dsn)
	full := mustConsole(t, dsn, "", "audit", "export")
	lines := strings.Split(strings.TrimSuffix(full, "\n"), "\n")
	if len(lines) < 5 {
		t.Fatalf("export of %d lines:\n%s", len(lines), full)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"seq", "occurred_at", "actor_type", "actor_id", "actor_label", "ip", "action",
		"object_type", "object_id", "customer_id", "details", "prev_hash", "hash"} {
		if _, ok := first[field]; !ok {
			t.Errorf("an exported entry lacks %q: %s", field, lines[0])
		}
	}

	out := mustConsole(t, noDB, "", "audit", "verify", "--file", writeFile(t, "full.jsonl", full))
	if !strings.Contains(out, fmt.Sprintf("export intact: %d entries, seq 1 to %d", len(lines), len(lines))) {
		t.Errorf("verify --file of a full export: %q", out)
	}

	edit := func(i int, from, to string) string {
		es := append([]string(nil), lines...)
		if !strings.Contains(es[i], from) {
			t.Fatalf("line %d lacks %q: %s", i+1, from, es[i])
		}
		es[i] = strings.Replace(es[i], from, to, 1)
		return strings.Join(es, "\n") + "\n"
	}
	without := func(i int) string {
		return strings.Join(append(append([]string(nil), lines[:i]...), lines[i+1:]...), "\n") + "\n"
	}
	swapped := func(i int) string {
		es := append([]string(nil), lines...)
		es[i], es[i+1] = es[i+1], es[i]
		return strings.Join(es, "\n") + "\n"
	}
	tests := []struct {
		name, export, reason string
	}{
		{"an edited action", edit(2, `"apikey.create"`, `"apikey.revoke"`), "line 3: export broken at entry 3: entry 3 was edited"},
		{"an edited actor", edit(1, `"console customer add"`, `"someone else"`), "entry 2 was edited"},
		{"edited details", edit(0, `Acme`, `Acne`), "entry 1 was edited"},
		{"an edited seq", edit(3, `"seq":4`, `"seq":40`), "line 4: export broken at entry 4: entry 4 is missing"},
		{"a removed middle entry", without(2), "line 3: export broken at entry 3: entry 3 is missing"},
		{"two entries swapped", swapped(1), "entry 2 is missing"},
		{"a removed first entry is a full export from entry 2", without(0), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := console(t, noDB, "", "audit", "verify", "--file", writeFile(t, "edited.jsonl", tt.export))
			if tt.reason == "" {
				if code != 0 {
					t.Errorf("exit %d, %s", code, errOut)
				}
				return
			}
			if code != 1 || !strings.Contains(errOut, tt.reason) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q", code, out, errOut, tt.reason)
			}
		})
	}

	t.Run("a filtered export", func(t *testing.T) {
		acme := mustConsole(t, dsn, "", "audit", "export", "--customer", "acme")
		path := writeFile(t, "acme.jsonl", acme)
		for _, line := range strings.Split(strings.TrimSpace(acme), "\n") {
			var e auditchain.Entry
			if err := json.Unmarshal([]byte(line), &e); err != nil || e.Action == "customer.create" && e.ObjectID != e.CustomerID {
				t.Fatalf("line %q: %v", line, err)
			}
		}
		code, _, errOut := console(t, noDB, "", "audit", "verify", "--file", path)
		if code != 1 || !strings.Contains(errOut, "verify it with --filtered") {
			t.Errorf("a filtered export checked as full: exit %d, %q", code, errOut)
		}
		out := mustConsole(t, noDB, "", "audit", "verify", "--file", path, "--filtered")
		if !strings.Contains(out, "export intact") || !strings.Contains(out, "gaps where the filter left entries out") {
			t.Errorf("verify --filtered: %q", out)
		}
		edited := strings.Replace(acme, "Acme", "Acne", 1)
		if code, _, errOut := console(t, noDB, "", "audit", "verify", "--file", writeFile(t, "e.jsonl", edited), "--filtered"); code != 1 || !strings.Contains(errOut, "was edited") {
			t.Errorf("an edited filtered export: exit %d, %q", code, errOut)
		}
	})

	t.Run("filters", func(t *testing.T) {
		keys := mustConsole(t, dsn, "", "audit", "export", "--action", "apikey.")
		if n := strings.Count(keys, "\n"); n != 2 || strings.Count(keys, `"action":"apikey.create"`) != 2 {
			t.Errorf("--action apikey. exported:\n%s", keys)
		}
		tomorrow := time.Now().AddDate(0, 0, 2).Format(time.DateOnly)
		if out := mustConsole(t, dsn, "", "audit", "export", "--since", tomorrow); out != "" {
			t.Errorf("--since the day after tomorrow exported:\n%s", out)
		}
		if out := mustConsole(t, dsn, "", "audit", "export", "--until", "2020-01-01"); out != "" {
			t.Errorf("--until 2020 exported:\n%s", out)
		}
		for _, args := range [][]string{{"--since", "yesterday"}, {"--customer", "nope"}} {
			if code, _, errOut := console(t, dsn, "", append([]string{"audit", "export"}, args...)...); code != 2 {
				t.Errorf("export %v: exit %d, %q; want 2", args, code, errOut)
			}
		}
	})
}

func TestAuditCheckpointExposesARewriteARollbackAndAForgery(t *testing.T) {
	dsn := modeltest.DSN(t)
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "audit.key")
	t.Setenv("CONSOLE_AUDIT_KEY", keyPath)
	someEvents(t, dsn)

	line := mustConsole(t, dsn, "", "audit", "checkpoint")
	var c auditchain.Checkpoint
	if err := json.Unmarshal([]byte(line), &c); err != nil || c.Seq < 5 || c.KeyID == "" || c.PublicKey == "" {
		t.Fatalf("checkpoint %q: %v", line, err)
	}
	if info, err := os.Stat(keyPath); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the key file: %v, %v; want mode 0600", info, err)
	}
	cps := writeFile(t, "checkpoints.jsonl", line)
	out := mustConsole(t, dsn, "", "audit", "verify", "--checkpoint", cps)
	if !strings.Contains(out, fmt.Sprintf("head %d hash %s", c.Seq, c.Hash)) || !strings.Contains(out, "1 checkpoints hold") {
		t.Errorf("verify --checkpoint: %q", out)
	}

	fail := func(name, path, reason string) {
		t.Helper()
		code, _, errOut := console(t, dsn, "", "audit", "verify", "--checkpoint", path)
		if code != 1 || !strings.Contains(errOut, reason) {
			t.Errorf("%s: exit %d, %q; want 1 and %q", name, code, errOut, reason)
		}
	}
	forged := strings.Replace(line, fmt.Sprintf(`"seq":%d`, c.Seq), `"seq":3`, 1)
	n := c.Seq
	fail("a checkpoint edited to another seq", writeFile(t, "forged.jsonl", line+forged), "checkpoint 2 (entry 3")
	_, otherKey, _ := ed25519.GenerateKey(nil)
	other, _ := json.Marshal(auditchain.Sign(otherKey, c.Seq, c.Hash, time.Now()))
	fail("a checkpoint by another key", writeFile(t, "other.jsonl", string(other)), "not a trusted key")

	db := openTestDB(t, dsn)
	disable := []string{"DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete", "DROP TRIGGER audit_events_continue_chain"}
	if db.Dialect == store.Postgres {
		disable = []string{"ALTER TABLE audit_events DISABLE TRIGGER USER"}
	}
	for _, q := range disable {
		if err := db.Gorm.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var es []store.AuditEvent
	if err := db.Gorm.Order("seq").Find(&es).Error; err != nil {
		t.Fatal(err)
	}

	// A rollback: the database as an older copy held it, before the
	// checkpoint's entry.
	exec := func(q string, args ...any) {
		t.Helper()
		if err := db.Gorm.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("DELETE FROM audit_events WHERE seq >= ?", n)
	exec("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", n-1, es[n-2].Hash)
	if out := mustConsole(t, dsn, "", "audit", "verify"); !strings.Contains(out, fmt.Sprintf("head %d", n-1)) {
		t.Fatalf("the rolled-back chain alone: %q", out)
	}
	fail("a rollback", cps, "rolled back")

	// A rewrite: entry 2 changed and every hash from there recomputed.
	for _, e := range es[:n-1] {
		if err := db.Gorm.Exec("DELETE FROM audit_events WHERE seq = ?", e.Seq).Error; err != nil {
			t.Fatal(err)
		}
	}
	prev := ""
	for i := range es {
		e := es[i]
		if e.Seq == 2 {
			e.Details = `{"crm":"other","name":"Someone Else","slug":"bright"}`
		}
		e.PrevHash = prev
		e.Hash = e.ComputeHash()
		if err := db.Gorm.Create(&e).Error; err != nil {
			t.Fatal(err)
		}
		prev = e.Hash
	}
	exec("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", len(es), prev)
	if out := mustConsole(t, dsn, "", "audit", "verify"); !strings.Contains(out, "audit chain intact") {
		t.Fatalf("the rewritten chain alone: %q", out)
	}
	fail("a rewrite of the whole chain", cps, "rewritten")
}

func TestAuditCommandLineMistakesExitTwo(t *testing.T) {
	dsn := modeltest.DSN(t)
	t.Setenv("CONSOLE_AUDIT_KEY", "")
	cp := writeFile(t, "cp.jsonl", "{}\n")
	for _, args := range [][]string{
		{"audit", "verify", "--filtered"},
		{"audit", "verify", "--file", "/nonexistent.jsonl"},
		{"audit", "verify", "--file", cp, "--checkpoint", cp},
		{"audit", "verify", "--checkpoint", cp},
		{"audit", "checkpoint"},
	} {
		if code, _, errOut := console(t, dsn, "", args...); code != 2 || strings.Count(errOut, "\n") != 1 {
			t.Errorf("console %v: exit %d, %q; want 2 and one line", args, code, errOut)
		}
	}
}

func TestServeAppendsSignedCheckpointsEveryInterval(t *testing.T) {
	db := modeltest.Open(t)
	key := newTestKey(t)
	path := filepath.Join(t.TempDir(), "checkpoints.jsonl")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		appendCheckpoints(ctx, db, key, path, 20*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	var cps []auditchain.Checkpoint
	// Until three checkpoints are there, the last of a later head than the first.
	followed := func() bool { return len(cps) >= 3 && cps[len(cps)-1].Seq > cps[0].Seq }
	for deadline := time.Now().Add(30 * time.Second); !followed() && time.Now().Before(deadline); {
		if err := db.Record(t.Context(), modeltest.Staff, store.Audit{Action: "test.tick"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
		if f, err := os.Open(path); err == nil {
			cps, _ = auditchain.ReadCheckpoints(f)
			f.Close()
		}
	}
	cancel()
	<-done
	if !followed() {
		t.Fatalf("checkpoints appended: %+v; want at least 3, following the head", cps)
	}
	for _, c := range cps {
		if err := c.CheckSignature([]ed25519.PublicKey{key.Public().(ed25519.PublicKey)}); err != nil {
			t.Errorf("checkpoint of entry %d: %v", c.Seq, err)
		}
		if err := db.CheckAuditCheckpoint(t.Context(), c); err != nil {
			t.Errorf("checkpoint of entry %d: %v", c.Seq, err)
		}
	}
	if last, err := db.LastAuditCheckpoint(t.Context()); err != nil || last == nil || last.Seq < cps[len(cps)-1].Seq {
		t.Errorf("the side table's last checkpoint: %+v, %v", last, err)
	}
}

func newTestKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	key, err := auditchain.LoadOrCreateKey(filepath.Join(t.TempDir(), "k.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// TestPythonVerifierAgreesWithTheConsole runs docs/verify_audit.py, the
// auditor's own check, on an export holding every kind of text the
// canonical encoding escapes.
func TestPythonVerifierAgreesWithTheConsole(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	dsn := modeltest.DSN(t)
	someEvents(t, dsn)
	db := openTestDB(t, dsn)
	for _, s := range []string{`quote " back \ slash`, "<b>&amp;</b>", "tab\tline\ncr\r\x01\x1f\x7f", "é 日本語 🙂 e\u0301", "sep\u2028\u2029", "\ufffd \ufeff"} {
		actor := store.StaffUser(s, s, s)
		if err := db.Record(t.Context(), actor, store.Audit{Action: "test." + s, ObjectID: s, Details: map[string]any{s: s}}); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join("..", "..", "docs", "verify_audit.py")
	run := func(export string, filtered bool) (int, string) {
		args := []string{script}
		if filtered {
			args = append(args, "--filtered")
		}
		cmd := exec.Command(python, append(args, writeFile(t, "export.jsonl", export))...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	full := mustConsole(t, dsn, "", "audit", "export")
	if code, out := run(full, false); code != 0 {
		t.Fatalf("python verifier on a full export: exit %d, %s", code, out)
	}
	acme := mustConsole(t, dsn, "", "audit", "export", "--customer", "acme")
	if code, out := run(acme, true); code != 0 {
		t.Errorf("python verifier on a filtered export: exit %d, %s", code, out)
	}
	lines := strings.SplitAfter(full, "\n")
	for name, bad := range map[string]string{
		"an edited entry":    strings.Replace(full, "Brightside", "Brightsid3", 1),
		"a removed entry":    strings.Join(append(append([]string(nil), lines[:3]...), lines[4:]...), ""),
		"an edited hard one": strings.Replace(full, `\u003cb\u003e`, `\u003ci\u003e`, 1),
	} {
		if code, out := run(bad, false); code != 1 || !strings.Contains(out, "export broken: line") {
			t.Errorf("python verifier on %s: exit %d, %s", name, code, out)
		}
	}
}
