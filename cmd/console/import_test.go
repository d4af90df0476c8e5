package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	imports "github.com/sendara/console/models/imports"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

const optOutCSV = "Phone Number,Email,First Name\n" +
	"+1 415 555 0100,ann@example.com,Ann\n" +
	"n/a,,Bob\n" +
	"415.555.0102,,Cy\n"

func writeCSV(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// importEnv runs the import command's body with its stderr captured.
func importEnv(t *testing.T, dsn string, args ...string) (*cliEnv, *bytes.Buffer) {
	t.Helper()
	cfg := configFromEnv()
	cfg.DB = dsn
	if err := cfg.finish(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	return &cliEnv{cfg: cfg, stdin: strings.NewReader(""), stdout: &out, log: slog.New(slog.NewTextHandler(io.Discard, nil)), args: args}, &out
}

func TestImportOptOutsListsBadRowsOnStderrAndReportsOnStdout(t *testing.T) {
	dsn := modeltest.DSN(t)
	t.Setenv("CONSOLE_LOG_FORMAT", "json")
	mustConsole(t, dsn, "", "customer", "add", "--slug", "acme", "--name", "Acme")
	file := writeCSV(t, "hubspot.csv", optOutCSV)

	env, out := importEnv(t, dsn, file)
	var stderr bytes.Buffer
	if err := runImport(context.Background(), env, &stderr, importArgs{customer: "acme", channel: "all"}); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{
		`hubspot.csv: 3 rows, 1 bad; line 1 is a header; columns: "Phone Number" → phone number, "Email" → email address, "First Name" → first name`,
		`line 3, Phone Number: "n/a" is neither a phone number nor an email address`,
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if want := "3 rows; 2 applied, 0 already opted out or imported, 1 bad rows skipped, 2 contacts created"; !strings.Contains(out.String(), want) {
		t.Errorf("stdout = %q, want it to contain %q", out.String(), want)
	}

	db := openTestDB(t, dsn)
	c, err := db.CustomerBySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"+14155550100", "ann@example.com", "+14155550102"} {
		if s, err := db.CheckSuppression(context.Background(), c.ID, store.Identifier{Value: to}, ""); err != nil || !s.Suppressed {
			t.Errorf("%s: %+v %v, want suppressed", to, s, err)
		}
	}

	// The same file again: the same code path, and nothing changes.
	env, out = importEnv(t, dsn, file)
	if err := runImport(context.Background(), env, io.Discard, importArgs{customer: "acme", channel: "all"}); err != nil {
		t.Fatal(err)
	}
	if want := "0 applied, 2 already opted out or imported"; !strings.Contains(out.String(), want) {
		t.Errorf("second run: %q, want %q", out.String(), want)
	}
}

func TestImportOptOutsExitStatus(t *testing.T) {
	dsn := modeltest.DSN(t)
	mustConsole(t, dsn, "", "customer", "add", "--slug", "acme", "--name", "Acme")
	good := writeCSV(t, "good.csv", optOutCSV)
	tests := []struct {
		name   string
		args   []string
		code   int
		reason string
	}{
		{"no customer", []string{good}, 2, "--customer is required"},
		{"no file", []string{"--customer", "acme"}, 2, "give the CSV file to import"},
		{"two files", []string{"--customer", "acme", good, good}, 2, "give one CSV file, not 2"},
		{"a missing file", []string{"--customer", "acme", filepath.Join(t.TempDir(), "nope.csv")}, 2, "cannot read"},
		{"a directory", []string{"--customer", "acme", t.TempDir()}, 2, "is a directory"},
		{"an unknown customer", []string{"--customer", "nobody", good}, 2, `no customer with slug "nobody"`},
		{"a bad channel", []string{"--customer", "acme", "--channel", "sms", good}, 2, "--channel must be imessage, facetime or all"},
		{"an empty file", []string{"--customer", "acme", writeCSV(t, "empty.csv", "")}, 1, "empty.csv is empty"},
		{"a workbook", []string{"--customer", "acme", writeCSV(t, "list.xlsx", "PK\x03\x04zip")}, 1, "Excel workbook"},
		{"no identifier column", []string{"--customer", "acme", writeCSV(t, "odd.csv", "Number,Who\n4155550100,A\n")}, 1, "cannot be imported: No column of phone numbers"},
		{"every row bad", []string{"--customer", "acme", writeCSV(t, "bad.csv", "Phone\nn/a\nx\n")}, 1, "has no usable rows: all 2 are bad"},
		{"a dry run", []string{"--customer", "acme", "--dry-run", good}, 0, ""},
		{"an import with a bad row", []string{"--customer", "acme", good}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := console(t, dsn, "", append([]string{"import", "opt-outs"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.reason) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.reason)
			}
		})
	}
	db := openTestDB(t, dsn)
	var jobs []imports.ImportJob
	if err := db.Gorm.Order("id").Find(&jobs).Error; err != nil {
		t.Fatal(err)
	}
	// The file without an identifier column and the file of bad rows were
	// discarded, the dry run is listed as checked (not as a cancelled
	// import); the other failures never created a job.
	statuses := []string{}
	for _, j := range jobs {
		statuses = append(statuses, j.Status)
	}
	if strings.Join(statuses, ",") != "cancelled,cancelled,checked,done" {
		t.Errorf("jobs left: %v", statuses)
	}
	var events int64
	if err := db.Gorm.Table("consent_events").Count(&events).Error; err != nil || events != 2 {
		t.Errorf("%d consent events (%v), want 2: from the one real import", events, err)
	}
}
