package main

import (
	accounts "github.com/sendara/console/models/accounts"
	customers "github.com/sendara/console/models/customers"

	imports "github.com/sendara/console/models/imports"

	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// console runs the command line in-process against dsn and returns the exit
// status, stdout and stderr.
func console(t *testing.T, dsn, stdin string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("CONSOLE_DB", dsn)
	t.Setenv("CONSOLE_LOG_FORMAT", "json")
	t.Setenv("CONSOLE_SECRET_KEY", secretKeyFor(t, dsn))
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// secretKeyFor is where the console run on dsn keeps its secret key file:
// one per database, so every command a test runs on it opens its secrets,
// and never in the source tree.
func secretKeyFor(t *testing.T, dsn string) string {
	sum := sha256.Sum256([]byte(dsn))
	path := filepath.Join(os.TempDir(), "console-test-"+hex.EncodeToString(sum[:8])+".key")
	t.Cleanup(func() { _ = os.Remove(path) })
	return path
}

func mustConsole(t *testing.T, dsn, stdin string, args ...string) string {
	t.Helper()
	code, out, errOut := console(t, dsn, stdin, args...)
	if code != 0 {
		t.Fatalf("console %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func TestEveryCommandPrintsHelp(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.words, func(t *testing.T) {
			code, out, _ := console(t, "unused.db", "", append(strings.Fields(c.words), "--help")...)
			if code != 0 || !strings.Contains(out, "Usage: console "+c.words) || !strings.Contains(out, "-db") {
				t.Errorf("exit %d, help:\n%s", code, out)
			}
		})
	}
}

func TestCommandLineMistakesExitTwoWithOneLineReason(t *testing.T) {
	dsn := modeltest.DSN(t)
	mustConsole(t, dsn, "", "customer", "add", "--slug", "acme", "--name", "Acme")
	tests := []struct {
		name   string
		args   []string
		stdin  string
		reason string
	}{
		{"an unknown command", []string{"frobnicate"}, "", "unknown command"},
		{"an unknown flag", []string{"user", "add", "--bogus"}, "", "flag provided but not defined: -bogus"},
		{"a missing required flag", []string{"customer", "add", "--slug", "x"}, "", "--name is required"},
		{"a bad slug", []string{"customer", "add", "--slug", "Bad Slug", "--name", "X"}, "", "--slug must be"},
		{"a bad CRM", []string{"customer", "add", "--slug", "x", "--name", "X", "--crm", "excel"}, "", "--crm must be one of"},
		{"an unknown role", []string{"user", "add", "--email", "a@b.example", "--role", "wizard"}, "", "--role must be one of"},
		{"a customer role without a customer", []string{"user", "add", "--email", "a@b.example", "--role", "customer_admin"}, "", "--customer is required"},
		{"a staff role with a customer", []string{"user", "add", "--email", "a@b.example", "--role", "auditor", "--customer", "acme"}, "", "--customer is for customer roles"},
		{"an unknown customer", []string{"user", "add", "--email", "a@b.example", "--role", "customer_agent", "--customer", "nope"}, "long enough passphrase 42\n", "no customer with slug"},
		{"a weak password", []string{"user", "add", "--email", "a@b.example", "--role", "auditor"}, "password123\n", "--password must be at least 12 characters"},
		{"a breached password", []string{"user", "add", "--email", "a@b.example", "--role", "auditor"}, "passwordpassword\n", "--password is too common"},
		{"no password", []string{"user", "add", "--email", "a@b.example", "--role", "auditor"}, "", "no password on stdin"},
		{"a bad email", []string{"user", "add", "--email", "not-an-email", "--role", "auditor"}, "long enough passphrase 42\n", "--email is not a valid email"},
		{"a key for neither", []string{"apikey", "add"}, "", "exactly one of --customer SLUG or --staff"},
		{"a key for both", []string{"apikey", "add", "--staff", "--customer", "acme"}, "", "exactly one of"},
		{"a stray argument", []string{"migrate", "extra"}, "", `unexpected argument "extra"`},
		{"a bad time zone", []string{"migrate", "--db", dsn}, "", "CONSOLE_TIMEZONE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "a bad time zone" {
				t.Setenv("CONSOLE_TIMEZONE", "Mars/Olympus")
			}
			code, _, errOut := console(t, dsn, tt.stdin, tt.args...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			last := lines[len(lines)-1]
			if code != 2 || !strings.Contains(last, tt.reason) || !strings.HasPrefix(last, "console") {
				t.Errorf("exit %d, stderr %q; want 2 and a line naming %q", code, errOut, tt.reason)
			}
		})
	}
}

