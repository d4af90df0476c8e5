package auditchain

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chainOf makes n linked entries from seq 1.
func chainOf(n int) []Entry {
	es := make([]Entry, n)
	prev := ""
	for i := range es {
		e := Entry{Seq: int64(i + 1), OccurredAt: fmt.Sprintf("2026-12-05T10:00:%02d.000001Z", i), ActorType: "user",
			ActorID: "u-1", ActorLabel: "ann@example.com", IP: "192.0.2.1", Action: "contact.view", ObjectType: "contact",
			ObjectID: fmt.Sprint("c-", i), CustomerID: []string{"acme", "bright"}[i%2], Details: `{"why":"<a & b>"}`, PrevHash: prev}
		e.Hash = e.ComputeHash()
		es[i], prev = e, e.Hash
	}
	return es
}

func export(t *testing.T, es []Entry) string {
	t.Helper()
	var b bytes.Buffer
	for i := range es {
		if err := es[i].WriteLine(&b); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func TestVerifyExportFindsTheFirstTamperedLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		edit     func([]Entry) []Entry
		filtered bool
		line     int   // 0: intact
		seq      int64 // the entry named
		problem  string
	}{
		{"a full export", func(es []Entry) []Entry { return es }, false, 0, 0, ""},
		{"a full export from the middle", func(es []Entry) []Entry { return es[2:] }, false, 0, 0, ""},
		{"an edited action", func(es []Entry) []Entry { es[2].Action = "contact.edit"; return es }, false, 3, 3, "was edited"},
		{"an edited time", func(es []Entry) []Entry { es[1].OccurredAt = "2026-12-05T10:00:01.000002Z"; return es }, false, 2, 2, "was edited"},
		{"edited details", func(es []Entry) []Entry { es[3].Details = `{"why":"other"}`; return es }, false, 4, 4, "was edited"},
		{"an edited customer", func(es []Entry) []Entry { es[0].CustomerID = "bright"; return es }, false, 1, 1, "was edited"},
		{"an edited hash", func(es []Entry) []Entry { es[4].Hash = strings.Repeat("0", 64); return es }, false, 5, 5, "was edited"},
		{"an entry edited with its hash recomputed", func(es []Entry) []Entry {
			es[2].ActorLabel = "mallory"
			es[2].Hash = es[2].ComputeHash()
			return es
		}, false, 4, 4, "does not link to entry 3"},
		{"a removed middle entry", func(es []Entry) []Entry { return append(es[:2:2], es[3:]...) }, false, 3, 3, "entry 3 is missing"},
		{"two entries swapped", func(es []Entry) []Entry { es[2], es[3] = es[3], es[2]; return es }, false, 3, 3, "entry 3 is missing"},
		{"an entry moved back", func(es []Entry) []Entry { return []Entry{es[0], es[1], es[3], es[2], es[4]} }, true, 4, 3, "out of order"},
		{"a renumbered entry", func(es []Entry) []Entry { es[5].Seq = 9; return es }, true, 6, 9, "was edited"},
		{"a first entry 1 with a prev_hash", func(es []Entry) []Entry {
			es[0].PrevHash = strings.Repeat("a", 64)
			es[0].Hash = es[0].ComputeHash()
			return es
		}, false, 1, 1, "start of the chain"},
		{"a filtered export", func(es []Entry) []Entry { return []Entry{es[0], es[2], es[3], es[5]} }, true, 0, 0, ""},
		{"a filtered export read as full", func(es []Entry) []Entry { return []Entry{es[0], es[2], es[3], es[5]} }, false, 2, 2, "entry 2 is missing"},
		{"a filtered export with an edited entry", func(es []Entry) []Entry {
			es[5].Details = "{}"
			return []Entry{es[0], es[2], es[5]}
		}, true, 3, 6, "was edited"},
		{"a filtered export with an edited entry rehashed before a consecutive one", func(es []Entry) []Entry {
			es[2].Details = "{}"
			es[2].Hash = es[2].ComputeHash()
			return []Entry{es[0], es[2], es[3]}
		}, true, 3, 4, "does not link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := VerifyExport(strings.NewReader(export(t, tt.edit(chainOf(6)))), tt.filtered)
			if err != nil {
				t.Fatal(err)
			}
			if tt.line == 0 {
				if !rep.Intact() {
					t.Fatalf("export broken at line %d: %v; want intact", rep.Line, rep.Break)
				}
				return
			}
			if rep.Intact() || rep.Line != tt.line || rep.Break.Seq != tt.seq || !strings.Contains(rep.Break.Problem, tt.problem) {
				t.Errorf("report %+v (%v); want line %d, entry %d, %q", rep, rep.Break, tt.line, tt.seq, tt.problem)
			}
		})
	}
}

func TestVerifyExportCountsWhatAFilteredExportProves(t *testing.T) {
	t.Parallel()
	es := chainOf(8)
	rep, err := VerifyExport(strings.NewReader(export(t, []Entry{es[1], es[2], es[3], es[6], es[7]})), true)
	if err != nil || !rep.Intact() {
		t.Fatalf("VerifyExport = %+v, %v", rep, err)
	}
	if rep.Entries != 5 || rep.FirstSeq != 2 || rep.LastSeq != 8 || rep.Links != 3 || rep.Gaps != 1 || rep.LastHash != es[7].Hash {
		t.Errorf("report %+v; want 5 entries from 2 to 8, 3 links, 1 gap, last hash of entry 8", rep)
	}
}

