package auditchain

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Entry is one line of an export: every field the hash covers, as hashed
// (occurred_at already in CanonicalTime, details the stored JSON text),
// with prev_hash and hash.
type Entry struct {
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
	PrevHash   string `json:"prev_hash"`
	Hash       string `json:"hash"`
}

// Text returns e's hashed text fields in TextFields order.
func (e *Entry) Text() [NumText]string {
	return [...]string{e.ActorType, e.ActorID, e.ActorLabel, e.IP, e.Action, e.ObjectType, e.ObjectID, e.CustomerID, e.Details}
}

// ComputeHash returns the hash e should carry given its fields and PrevHash.
func (e *Entry) ComputeHash() string {
	text := e.Text()
	var sum [64]byte
	HashInto(&sum, AppendHashInput(nil, e.PrevHash, e.Seq, []byte(e.OccurredAt), &text))
	return string(sum[:])
}

// WriteLine writes e as one line of JSON.
func (e *Entry) WriteLine(w io.Writer) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ExportReport is the outcome of checking an export.
type ExportReport struct {
	Entries  int64
	FirstSeq int64
	LastSeq  int64
	LastHash string
	Links    int64 // entries checked against the one before them
	Gaps     int64 // places a filtered export skips entries
	// Line and Break name the first line that does not verify (Break nil:
	// the export verified).
	Line  int
	Break *Break
}

// Intact reports whether the export verified.
func (r ExportReport) Intact() bool { return r.Break == nil }

// maxLine bounds one export line: an entry's details are small JSON, and a
// line past this is not an export.
const maxLine = 16 << 20

// VerifyExport checks an export (JSON lines of Entry) as one stream: a full
// export (filtered false) must be an unbroken chain from its first entry, a
// filtered one an increasing run of entries each matching its hash, linked
// wherever two are consecutive. A line that is not an entry is an error.
func VerifyExport(r io.Reader, filtered bool) (ExportReport, error) {
	var rep ExportReport
	w := Walk{AllowGaps: filtered}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var (
		e    Entry
		text [NumText][]byte
	)
	for sc.Scan() {
		rep.Line++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		e = Entry{}
		if err := decodeLine(line, &e); err != nil {
			return rep, fmt.Errorf("line %d is not an audit entry: %w", rep.Line, err)
		}
		for i, s := range e.Text() {
			text[i] = append(text[i][:0], s...)
		}
		if err := w.Next(e.Seq, []byte(e.OccurredAt), &text, []byte(e.PrevHash), []byte(e.Hash)); err != nil {
			var b *Break
			if errors.As(err, &b) {
				rep.Break = b
				rep.fill(&w)
				return rep, nil
			}
			return rep, err
		}
	}
	if err := sc.Err(); err != nil {
		return rep, fmt.Errorf("read export after line %d: %w", rep.Line, err)
	}
	rep.Line = 0
	rep.fill(&w)
	return rep, nil
}

func (r *ExportReport) fill(w *Walk) {
	r.Entries, r.FirstSeq, r.LastSeq, r.LastHash, r.Links, r.Gaps = w.Entries, w.FirstSeq, w.LastSeq, w.LastHash(), w.Links, w.Gaps
}

// decodeLine reads one JSON object from line into v, refusing fields v
// does not have and anything after the object.
func decodeLine(line []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("text after the JSON object")
	}
	return nil
}