func TestUserAddTakesThePasswordFromStdin(t *testing.T) {
	dsn := modeltest.DSN(t)
	mustConsole(t, dsn, "", "customer", "add", "--slug", "acme", "--name", "Acme")
	mustConsole(t, dsn, "long enough passphrase 42\n", "user", "add", "--email", "Admin@Acme.example", "--role", "customer_admin", "--customer", "acme")
	db := openTestDB(t, dsn)
	res, err := db.Login(context.Background(), "admin@acme.example", "long enough passphrase 42", "127.0.0.1", "test",
		accounts.SessionPolicy{Idle: time.Hour, Absolute: time.Hour})
	if err != nil || res.User.Role() != accounts.RoleCustomerAdmin {
		t.Fatalf("the new user cannot sign in with the password given on stdin: %v", err)
	}
	code, _, errOut := console(t, dsn, "another long passphrase 9\n", "user", "add", "--email", "admin@acme.example", "--role", "customer_agent", "--customer", "acme")
	if code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("a duplicate email: exit %d, %q", code, errOut)
	}
}

func TestAPIKeyAddPrintsTheSecretAlone(t *testing.T) {
	dsn := modeltest.DSN(t)
	mustConsole(t, dsn, "", "customer", "add", "--slug", "acme", "--name", "Acme")
	for _, tt := range []struct {
		args   []string
		prefix string
	}{
		{[]string{"apikey", "add", "--customer", "acme", "--name", "HubSpot"}, "spc_live_"},
		{[]string{"apikey", "add", "--staff"}, "spc_staff_"},
	} {
		out := mustConsole(t, dsn, "", tt.args...)
		if !regexp.MustCompile(`^` + tt.prefix + `[a-z2-7]{52}\n$`).MatchString(out) {
			t.Errorf("%v printed %q, want the secret alone on one line", tt.args, out)
		}
		key, err := openTestDB(t, dsn).AuthenticateKey(context.Background(), strings.TrimSpace(out))
		if err != nil {
			t.Errorf("the printed secret does not authenticate: %v", err)
		} else if (key.CustomerID == nil) != (tt.prefix == "spc_staff_") {
			t.Errorf("key %s has customer %v", tt.prefix, key.CustomerID)
		}
	}
}

func TestTheDBFlagWinsOverTheEnvironment(t *testing.T) {
	fromEnv, fromFlag := modeltest.DSN(t), modeltest.DSN(t)
	mustConsole(t, fromEnv, "", "migrate")
	mustConsole(t, fromEnv, "", "customer", "add", "--slug", "flagged", "--name", "Flagged", "--db", fromFlag)
	if _, err := openTestDB(t, fromFlag).CustomerBySlug(context.Background(), "flagged"); err != nil {
		t.Errorf("the customer is not in the --db database: %v", err)
	}
	if _, err := openTestDB(t, fromEnv).CustomerBySlug(context.Background(), "flagged"); err == nil {
		t.Error("the customer went to CONSOLE_DB although --db was given")
	}
}

func TestAuditVerifyNamesTheFirstEditedEntry(t *testing.T) {
	dsn := modeltest.DSN(t)
	mustConsole(t, dsn, "", "customer", "add", "--slug", "acme", "--name", "Acme")
	mustConsole(t, dsn, "", "customer", "add", "--slug", "brightside", "--name", "Brightside")
	mustConsole(t, dsn, "", "apikey", "add", "--customer", "acme")
	if out := mustConsole(t, dsn, "", "audit", "verify"); !strings.Contains(out, "audit chain intact: 3 entries") {
		t.Fatalf("intact chain: %q", out)
	}
	db := openTestDB(t, dsn)
	tamper := []string{`UPDATE audit_events SET details = '{"slug":"evil"}' WHERE seq = 2`}
	if db.Dialect == store.Postgres {
		tamper = append([]string{"ALTER TABLE audit_events DISABLE TRIGGER USER"}, tamper...)
	} else {
		tamper = append([]string{"DROP TRIGGER audit_events_no_update"}, tamper...)
	}
	for _, q := range tamper {
		if err := db.Gorm.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	code, _, errOut := console(t, dsn, "", "audit", "verify")
	if code != 1 || !strings.Contains(errOut, "entry 2 was edited") {
		t.Errorf("after editing entry 2: exit %d, %q", code, errOut)
	}
}

func TestServeRefusesASchemaNewerThanItKnows(t *testing.T) {
	dsn := modeltest.DSN(t)
	mustConsole(t, dsn, "", "migrate")
	if err := openTestDB(t, dsn).Gorm.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)").Error; err != nil {
		t.Fatal(err)
	}
	code, _, errOut := console(t, dsn, "", "serve", "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "database schema is version 9999") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

// TestServeShutsDownGracefullyAndLogsNoSecrets runs the real program: it
// migrates on start (logged), answers, writes structured request logs with
// request ids and without the password it was sent, and stops cleanly on
// SIGTERM.
func TestServeShutsDownGracefullyAndLogsNoSecrets(t *testing.T) {
	dsn := modeltest.DSN(t)
	checkpoints, auditKey := filepath.Join(t.TempDir(), "checkpoints.jsonl"), filepath.Join(t.TempDir(), "audit.key")
	cmd := consoleCommand(t, []string{"CONSOLE_DB=" + dsn, "CONSOLE_LOG_FORMAT=json", "CONSOLE_SECRET_KEY=" + secretKeyFor(t, dsn),
		"CONSOLE_AUDIT_KEY=" + auditKey, "CONSOLE_AUDIT_CHECKPOINTS=" + checkpoints}, "serve", "--addr", "127.0.0.1:0", "--demo")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	var logs []map[string]any
	lines := bufio.NewScanner(stderr)
	addr := ""
	for addr == "" && lines.Scan() {
		var entry map[string]any
		if err := json.Unmarshal(lines.Bytes(), &entry); err != nil {
			t.Fatalf("a log line is not JSON: %q", lines.Text())
		}
		logs = append(logs, entry)
		if entry["msg"] == "console listening" {
			addr, _ = entry["addr"].(string)
		}
	}
	if addr == "" {
		t.Fatal("serve never logged that it was listening")
	}
	base := "http://" + addr
	if res, err := http.Get(base + "/healthz"); err != nil || res.StatusCode != 200 {
		t.Fatalf("/healthz: %v", err)
	}
	const secret = "correct horse battery staple secret"
	if _, err := http.PostForm(base+"/login", url.Values{"email": {"admin@sendara.example"}, "password": {secret}}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stderr)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve did not exit cleanly on SIGTERM: %v", err)
	}
	all := string(rest)
	for _, e := range logs {
		b, _ := json.Marshal(e)
		all += string(b)
	}
	for _, want := range []string{`"msg":"migration applied"`, `"request_id"`, `"msg":"stopped"`} {
		if !strings.Contains(all, want) {
			t.Errorf("logs lack %s:\n%s", want, all)
		}
	}
	// serve signed a checkpoint of the head when it started.
	if out := mustConsole(t, dsn, "", "audit", "verify", "--key", auditKey, "--checkpoint", checkpoints); !strings.Contains(out, "checkpoints hold") {
		t.Errorf("serve's checkpoints: %q", out)
	}
	demoPasswords := regexp.MustCompile(`[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}`).FindAllString(stdout.String(), -1)
	if len(demoPasswords) != 6 {
		t.Errorf("--demo printed %d passwords, want one per demo user (6):\n%s", len(demoPasswords), stdout.String())
	}
	for _, pw := range append(demoPasswords, secret) {
		if strings.Contains(all, pw) {
			t.Errorf("the password %q reached the logs", pw)
		}
	}
}

