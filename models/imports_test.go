package models_test

import (
	consent "github.com/sendara/console/models/consent"
	errs "github.com/sendara/console/models/errs"

	imports "github.com/sendara/console/models/imports"

	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

var importOpts = imports.ImportOptions{Region: "US", Location: time.UTC}

func detectMapping(t *testing.T, file string, kind string) imports.ImportMapping {
	t.Helper()
	m, err := imports.DetectImportMapping(strings.NewReader(file), kind, importOpts)
	if err != nil {
		t.Fatalf("DetectImportMapping: %v", err)
	}
	return m
}

func TestDetectImportMappingRecognisesTypicalCRMExports(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header string
		kind   string
		want   []string
	}{
		{"HubSpot", "Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number,Lifecycle Stage",
			imports.ImportOptOuts, []string{"crm_id", "first_name", "last_name", "email", "phone", "phone", ""}},
		{"GoHighLevel", "Contact Id,First Name,Last Name,Name,Phone,Email,Created,Tags",
			imports.ImportOptOuts, []string{"crm_id", "first_name", "last_name", "name", "phone", "email", "", ""}},
		{"Salesforce", "Id,Name,Email,Email Opt Out,Phone,Mobile Phone,Phone Type",
			imports.ImportOptOuts, []string{"crm_id", "name", "email", "opt_out_flag", "phone", "phone", ""}},
		{"a contacts file ignores an opt-out flag", "Id,Name,Email,Email Opt Out",
			imports.ImportContacts, []string{"crm_id", "name", "email", ""}},
		{"Pipedrive", "Person - ID,Person - Name,Person - Phone - Work,Person - Email - Work",
			imports.ImportOptOuts, []string{"crm_id", "name", "phone", "email"}},
		{"Close", "id,display_name,primary_phone,primary_email,email_verified",
			imports.ImportOptOuts, []string{"crm_id", "name", "phone", "email", ""}},
		{"an opt-out list with channel and date", "Phone,Channel,Opted out at",
			imports.ImportOptOuts, []string{"phone", "channel", "occurred_at"}},
		{"a contacts file ignores channel and date", "Email Address,Channel,Date",
			imports.ImportContacts, []string{"email", "", ""}},
		{"two name columns keep the first", "Email,Name,Full Name",
			imports.ImportOptOuts, []string{"email", "name", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := detectMapping(t, tc.header+"\n", tc.kind)
			if !m.Header || !slices.Equal(m.Fields, tc.want) {
				t.Errorf("header=%v fields=%q, want header and %q", m.Header, m.Fields, tc.want)
			}
			if m.Problem() != "" {
				t.Errorf("Problem() = %q for a file with an identifier column", m.Problem())
			}
		})
	}
}

func TestDetectImportMappingReadsDelimitersByteOrderMarksAndHeaderlessFiles(t *testing.T) {
	t.Parallel()
	t.Run("semicolons", func(t *testing.T) {
		m := detectMapping(t, "Name;Phone;Email\nA;415 555 0123;a@b.co\n", imports.ImportOptOuts)
		if m.Delimiter != ";" || !slices.Equal(m.Fields, []string{"name", "phone", "email"}) {
			t.Errorf("delimiter %q fields %q", m.Delimiter, m.Fields)
		}
	})
	t.Run("tabs", func(t *testing.T) {
		m := detectMapping(t, "Email\tName\na@b.co\tA\n", imports.ImportOptOuts)
		if m.Delimiter != "\t" || !slices.Equal(m.Fields, []string{"email", "name"}) {
			t.Errorf("delimiter %q fields %q", m.Delimiter, m.Fields)
		}
	})
	t.Run("a byte-order mark", func(t *testing.T) {
		m := detectMapping(t, "\ufeffEmail,Name\na@b.co,A\n", imports.ImportOptOuts)
		if m.Columns[0] != "Email" || m.Fields[0] != "email" {
			t.Errorf("columns %q fields %q", m.Columns, m.Fields)
		}
	})
	t.Run("no header, numbers on line 1", func(t *testing.T) {
		m := detectMapping(t, "+1 415 555 0123,Jane\n415.555.0124,John\n", imports.ImportOptOuts)
		if m.Header || !slices.Equal(m.Fields, []string{"phone", ""}) || m.Columns[0] != "Column 1" {
			t.Errorf("header=%v fields=%q columns=%q", m.Header, m.Fields, m.Columns)
		}
	})
	t.Run("a header naming no identifier", func(t *testing.T) {
		m := detectMapping(t, "Number,Who\n4155550123,A\n", imports.ImportOptOuts)
		if !m.Header || m.HasIdentifier() || !strings.Contains(m.Problem(), "No column of phone numbers") {
			t.Errorf("header=%v fields=%q problem=%q", m.Header, m.Fields, m.Problem())
		}
	})
}

