package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sendara/console/models/auditchain"
)

// referenceHashInput is what ComputeHash hashed before auditchain/encode.go, kept
// verbatim as the oracle: PrevHash, then json.Marshal of the canonical
// struct. Every chain written so far hashes these bytes.
func referenceHashInput(e *AuditEvent) []byte {
	type canonical struct {
		Seq        int64  `json:"seq"`
		OccurredAt string `json:"occurred_at"`
		ActorType  string `json:"actor_type"`
		ActorID    string `json:"actor_id"`
		ActorLabel string `json:"actor_label"`
		IP         string `json:"ip"`
		Action     string `json:"action"`
		ObjectType string `json:"object_type"`
		ObjectID   string `json:"object_id"`
		CustomerID string `json:"customer_id"`
		Details    string `json:"details"`
	}
	b, _ := json.Marshal(canonical{
		Seq: e.Seq, OccurredAt: e.OccurredAt.UTC().Format("2006-01-02T15:04:05.000000Z"),
		ActorType: e.ActorType, ActorID: e.ActorID, ActorLabel: e.ActorLabel, IP: e.IP,
		Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID,
		CustomerID: e.CustomerID, Details: e.Details,
	})
	return append([]byte(e.PrevHash), b...)
}

// checkHashBytes compares both forms of the encoder (strings, as
// ComputeHash uses it, and bytes, as VerifyAudit does) and ComputeHash
// itself with the oracle.
func checkHashBytes(t *testing.T, e AuditEvent) {
	t.Helper()
	want := referenceHashInput(&e)
	at := auditchain.AppendCanonicalTime(nil, e.OccurredAt)
	text := e.text()
	if got := auditchain.AppendHashInput(nil, e.PrevHash, e.Seq, at, &text); !bytes.Equal(got, want) {
		t.Fatalf("hashed bytes of %+v:\n got %q\nwant %q", e, got, want)
	}
	var raw [auditchain.NumText][]byte
	for i, s := range text {
		raw[i] = []byte(s)
	}
	if got := auditchain.AppendHashInput(nil, []byte(e.PrevHash), e.Seq, at, &raw); !bytes.Equal(got, want) {
		t.Fatalf("hashed bytes of %+v read as bytes:\n got %q\nwant %q", e, got, want)
	}
	sum := sha256.Sum256(want)
	if got, want := e.ComputeHash(), hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("ComputeHash of %+v = %s, want %s", e, got, want)
	}
}