func openTestDB(t *testing.T, dsn string) *models.DB {
	t.Helper()
	db, err := models.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestServePutsTheRunningImportBackInTheQueueWhenItStops runs the real
// program on a large import and stops it mid-way: the job must be back in
// the queue at once, not left claimed until its heartbeat goes stale.
func TestServePutsTheRunningImportBackInTheQueueWhenItStops(t *testing.T) {
	dsn := modeltest.DSN(t)
	mustConsole(t, dsn, "", "migrate")
	db := openTestDB(t, dsn)
	ctx := context.Background()
	acme, err := db.CreateCustomer(ctx, modeltest.Staff, customers.CustomerInput{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	var file strings.Builder
	file.WriteString("Email\n")
	for i := range 300_000 {
		fmt.Fprintf(&file, "person%d@example.com\n", i)
	}
	opts := imports.ImportOptions{Region: "US", Location: time.UTC}
	job, err := db.CreateImport(ctx, modeltest.Staff, imports.ImportUpload{CustomerID: acme.ID, FileName: "big.csv",
		File: strings.NewReader(file.String())}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if job, err = db.StartImport(ctx, modeltest.Staff, job.ID, ""); err != nil {
		t.Fatal(err)
	}

	cmd := consoleCommand(t, []string{"CONSOLE_DB=" + dsn, "CONSOLE_LOG_FORMAT=json"}, "serve", "--addr", "127.0.0.1:0")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.Now().Add(2 * time.Minute)
	for {
		j, err := db.ImportJob(ctx, modeltest.Staff, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == imports.ImportRunning && j.ProcessedRows > 0 {
			break
		}
		if j.Status == imports.ImportDone || time.Now().After(deadline) {
			t.Fatalf("the import never ran part-way (status %s, %d rows); logs:\n%s", j.Status, j.ProcessedRows, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve did not exit cleanly on SIGTERM: %v\n%s", err, logs.String())
	}

	j, err := db.ImportJob(ctx, modeltest.Staff, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != imports.ImportQueued || j.ClaimedBy != "" {
		t.Errorf("after a graceful stop the import is %s, claimed by %q; want queued and unclaimed\n%s", j.Status, j.ClaimedBy, logs.String())
	}
}

// runAsConsole, set in a child's environment, makes this test binary run
// the console's main instead of the tests: the tests that start the real
// program (serve, signals, logs) run this binary, whose main package is
// the console's own, instead of linking a second one (seconds of CPU).
const runAsConsole = "CONSOLE_TEST_RUN_AS_CONSOLE"

// consoleCommand is the console program with args, run as a child process
// with env added to this process's environment.
func consoleCommand(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(append(os.Environ(), runAsConsole+"=1"), env...)
	return cmd
}

// TestMain runs the console itself when a test started this binary as the
// console (consoleCommand).
func TestMain(m *testing.M) {
	if os.Getenv(runAsConsole) == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