func TestDetectImportMappingRefusesFilesThatAreNotCSVText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, reason string
	}{
		{"an empty file", "", "is empty"},
		{"blank lines only", "\n\n  \n", "is empty"},
		{"an Excel workbook", "PK\x03\x04\x14\x00rest", "Excel workbook"},
		{"an old Excel workbook", "\xD0\xCF\x11\xE0\xA1\xB1", "old Excel"},
		{"UTF-16 text", "\xFF\xFEE\x00m\x00", "UTF-16"},
		{"binary", "Email\x00\x01\x02", "not a text file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := imports.DetectImportMapping(strings.NewReader(tc.file), imports.ImportOptOuts, importOpts)
			v, ok := errs.AsValidation(err)
			if !ok || v.Field != "file" || !strings.Contains(v.Message, tc.reason) {
				t.Errorf("err = %v, want a validation error on file mentioning %q", err, tc.reason)
			}
		})
	}
}

// parseAll reads every row of file as DetectImportMapping proposes.
func parseCSV(t *testing.T, file, kind string) ([]imports.ImportRow, imports.ImportMapping) {
	t.Helper()
	m := detectMapping(t, file, kind)
	p := imports.NewImportParser(strings.NewReader(file), kind, m, importOpts, imports.ImportCursor{})
	var rows []imports.ImportRow
	for {
		r, err := p.Next()
		if errors.Is(err, io.EOF) {
			return rows, m
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, r)
	}
}

func TestImportParserListsEveryBadRowWithItsLineValueAndReason(t *testing.T) {
	t.Parallel()
	file := "Phone,Email,Name,Channel,Opted out at\r\n" + // line 1
		"+1 415 555 0100,,Ann,,\r\n" + // 2: good
		"n/a,,Bob,,\r\n" + // 3: bad phone
		",not-an-email,Cy,,\r\n" + // 4: bad email
		",,\"Dee\nwith a second line\",,\r\n" + // 5-6: no identifier, a multi-line name
		"\r\n" + // 7: blank, skipped
		"415 555 0101,,Eve,sms,\r\n" + // 8: bad channel
		"415 555 0102,,Fay,imessage,2999-01-01\r\n" + // 9: future
		"415 555 0103,,Gus,,yesterday\r\n" + // 10: not a date
		"415 555 0104,ok@example.com,Hal,FaceTime,2026-01-15 09:30\r\n" // 11: good
	rows, _ := parseCSV(t, file, imports.ImportOptOuts)
	type problem struct {
		line   int64
		field  string
		value  string
		reason string
	}
	var got []problem
	var good []int64
	for _, r := range rows {
		if len(r.Problems) == 0 {
			good = append(good, r.Line)
		}
		for _, p := range r.Problems {
			if p.Line != r.Line {
				t.Errorf("problem line %d on row %d", p.Line, r.Line)
			}
			got = append(got, problem{p.Line, p.Field, p.Value, p.Reason})
		}
	}
	want := []problem{
		{3, "Phone", "n/a", `"n/a" is neither a phone number nor an email address`},
		{4, "Email", "not-an-email", "neither a phone number nor an email address"},
		{5, "row", ",,Dee\nwith a second line,,", "has no phone number or email address"},
		{8, "Channel", "sms", "must be imessage, facetime or all"},
		{9, "Opted out at", "2999-01-01", "is in the future"},
		{10, "Opted out at", "yesterday", "is not a date"},
	}
	if len(got) != len(want) {
		t.Fatalf("problems:\n%+v\nwant:\n%+v", got, want)
	}
	for i := range want {
		if got[i].line != want[i].line || got[i].field != want[i].field || got[i].value != want[i].value || !strings.Contains(got[i].reason, want[i].reason) {
			t.Errorf("problem %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if !slices.Equal(good, []int64{2, 11}) {
		t.Errorf("good rows on lines %v, want [2 11]", good)
	}
	last := rows[len(rows)-1]
	wantAt := time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)
	if last.Channel != consent.ChannelFaceTime || !last.OccurredAt.Equal(wantAt) || last.Name != "Hal" || len(last.Identifiers) != 2 {
		t.Errorf("line 11 read as %+v", last)
	}
}

func TestImportParserJoinsFirstAndLastNamesAndDeduplicatesIdentifiers(t *testing.T) {
	t.Parallel()
	rows, _ := parseCSV(t, "First Name,Last Name,Phone,Mobile Phone,Record ID\nJane,Doe,(415) 555-0123,+14155550123,hs-1\n", imports.ImportContacts)
	r := rows[0]
	if r.Name != "Jane Doe" || r.CRMID != "hs-1" || len(r.Identifiers) != 1 || r.Identifiers[0].Value != "+14155550123" {
		t.Errorf("row = %+v", r)
	}
}

func TestImportParserReadsTheDatesCRMsWrite(t *testing.T) {
	t.Parallel()
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skip("no time zone data")
	}
	opts := imports.ImportOptions{Region: "US", Location: la}
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-03-31T14:05:00Z", time.Date(2026, 3, 31, 14, 5, 0, 0, time.UTC)},
		{"2026-03-31T14:05:00-04:00", time.Date(2026, 3, 31, 18, 5, 0, 0, time.UTC)},
		{"2026-03-31 14:05", time.Date(2026, 3, 31, 14, 5, 0, 0, la)},
		{"2026-03-31", time.Date(2026, 3, 31, 0, 0, 0, 0, la)},
		{"03/31/2026", time.Date(2026, 3, 31, 0, 0, 0, 0, la)},
		{"3/4/2026 2:05 pm", time.Date(2026, 3, 4, 14, 5, 0, 0, la)},
		{"31/03/2026", time.Date(2026, 3, 31, 0, 0, 0, 0, la)},
		{"Mar 31, 2026", time.Date(2026, 3, 31, 0, 0, 0, 0, la)},
		{"1774965900", time.Unix(1774965900, 0)},
		{"1774965900000", time.Unix(1774965900, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			file := "Phone,Date\n4155550123,\"" + tc.in + "\"\n"
			m := detectMapping(t, file, imports.ImportOptOuts)
			r, err := imports.NewImportParser(strings.NewReader(file), imports.ImportOptOuts, m, opts, imports.ImportCursor{}).Next()
			if err != nil || len(r.Problems) > 0 || !r.OccurredAt.Equal(tc.want) {
				t.Errorf("read %q as %v (%v, %+v), want %v", tc.in, r.OccurredAt, err, r.Problems, tc.want.UTC())
			}
		})
	}
}