// tricky are texts that exercise every branch of json.Marshal's string
// escaping.
var tricky = []string{
	"", "plain", "user.login", `quote " and backslash \`, `{"i":1,"s":"<b>&amp;</b>"}`,
	"<script>alert(1)</script>", "a&b", "tab\tnew\nline\rcr\bbs\fff", "\x00nul\x01\x1f\x7f",
	"é ü 日本語 🙂 e\u0301", "line\u2028sep\u2029para", "\u2027\u202a", "\ufffd", "\ufeffbom",
	"bad \xff byte", "cut \xe2\x80", "\xe2\x80\xa8", "\xed\xa0\x80 surrogate", "\xc0\xaf overlong",
	"\xf4\x90\x80\x80 past U+10FFFF", "trailing \xf0\x9f\x99", strings.Repeat("long <&> ", 200),
}

func TestHashBytesMatchEncodingJSON(t *testing.T) {
	t.Parallel()
	base := AuditEvent{
		Seq: 42, OccurredAt: time.Date(2026, 11, 29, 6, 53, 6, 655633000, time.UTC),
		ActorType: "user", ActorID: "0190c5e2-0000-7000-8000-000000000001", ActorLabel: "ann@example.com",
		IP: "192.0.2.1", Action: "contact.view", ObjectType: "contact", ObjectID: "0190c5e2-0000-7000-8000-000000000002",
		CustomerID: "0190c5e2-0000-7000-8000-000000000003", Details: `{"fields":["name","identifiers"]}`,
		PrevHash: strings.Repeat("ab", 32),
	}
	checkHashBytes(t, base)
	checkHashBytes(t, AuditEvent{})

	t.Run("texts", func(t *testing.T) {
		for _, s := range tricky {
			for field := range auditchain.NumText + 1 {
				e := base
				p := [...]*string{&e.ActorType, &e.ActorID, &e.ActorLabel, &e.IP, &e.Action,
					&e.ObjectType, &e.ObjectID, &e.CustomerID, &e.Details, &e.PrevHash}[field]
				*p = s
				checkHashBytes(t, e)
			}
		}
	})

	t.Run("seqs", func(t *testing.T) {
		for _, seq := range []int64{0, 1, 9, 10, 1 << 40, -1, math.MaxInt64, math.MinInt64} {
			e := base
			e.Seq = seq
			checkHashBytes(t, e)
		}
	})

	t.Run("times", func(t *testing.T) {
		zones := []*time.Location{time.UTC, time.Local, time.FixedZone("IST", 5*3600+1800),
			time.FixedZone("", -8*3600), time.FixedZone("odd", -(3*3600 + 7*60 + 13))}
		times := []time.Time{
			{}, time.Unix(0, 0), time.Unix(0, 1), time.Unix(0, 999), time.Unix(0, 1000), time.Unix(0, 999_999_999),
			time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, time.UTC), Now(), time.Now(),
			time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 1, time.UTC),
			time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(-20000, 6, 15, 12, 0, 0, 0, time.UTC), time.Unix(math.MaxInt32*100, 123456789),
		}
		for _, tm := range times {
			for _, z := range zones {
				e := base
				e.OccurredAt = tm.In(z)
				checkHashBytes(t, e)
			}
		}
	})
}

// TestJSONStringEscapingIsExhaustive checks the string quoting against
// json.Marshal for every byte, every pair of bytes and every rune.
func TestJSONStringEscapingIsExhaustive(t *testing.T) {
	t.Parallel()
	check := func(s string) {
		want, _ := json.Marshal(s)
		if got := auditchain.AppendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("quoting %q = %s, want %s", s, got, want)
		}
		if got := auditchain.AppendJSONString(nil, []byte(s)); !bytes.Equal(got, want) {
			t.Fatalf("quoting bytes %q = %s, want %s", s, got, want)
		}
	}
	for a := range 256 {
		check(string([]byte{byte(a)}))
		for b := range 256 {
			check(string([]byte{byte(a), byte(b)}))
		}
	}
	for r := rune(0); r <= utf8.MaxRune; r++ {
		s := string(r)
		check(s)
		if r%97 == 0 {
			check("x" + s + "<" + s[:len(s)-1]) // with a neighbour and cut short
		}
	}
}

// FuzzAuditHashBytes compares the encoder with json.Marshal for arbitrary
// events: go test -fuzz FuzzAuditHashBytes ./models/
func FuzzAuditHashBytes(f *testing.F) {
	f.Add(int64(1), int64(1764399186), uint32(655633000), int32(0), "user", "u-1", "ann@example.com", "192.0.2.1",
		"contact.view", "contact", "c-1", "cust-1", `{"i":1}`, "")
	for i, s := range tricky {
		f.Add(int64(i), int64(i)*1e8, uint32(i*123457), int32(i*977-9000), s, s, s, s, s, s, s, s, s, s)
	}
	f.Fuzz(func(t *testing.T, seq, sec int64, nsec uint32, zone int32, actorType, actorID, actorLabel, ip,
		action, objectType, objectID, customerID, details, prevHash string) {
		checkHashBytes(t, AuditEvent{
			Seq: seq, OccurredAt: time.Unix(sec, int64(nsec%1e9)).In(time.FixedZone("", int(zone%(26*3600)))),
			ActorType: actorType, ActorID: actorID, ActorLabel: actorLabel, IP: ip, Action: action,
			ObjectType: objectType, ObjectID: objectID, CustomerID: customerID, Details: details, PrevHash: prevHash,
		})
	})
}

// storedTimes holds timestamps the way the audit chain's SQLite column
// does, to compare auditchain.AppendStoredUTCTime with what the driver and
// timeScanner make of the same stored value.
type storedTimes struct{ db *DB }

func openStoredTimes(t testing.TB) storedTimes {
	db, err := Open(filepath.Join(t.TempDir(), "times.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Gorm.Exec("CREATE TABLE times (id INTEGER PRIMARY KEY, at DATETIME NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	return storedTimes{db}
}

// check stores v (a time.Time as the driver writes one, or a text) and
// reports whether the fast path took it; whatever it takes must read as
// the driver reads it.
func (s storedTimes) check(t *testing.T, v any) (fast bool) {
	t.Helper()
	if err := s.db.Gorm.Exec("DELETE FROM times").Error; err != nil {
		t.Fatal(err)
	}
	if err := s.db.Gorm.Exec("INSERT INTO times (id, at) VALUES (1, ?)", v).Error; err != nil {
		t.Fatal(err)
	}
	var driver TimeScanner
	var stored []byte
	driverErr := s.db.SQL().QueryRow("SELECT at, CAST(at AS BLOB) FROM times").Scan(&driver, &stored)
	got, ok := auditchain.AppendStoredUTCTime(nil, stored)
	if !ok {
		return false
	}
	if driverErr != nil {
		t.Fatalf("stored %q: fast path reads %s, the driver fails: %v", stored, got, driverErr)
	}
	if want := auditchain.AppendCanonicalTime(nil, driver.T); !bytes.Equal(got, want) {
		t.Fatalf("stored %q: fast path reads %s, the driver %s", stored, got, want)
	}
	return true
}

func TestStoredUTCTimeReadsAsTheDriverDoes(t *testing.T) {
	t.Parallel()
	s := openStoredTimes(t)
	// Times the driver writes in UTC, as Now() always is, take the fast path.
	for _, tm := range []time.Time{
		Now(), time.Now().UTC(), {}, time.Unix(0, 0).UTC(), time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 100, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 120_000_000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 1000, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if !s.check(t, tm) {
			t.Errorf("%v as the driver stores it does not take the fast path", tm)
		}
	}
	// Other forms, including every one the driver parses, either read the
	// same or are left to the driver.
	for _, v := range []any{
		time.Now().In(time.FixedZone("", 3600)), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		"2026-11-29 06:53:06.655633+00:00", "2026-11-29 06:53:06+00:00", "2026-11-29 06:53:06.1234567891+00:00",
		"2026-11-29 06:53:06,5+00:00", "2026-11-29 06:53:06.+00:00", "2026-11-29 06:53:06.655633-00:00",
		"2026-11-29 06:53:06.655633+02:00", "2026-11-29T06:53:06.655633Z", "2026-11-29 06:53:06.655633Z",
		"2026-11-29 06:53:06.655633", "2026-11-29 06:53:06", "2026-11-29 06:53", "2026-11-29",
		"2026-11-29 06:53:06.655633 +0000 UTC", "2026-11-29 06:53:06.655633 +0000 UTC m=+0.2",
		"2023-02-29 00:00:00+00:00", "2024-02-29 00:00:00+00:00", "2026-04-31 00:00:00+00:00", "2026-13-01 00:00:00+00:00",
		"2026-00-10 00:00:00+00:00", "2026-01-00 00:00:00+00:00", "2026-01-01 24:00:00+00:00", "2026-01-01 23:60:00+00:00",
		"2026-01-01 23:59:60+00:00", "2026-1-01 00:00:00+00:00", "2026-01-01 6:53:06+00:00", "-001-01-01 00:00:00+00:00",
		"2026-11-29 06:53:06.655633+00:00 ", " 2026-11-29 06:53:06+00:00", "2026/11/29 06:53:06+00:00", "20261129",
		"1764399186", "1.5", "", "not a time",
	} {
		s.check(t, v)
	}
}

// FuzzStoredUTCTime: go test -fuzz FuzzStoredUTCTime ./models/
func FuzzStoredUTCTime(f *testing.F) {
	s := openStoredTimes(f)
	for _, seed := range []string{"2026-11-29 06:53:06.655633+00:00", "2024-02-29 23:59:59+00:00",
		"0000-01-01 00:00:00.000000001+00:00", "2026-11-29T06:53:06Z", "2023-02-29 00:00:00+00:00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) { s.check(t, v) })
}

// TestFramedWalkReadsEveryWrittenText writes texts that SQLite stores but
// PostgreSQL refuses (NUL, invalid UTF-8), and checks that the framed walk
// reads the chain itself, without falling back, and agrees with the plain
// walk; and that an unusual timestamp sends it back to the plain walk.
func TestFramedWalkReadsEveryWrittenText(t *testing.T) {
	t.Parallel()
	db, err := Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	migrateSchema(t, db)
	for i, s := range append(tricky, "nul\x00inside", "\x00") {
		actor := StaffUser(s, s, s)
		if err := db.Record(t.Context(), actor, Audit{Action: s, ObjectType: s, ObjectID: s, CustomerID: s,
			Details: map[string]any{"s": s, "i": i}}); err != nil {
			t.Fatalf("Record %q: %v", s, err)
		}
	}
	var head AuditHead
	if err := db.Gorm.First(&head, 1).Error; err != nil {
		t.Fatal(err)
	}
	want := ChainReport{Entries: int64(len(tricky) + 2), HeadSeq: int64(len(tricky) + 2), HeadHash: head.Hash}
	for _, framed := range []bool{true, false} {
		if rep, err := db.verifyAudit(t.Context(), framed); err != nil || rep != want {
			t.Errorf("verifyAudit(framed %v) = %+v, %v; want %+v", framed, rep, err, want)
		}
	}

	if err := db.Gorm.Exec("DROP TRIGGER audit_events_no_update").Error; err != nil {
		t.Fatal(err)
	}
	// The same instant in another form the driver reads.
	var at time.Time
	if err := db.SQL().QueryRow("SELECT occurred_at FROM audit_events WHERE seq = 3").Scan(&at); err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Exec("UPDATE audit_events SET occurred_at = ? WHERE seq = 3", at.Format(time.RFC3339Nano)).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := db.verifyAudit(t.Context(), true); !errors.Is(err, errUnusualRow) {
		t.Errorf("framed walk over an RFC 3339 timestamp: %v, want errUnusualRow", err)
	}
	if rep, err := db.VerifyAudit(t.Context()); err != nil || rep != want {
		t.Errorf("VerifyAudit = %+v, %v; want %+v", rep, err, want)
	}
}

// TestVerifyAuditInAUTF16Database: there the stored bytes of a text are not
// its UTF-8, so the walk reads column by column.
func TestVerifyAuditInAUTF16Database(t *testing.T) {
	t.Parallel()
	db, err := Open(filepath.Join(t.TempDir(), "utf16.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Gorm.Exec("PRAGMA encoding = 'UTF-16le'").Error; err != nil {
		t.Fatal(err)
	}
	migrateSchema(t, db)
	var enc string
	if err := db.SQL().QueryRow("PRAGMA encoding").Scan(&enc); err != nil || enc != "UTF-16le" {
		t.Skipf("database encoding %q, %v: the driver did not keep UTF-16", enc, err)
	}
	if err := db.Record(t.Context(), SystemActor("test"), Audit{Action: "test.é", ObjectID: "日本"}, Audit{Action: "test.<&>"}); err != nil {
		t.Fatal(err)
	}
	if rep, err := db.VerifyAudit(t.Context()); err != nil || !rep.Intact() || rep.Entries != 2 {
		t.Errorf("VerifyAudit = %+v, %v; want intact with 2 entries", rep, err)
	}
}

// frame builds a row as auditFrames does: seq and the columns' lengths,
// then the columns.
func frame(seq string, cols ...string) []byte {
	b := []byte(seq)
	for _, c := range cols {
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(len(c)), 10)
	}
	return append(append(b, ';'), strings.Join(cols, "")...)
}

func TestParseFrame(t *testing.T) {
	t.Parallel()
	at := "2026-11-29 06:53:06.655633+00:00"
	cols := []string{at, "user", "u 1", "a;b", "", "x.y", "o", "1 2;3", "", `{"a":"; "}`, "", strings.Repeat("f", 64)}
	var r auditRow
	if !r.parseFrame(frame("-7", cols...)) {
		t.Fatal("a well-formed frame does not parse")
	}
	got := []string{string(r.occurredAt)}
	for _, c := range r.text {
		got = append(got, string(c))
	}
	got = append(got, string(r.prevHash), string(r.hash))
	want := append([]string{"2026-11-29T06:53:06.655633Z"}, cols[1:]...)
	if r.seq != -7 || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("parsed seq %d, columns %q; want -7, %q", r.seq, got, want)
	}

	good := string(frame("7", cols...))
	for _, bad := range []string{
		"", ";", strings.Replace(good, ";", " ", 1), // no header end
		string(frame("7", cols[:11]...)), string(frame("7", append(cols, "")...)), // a column short, one too many
		string(frame("", cols...)), string(frame("x", cols...)), string(frame("7 ", cols...)),
		good + "z", good[:len(good)-1], // body longer, shorter than the lengths say
		strings.Replace(good, " 4 ", " -4 ", 1), strings.Replace(good, " 4 ", " 4x ", 1),
		string(frame("7", append([]string{"2026-11-29T06:53:06Z"}, cols[1:]...)...)), // a timestamp for the driver
	} {
		if r.parseFrame([]byte(bad)) {
			t.Errorf("frame %q parses", bad)
		}
	}
}

// migrateSchema applies the SQL migrations (the audit tests need no Go
// data steps, which live above this package).
func migrateSchema(t *testing.T, db *DB) {
	t.Helper()
	m, err := NewMigrator(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Up(t.Context(), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
}