func TestVerifyExportRefusesALineThatIsNotAnEntry(t *testing.T) {
	t.Parallel()
	good := export(t, chainOf(2))
	for _, bad := range []string{good + "not json\n", good + `{"seq":3,"extra":1}` + "\n"} {
		if _, err := VerifyExport(strings.NewReader(bad), false); err == nil || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("VerifyExport(%q) = %v, want an error naming line 3", bad, err)
		}
	}
}

func TestWalkFromGenesisRequiresEntryOne(t *testing.T) {
	t.Parallel()
	es := chainOf(3)
	w := Walk{FromGenesis: true}
	e := es[1]
	text := bytesOf(e.Text())
	err := w.Next(e.Seq, []byte(e.OccurredAt), &text, []byte(e.PrevHash), []byte(e.Hash))
	if b, ok := err.(*Break); !ok || b.Seq != 1 || !strings.Contains(b.Problem, "entry 1 is missing") {
		t.Errorf("a walk from genesis starting at entry 2: %v, want entry 1 missing", err)
	}
}

func bytesOf(s [NumText]string) (b [NumText][]byte) {
	for i := range s {
		b[i] = []byte(s[i])
	}
	return b
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestCheckpointSignatureCoversSeqHashAndTime(t *testing.T) {
	t.Parallel()
	key, other := newKey(t), newKey(t)
	trusted := []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}
	at := time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		edit  func(c *Checkpoint)
		error string
	}{
		{"as signed", func(c *Checkpoint) {}, ""},
		{"another seq", func(c *Checkpoint) { c.Seq++ }, "signature does not match"},
		{"another hash", func(c *Checkpoint) { c.Hash = strings.Repeat("0", 64) }, "signature does not match"},
		{"another time", func(c *Checkpoint) { c.At = "2026-12-05T22:00:00Z" }, "signature does not match"},
		{"a garbled signature", func(c *Checkpoint) { c.Signature = "!!" }, "signature does not match"},
		{"signed by another key", func(c *Checkpoint) { *c = Sign(other, c.Seq, c.Hash, at) }, "not a trusted key"},
		{"another key passed off as the trusted one's id", func(c *Checkpoint) {
			forged := Sign(other, c.Seq, c.Hash, at)
			c.PublicKey, c.Signature = forged.PublicKey, forged.Signature
		}, "not key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Sign(key, 42, strings.Repeat("ab", 32), at)
			tt.edit(&c)
			err := c.CheckSignature(trusted)
			if (tt.error == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.error)) {
				t.Errorf("CheckSignature = %v, want %q", err, tt.error)
			}
		})
	}
}

func TestCheckpointLinesReadBack(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	c := Sign(key, 7, "h", time.Now())
	if string(c.SignedBytes()) != fmt.Sprintf(`{"seq":7,"hash":"h","at":%q}`, c.At) {
		t.Errorf("signed bytes %s", c.SignedBytes())
	}
	cs, err := ReadCheckpoints(strings.NewReader(`{"seq":7,"hash":"h","at":"` + c.At + `","key_id":"` + c.KeyID +
		`","public_key":"` + c.PublicKey + `","signature":"` + c.Signature + "\"}\n\n"))
	if err != nil || len(cs) != 1 || cs[0] != c {
		t.Fatalf("ReadCheckpoints = %+v, %v; want %+v", cs, err, c)
	}
	for _, bad := range []string{"", "\n", "{}x\n", `{"seq":"7"}`} {
		if _, err := ReadCheckpoints(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadCheckpoints(%q) succeeded", bad)
		}
	}
}

func TestKeyFileIsCreatedPrivateAndTrustsRetiredKeys(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.key")
	key, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("new key file mode %v, %v; want 0600", info.Mode().Perm(), err)
	}
	again, err := LoadOrCreateKey(path)
	if err != nil || !again.Equal(key) {
		t.Fatalf("reading the key again: %v, same %v", err, again.Equal(key))
	}
	// Rotation: a new key signs; the old one's public half stays trusted.
	old := Sign(key, 1, "h", time.Now())
	rotated := filepath.Join(t.TempDir(), "rotated.key")
	if _, err := LoadOrCreateKey(rotated); err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(key.Public())
	f, _ := os.OpenFile(rotated, os.O_APPEND|os.O_WRONLY, 0)
	pem.Encode(f, &pem.Block{Type: "PUBLIC KEY", Bytes: der})
	f.Close()
	trusted, err := LoadTrustedKeys(rotated)
	if err != nil || len(trusted) != 2 {
		t.Fatalf("LoadTrustedKeys = %d keys, %v; want the new and the retired", len(trusted), err)
	}
	if err := old.CheckSignature(trusted); err != nil {
		t.Errorf("a checkpoint of the retired key after rotation: %v", err)
	}
	newKey, err := LoadOrCreateKey(rotated)
	if err != nil || newKey.Equal(key) {
		t.Errorf("the rotated file signs with %v, %v; want its own new key", newKey.Public(), err)
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Errorf("a key file readable by others: %v", err)
	}
}