// A resumed parser (started at a cursor, as a runner after a crash) reads
// the same rows with the same line numbers as one reading from the start.
func TestImportParserResumedAtAnyRowNumbersLinesAsTheFileDoes(t *testing.T) {
	t.Parallel()
	file := "\ufeffPhone,Note\r\n" +
		"4155550100,\"two\r\nlines\"\r\n" +
		"\r\n" +
		"4155550101,plain\n" +
		"4155550102,\"three\nlines\nhere\"\n" +
		"bad,\"x\"\n" +
		"4155550103,last"
	m := detectMapping(t, file, imports.ImportOptOuts)
	p := imports.NewImportParser(strings.NewReader(file), imports.ImportOptOuts, m, importOpts, imports.ImportCursor{})
	type step struct {
		line   int64
		ids    int
		cursor imports.ImportCursor
	}
	var full []step
	for {
		r, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		full = append(full, step{r.Line, len(r.Identifiers), p.Cursor()})
	}
	lines := []int64{}
	for _, s := range full {
		lines = append(lines, s.line)
	}
	if !slices.Equal(lines, []int64{2, 5, 6, 9, 10}) {
		t.Fatalf("lines %v, want [2 5 6 9 10]", lines)
	}
	for i := range full[:len(full)-1] {
		from := full[i].cursor
		rp := imports.NewImportParser(strings.NewReader(file[from.Offset:]), imports.ImportOptOuts, m, importOpts, from)
		for _, want := range full[i+1:] {
			r, err := rp.Next()
			if err != nil || r.Line != want.line || len(r.Identifiers) != want.ids || rp.Cursor() != want.cursor {
				t.Errorf("resumed at %+v: line %d (%v) cursor %+v, want line %d cursor %+v", from, r.Line, err, rp.Cursor(), want.line, want.cursor)
			}
		}
		if _, err := rp.Next(); !errors.Is(err, io.EOF) {
			t.Errorf("resumed at %+v: no EOF at the end: %v", from, err)
		}
	}
}

func TestImportParserRefusesAQuoteThatNeverCloses(t *testing.T) {
	t.Parallel()
	file := "Phone,Name\n4155550100,\"runaway\n" + strings.Repeat("4155550101,x\n", 120000)
	m := detectMapping(t, file, imports.ImportOptOuts)
	p := imports.NewImportParser(strings.NewReader(file), imports.ImportOptOuts, m, importOpts, imports.ImportCursor{})
	var err error
	for err == nil {
		_, err = p.Next()
	}
	if v, ok := errs.AsValidation(err); !ok || !strings.Contains(v.Message, "line 2 starts a row longer than 1 MiB") {
		t.Errorf("err = %v, want a validation error naming line 2", err)
	}
}

// FuzzParseImport: whatever the bytes, detecting and parsing never panic,
// and every bad row carries its line number and a reason.
func FuzzParseImport(f *testing.F) {
	for _, s := range []string{
		"Phone,Email,Name\n+1 415 555 0123,a@b.co,Ann\nn/a,,\n",
		"\ufeffEmail;Name\r\na@b.co;\"multi\nline\"\r\n",
		"4155550123\n4155550124\n",
		"Phone,Channel,Date\n4155550123,sms,someday\n\"unterminated\n",
		"a,\"b\"c\",d\n\"\"\"\n",
		"Phone,Evidence Kind,Evidence,Captured By,Captured At\n4155550123,web form,f-1,Ann,2026-01-02\n4155550124,pigeon,,,\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		for _, kind := range []string{imports.ImportOptOuts, imports.ImportContacts, imports.ImportOptIns} {
			m, err := imports.DetectImportMapping(strings.NewReader(file), kind, importOpts)
			if err != nil {
				if _, ok := errs.AsValidation(err); !ok {
					t.Fatalf("DetectImportMapping failed without a validation error: %v", err)
				}
				continue
			}
			p := imports.NewImportParser(bytes.NewReader([]byte(file)), kind, m, importOpts, imports.ImportCursor{})
			prev := int64(0)
			for {
				r, err := p.Next()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						if _, ok := errs.AsValidation(err); !ok {
							t.Fatalf("Next failed without a validation error: %v", err)
						}
					}
					break
				}
				if r.Line <= prev {
					t.Fatalf("row on line %d after line %d", r.Line, prev)
				}
				prev = r.Line
				if len(r.Problems) == 0 && len(r.Identifiers) == 0 && m.HasIdentifier() {
					t.Fatalf("line %d: a good row without an identifier", r.Line)
				}
				if kind == imports.ImportOptIns && m.ProblemFor(kind) == "" && r.Applies(kind) &&
					(r.EvidenceKind == "" || r.EvidenceRef == "" || r.CapturedBy == "" || r.OccurredAt.IsZero()) {
					t.Fatalf("line %d: an opt-in row applies without all of its evidence: %+v", r.Line, r)
				}
				for _, pr := range r.Problems {
					if pr.Line != r.Line || pr.Line < 1 || pr.Reason == "" || pr.Field == "" {
						t.Fatalf("problem without line, field or reason: %+v", pr)
					}
				}
			}
		}
	})
}

// ---- Against the database ----

func uploadCSV(t *testing.T, db *models.DB, actor store.Actor, customerID, kind, file string) *imports.ImportJob {
	t.Helper()
	job, err := db.CreateImport(context.Background(), actor, imports.ImportUpload{CustomerID: customerID, Kind: kind,
		FileName: "list.csv", File: strings.NewReader(file)}, importOpts)
	if err != nil {
		t.Fatalf("CreateImport: %v", err)
	}
	return job
}

// applyAll runs a previewed job to the end with the public batch API, in
// batches of size rows (the jobs package's runner does the same).
func applyImport(t *testing.T, db *models.DB, actor store.Actor, job *imports.ImportJob, size int) *imports.ImportJob {
	t.Helper()
	ctx := context.Background()
	job, err := db.StartImport(ctx, actor, job.ID, "test-runner")
	if err != nil {
		t.Fatalf("StartImport: %v", err)
	}
	p := imports.NewImportParser(db.ImportReader(ctx, job.ID, job.ResumeOffset), job.Kind, job.Mapping, importOpts, job.Cursor())
	for done := false; !done; {
		b := imports.ImportBatch{From: p.Cursor()}
		for b.Consumed < int64(size) {
			r, err := p.Next()
			if errors.Is(err, io.EOF) {
				done = true
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b.Consumed++
			if r.Applies(job.Kind) {
				b.Rows = append(b.Rows, r)
			}
		}
		b.To = p.Cursor()
		if b.Consumed > 0 {
			if err := db.ApplyImportBatch(ctx, job, "test-runner", b); err != nil {
				t.Fatalf("ApplyImportBatch: %v", err)
			}
		}
	}
	if err := db.FinishImport(ctx, job, "test-runner"); err != nil {
		t.Fatalf("FinishImport: %v", err)
	}
	return job
}

func rowCount(t *testing.T, db *models.DB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Gorm.Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateImportPreviewsTheFileAndWritesNoContactBeforeItStarts(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	job := uploadCSV(t, db, modeltest.Staff, acme.ID, imports.ImportOptOuts,
		"Phone Number,Email\n4155550100,\nnope,\n,a@b.co\n")
	if job.Status != imports.ImportPreview || job.TotalRows != 3 || job.BadRows != 1 || job.FileSize == 0 || len(job.FileSHA256) != 64 {
		t.Errorf("job = %+v", job)
	}
	problems, err := db.ImportProblems(context.Background(), job, 0, -2, 100)
	if err != nil || len(problems) != 1 || problems[0].Line != 3 || problems[0].Value != "nope" {
		t.Errorf("problems = %+v, %v", problems, err)
	}
	if n := rowCount(t, db, "contacts", ""); n != 0 {
		t.Errorf("%d contacts exist before the import started", n)
	}
	if n := rowCount(t, db, "audit_events", "action = ?", "import.create"); n != 1 {
		t.Errorf("%d import.create entries, want 1", n)
	}
}

func TestAFileThatCannotBeImportedLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	for name, file := range map[string]string{"empty": "", "header only": "Phone,Email\n", "workbook": "PK\x03\x04zip"} {
		_, err := db.CreateImport(context.Background(), modeltest.Staff, imports.ImportUpload{CustomerID: acme.ID,
			FileName: name + ".csv", File: strings.NewReader(file)}, importOpts)
		if v, ok := errs.AsValidation(err); !ok || v.Field != "file" {
			t.Errorf("%s: err = %v, want a validation error on file", name, err)
		}
	}
	for _, table := range []string{"import_jobs", "import_chunks", "import_bad_rows"} {
		if n := rowCount(t, db, table, ""); n != 0 {
			t.Errorf("%d rows left in %s", n, table)
		}
	}
}

func TestImportJobsAreScopedToTheActorsTenant(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, bolt := newCustomer(t, db, "acme"), newCustomer(t, db, "bolt")
	boltUser := store.CustomerUser("u-bolt", "admin@bolt.test", bolt.ID, "")
	job := uploadCSV(t, db, modeltest.Staff, acme.ID, imports.ImportOptOuts, "Phone\n4155550100\n")
	if _, err := db.ImportJob(ctx, boltUser, job.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another tenant's job: %v, want ErrNotFound", err)
	}
	if _, err := db.StartImport(ctx, boltUser, job.ID, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("starting another tenant's job: %v, want ErrNotFound", err)
	}
	if err := db.CancelImport(ctx, boltUser, job.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("discarding another tenant's job: %v, want ErrNotFound", err)
	}
	if jobs, _, err := db.ImportJobs(ctx, boltUser, imports.ImportFilter{}); err != nil || len(jobs) != 0 {
		t.Errorf("bolt lists %d jobs (%v), want none", len(jobs), err)
	}
	_, err := db.CreateImport(ctx, boltUser, imports.ImportUpload{CustomerID: acme.ID, File: strings.NewReader("Phone\n4155550100\n")}, importOpts)
	if v, ok := errs.AsValidation(err); !ok || v.Field != "customer" {
		t.Errorf("uploading into another tenant: %v, want a validation error on customer", err)
	}
}

func TestAnOptOutRowWithAPhoneAndAnEmailIsOnePerson(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := newCustomer(t, db, "acme")
	known, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"known@example.com"}, Name: "Kim"}, "US")
	if err != nil {
		t.Fatal(err)
	}
	job := uploadCSV(t, db, modeltest.Staff, acme.ID, imports.ImportOptOuts,
		"Phone,Email,Name,Record ID\n"+
			"4155550100,new@example.com,Ann,hs-1\n"+ // both unknown: one new contact
			"4155550101,known@example.com,Kim,hs-2\n") // the phone joins Kim
	job = applyImport(t, db, modeltest.Staff, job, 1000)
	if job.Applied != 2 || job.Unchanged != 0 || job.ContactsCreated != 1 {
		t.Errorf("applied %d unchanged %d created %d, want 2, 0, 1", job.Applied, job.Unchanged, job.ContactsCreated)
	}
	found, err := db.ContactsByIdentifier(ctx, modeltest.Staff, acme.ID, "new@example.com", "US")
	if err != nil || len(found) != 1 || !slices.Equal(found[0].Values(), []string{"+14155550100", "new@example.com"}) ||
		found[0].Name != "Ann" || found[0].CRMID != "hs-1" || !found[0].Suppressed {
		t.Errorf("Ann's contact = %+v (%v)", found, err)
	}
	kim, err := db.Contact(ctx, modeltest.Staff, known.ID)
	if err != nil || !slices.Contains(kim.Values(), "+14155550101") || !kim.Suppressed || kim.CRMID != "" {
		t.Errorf("Kim = %+v (%v): want the phone added, suppressed, CRM id untouched by an opt-out import", kim, err)
	}
	for _, to := range []string{"+14155550100", "new@example.com", "+14155550101", "known@example.com"} {
		s, err := db.CheckSuppression(ctx, acme.ID, store.Identifier{Value: to}, "")
		if err != nil || !s.Suppressed || s.Reason != consent.ReasonOptOut {
			t.Errorf("%s: %+v (%v), want suppressed", to, s, err)
		}
	}
	if n := rowCount(t, db, "consent_events", "source = ? AND evidence LIKE ?", "csv_import", "CSV import list.csv, line %"); n != 2 {
		t.Errorf("%d ledger events name the file and line, want one per person: 2", n)
	}
}

func TestAContactsImportCreatesContactsAndFillsOnlyEmptyFields(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := newCustomer(t, db, "acme")
	named, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"+14155550100"}, Name: "Kept Name"}, "US")
	if err != nil {
		t.Fatal(err)
	}
	file := "Email,Phone,First Name,Last Name,Contact ID\n" +
		"ann@example.com,,Ann,Lee,ghl-1\n" + // new
		",4155550100,Other,Name,ghl-2\n" + // existing: name kept, CRM id filled
		"ann@example.com,4155550199,,,\n" // Ann again, with a phone: added to Ann
	job := applyImport(t, db, modeltest.Staff, uploadCSV(t, db, modeltest.Staff, acme.ID, imports.ImportContacts, file), 2)
	if job.Applied != 3 || job.Unchanged != 0 || job.ContactsCreated != 1 {
		t.Errorf("applied %d unchanged %d created %d, want 3, 0, 1", job.Applied, job.Unchanged, job.ContactsCreated)
	}
	c, err := db.Contact(ctx, modeltest.Staff, named.ID)
	if err != nil || c.Name != "Kept Name" || c.CRMID != "ghl-2" {
		t.Errorf("existing contact = %+v (%v), want its name kept and the CRM id filled", c, err)
	}
	ann, err := db.ContactsByIdentifier(ctx, modeltest.Staff, acme.ID, "4155550199", "US")
	if err != nil || len(ann) != 1 || ann[0].Name != "Ann Lee" || !slices.Contains(ann[0].Values(), "ann@example.com") || ann[0].Suppressed {
		t.Errorf("Ann = %+v (%v)", ann, err)
	}
	if n := rowCount(t, db, "consent_events", ""); n != 0 {
		t.Errorf("a contacts import wrote %d consent events", n)
	}

	again := applyImport(t, db, modeltest.Staff, uploadCSV(t, db, modeltest.Staff, acme.ID, imports.ImportContacts, file), 2)
	if again.Applied != 0 || again.Unchanged != 3 || again.ContactsCreated != 0 {
		t.Errorf("second import: applied %d unchanged %d created %d, want 0, 3, 0", again.Applied, again.Unchanged, again.ContactsCreated)
	}
}

func TestABatchForAJobTheRunnerNoLongerHoldsWritesNothing(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := newCustomer(t, db, "acme")
	job, err := db.StartImport(ctx, modeltest.Staff, uploadCSV(t, db, modeltest.Staff, acme.ID, imports.ImportOptOuts, "Phone\n4155550100\n").ID, "runner-a")
	if err != nil {
		t.Fatal(err)
	}
	p := imports.NewImportParser(db.ImportReader(ctx, job.ID, 0), job.Kind, job.Mapping, importOpts, imports.ImportCursor{})
	r, err := p.Next()
	if err != nil {
		t.Fatal(err)
	}
	b := imports.ImportBatch{Rows: []imports.ImportRow{r}, Consumed: 1, To: p.Cursor()}
	if err := db.ApplyImportBatch(ctx, job, "runner-b", b); !errors.Is(err, imports.ErrImportClaimLost) {
		t.Errorf("a batch from another runner: %v, want ErrImportClaimLost", err)
	}
	if n := rowCount(t, db, "consent_events", ""); n != 0 {
		t.Errorf("%d consent events written by a runner without the claim", n)
	}
	if n := rowCount(t, db, "audit_events", "action = ?", "import.batch"); n != 0 {
		t.Errorf("%d import.batch entries for a refused batch", n)
	}
}

func TestExportStreamsOneRowPerIdentifierAndChannelWithTheConsentState(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, bolt := newCustomer(t, db, "acme"), newCustomer(t, db, "bolt")
	if _, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"+14155550100", "ann@example.com"}, Name: "=Ann", CRMID: "1"}, "US"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"bob@example.com"}}, "US"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateContact(ctx, modeltest.Staff, bolt.ID, consent.ContactInput{Identifiers: []string{"zed@example.com"}}, "US"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: "ann@example.com", Kind: consent.OptOut, OccurredAt: at}, "US"); err != nil {
		t.Fatal(err)
	}
	collect := func(f imports.ExportFilter) []string {
		var out []string
		n, err := db.ExportContacts(ctx, modeltest.Staff, f, func(r imports.ExportRow) error {
			out = append(out, strings.Join(r.Record(), "|"))
			return nil
		})
		if err != nil || int(n) != len(out) {
			t.Fatalf("export: %d rows, %v", n, err)
		}
		if c, err := db.CountExport(ctx, modeltest.Staff, f); err != nil || c != n {
			t.Errorf("CountExport = %d, %v; the export wrote %d", c, err, n)
		}
		return out
	}
	all := collect(imports.ExportFilter{CustomerID: acme.ID})
	if len(all) != 3*len(consent.Channels) || strings.Contains(strings.Join(all, "\n"), "zed@") {
		t.Fatalf("export of acme:\n%s", strings.Join(all, "\n"))
	}
	sup := collect(imports.ExportFilter{CustomerID: acme.ID, SuppressedOnly: true})
	if len(sup) != 2*len(consent.Channels) {
		t.Fatalf("suppression list:\n%s", strings.Join(sup, "\n"))
	}
	for _, line := range sup {
		f := strings.Split(line, "|")
		if f[4] != "'=Ann" || f[5] != "1" || f[6] != "true" || f[7] != "opted_out" || f[8] != "opt_out" || f[9] != "2026-01-02T03:04:05Z" {
			t.Errorf("suppressed row %q", line)
		}
	}
	if _, err := db.ExportContacts(ctx, store.CustomerUser("x", "", bolt.ID, ""),
		imports.ExportFilter{CustomerID: acme.ID}, func(r imports.ExportRow) error {
			t.Errorf("bolt's user exported acme's %s", r.Identifier)
			return nil
		}); err != nil {
		t.Fatal(err)
	}
}

// TestOptOutRowsApplyTheirGoodIdentifiersWhenACellIsBad: opt-outs err on
// the side of suppression (DESIGN §4). A row's good identifiers are opted
// out whatever its other cells say, and the bad cells are still listed
// with their lines; only a row with no good identifier is skipped. The
// batch goes through BulkOptOuts: its Go path on SQLite, its set-based
// path on PostgreSQL.
func TestOptOutRowsApplyTheirGoodIdentifiersWhenACellIsBad(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	file := "Phone,Email,Channel,Opted out at\n" +
		"+1 415 555 0101,not-an-email,,\n" + // 2: the phone applies
		"n/a,ann@example.com,,\n" + // 3: the email applies
		"+1 415 555 0102,,sms,\n" + // 4: a bad channel reads as every channel
		"+1 415 555 0103,,imessage,yesterday\n" + // 5: a bad date reads as now
		"n/a,,,\n" // 6: nothing good: skipped
	job := uploadCSV(t, db, modeltest.Staff, acme.ID, imports.ImportOptOuts, file)
	if job.TotalRows != 5 || job.BadRows != 1 || job.PartialRows != 4 || job.UsableRows() != 4 {
		t.Fatalf("preview: %d rows, %d bad, %d partial", job.TotalRows, job.BadRows, job.PartialRows)
	}
	problems, err := db.ImportProblems(ctx, job, 0, -1, 100)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, p := range problems {
		listed = append(listed, fmt.Sprintf("%d %s %s", p.Line, p.Field, p.Value))
	}
	if want := []string{"2 Email not-an-email", "3 Phone n/a", "4 Channel sms", "5 Opted out at yesterday", "6 Phone n/a"}; !slices.Equal(listed, want) {
		t.Errorf("listed problems %q, want %q", listed, want)
	}
	job = applyImport(t, db, modeltest.Staff, job, 2)
	if job.Applied != 4 {
		t.Errorf("applied %d rows, want 4", job.Applied)
	}
	tests := []struct {
		to, channel string
		suppressed  bool
	}{
		{"+14155550101", "", true},
		{"ann@example.com", "", true},
		{"+14155550102", consent.ChannelIMessage, true},
		{"+14155550102", consent.ChannelFaceTime, true},
		{"+14155550103", consent.ChannelIMessage, true},
		{"+14155550103", consent.ChannelFaceTime, false},
	}
	for _, tc := range tests {
		id, err := store.NormalizeIdentifier("to", tc.to, "US")
		if err != nil {
			t.Fatal(err)
		}
		s, err := db.CheckSuppression(ctx, acme.ID, id, tc.channel)
		if err != nil {
			t.Fatal(err)
		}
		if s.Suppressed != tc.suppressed {
			t.Errorf("%s on %q: suppressed %v, want %v", tc.to, tc.channel, s.Suppressed, tc.suppressed)
		}
	}
}

// TestTheSuppressionListExportReimportsAsTheSameSuppressions: the
// console's own export, read back by its import into another customer,
// suppresses the same identifiers on the same channels since the same
// times, with no bad row: phone numbers come back as written (no
// apostrophe, no lost +), and so does an email a spreadsheet would take
// for a formula.
func TestTheSuppressionListExportReimportsAsTheSameSuppressions(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, bolt := newCustomer(t, db, "acme"), newCustomer(t, db, "bolt")
	t1 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	record := func(in consent.ConsentInput) {
		t.Helper()
		if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, in, "US"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"+14155550102", "ann@example.com"}, Name: "Ann", CRMID: "hs-1"}, "US"); err != nil {
		t.Fatal(err)
	}
	record(consent.ConsentInput{To: "+14155550101", Kind: consent.OptOut, Channel: consent.ChannelIMessage, OccurredAt: t1})
	record(consent.ConsentInput{To: "ann@example.com", Kind: consent.OptOut, OccurredAt: t1.Add(time.Hour)})
	record(consent.ConsentInput{To: "-dash@example.com", Kind: consent.OptOut, Channel: consent.ChannelFaceTime, OccurredAt: t1.Add(2 * time.Hour)})
	record(consent.ConsentInput{To: "+14155550103", Kind: consent.OptIn, Evidence: "web form", OccurredAt: t1})

	var file strings.Builder
	w := csv.NewWriter(&file)
	if err := w.Write(imports.ExportColumns); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExportContacts(ctx, modeltest.Staff, imports.ExportFilter{CustomerID: acme.ID, SuppressedOnly: true}, func(r imports.ExportRow) error {
		return w.Write(r.Record())
	}); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if strings.Contains(file.String(), "'") {
		t.Errorf("the export holds an apostrophe, which a re-import would keep:\n%s", file.String())
	}
	job := uploadCSV(t, db, modeltest.Staff, bolt.ID, imports.ImportOptOuts, file.String())
	if job.BadRows != 0 || job.PartialRows != 0 || job.Error != "" {
		t.Fatalf("re-import preview: %d bad, %d partial, %q\n%s", job.BadRows, job.PartialRows, job.Error, file.String())
	}
	applyImport(t, db, modeltest.Staff, job, 100)
	for _, v := range []string{"+14155550101", "+14155550102", "ann@example.com", "-dash@example.com", "+14155550103"} {
		id, err := store.NormalizeIdentifier("to", v, "US")
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range consent.Channels {
			want, err := db.CheckSuppression(ctx, acme.ID, id, ch)
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.CheckSuppression(ctx, bolt.ID, id, ch)
			if err != nil {
				t.Fatal(err)
			}
			wantSince, gotSince := "-", "-"
			if want.Since != nil {
				wantSince = want.Since.Format(time.RFC3339)
			}
			if got.Since != nil {
				gotSince = got.Since.Format(time.RFC3339)
			}
			if got.Suppressed != want.Suppressed || gotSince != wantSince {
				t.Errorf("%s on %s: re-imported suppressed=%v since %s, exported suppressed=%v since %s", v, ch, got.Suppressed, gotSince, want.Suppressed, wantSince)
			}
		}
	}
}

// TestAnOptOutFlagColumnFiltersTheRowsApplied: a whole CRM export can be
// imported; a recognised unsubscribe or do-not-call column keeps only the
// rows flagged in it, and an unreadable flag errs on the side of
// suppression.
func TestAnOptOutFlagColumnFiltersTheRowsApplied(t *testing.T) {
	t.Parallel()
	for _, header := range []string{"Do Not Call", "DND", "Email Opt Out", "Unsubscribed from all email", "Marketing status"} {
		if m := detectMapping(t, "Phone,"+header+"\n+14155550101,true\n", imports.ImportOptOuts); m.Fields[1] != imports.FieldOptOutFlag {
			t.Errorf("%q mapped to %q, want the opt-out flag", header, m.Fields[1])
		}
	}
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	file := "Phone,Do Not Call\n" +
		"+1 415 555 0101,true\n" + // applied
		"+1 415 555 0102,false\n" + // left alone
		"+1 415 555 0103,\n" + // left alone
		"+1 415 555 0104,Yes\n" + // applied
		"n/a,no\n" + // left alone, not bad
		"+1 415 555 0105,perhaps\n" // unreadable: applied and listed
	job := uploadCSV(t, db, modeltest.Staff, acme.ID, imports.ImportOptOuts, file)
	if job.TotalRows != 6 || job.FilteredRows != 3 || job.BadRows != 0 || job.PartialRows != 1 || job.UsableRows() != 3 {
		t.Fatalf("preview: %d rows, %d filtered, %d bad, %d partial", job.TotalRows, job.FilteredRows, job.BadRows, job.PartialRows)
	}
	applyImport(t, db, modeltest.Staff, job, 100)
	for v, want := range map[string]bool{"+14155550101": true, "+14155550102": false, "+14155550103": false, "+14155550104": true, "+14155550105": true} {
		s, err := db.CheckSuppression(ctx, acme.ID, store.Identifier{Kind: store.KindPhone, Value: v}, "")
		if err != nil {
			t.Fatal(err)
		}
		if s.Suppressed != want {
			t.Errorf("%s: suppressed %v, want %v", v, s.Suppressed, want)
		}
	}
}
