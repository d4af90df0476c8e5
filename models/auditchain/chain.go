package auditchain

import (
	"bytes"
	"crypto/sha256"
	"fmt"
)

// Break is the first entry of a stream that does not verify.
type Break struct {
	Seq     int64  // the entry that is edited, inserted, reordered or missing
	Problem string // what is wrong with it, for a person
}

func (b *Break) Error() string { return b.Problem }

// Walk checks entries one by one in the order given. It keeps no entry,
// only the previous one's seq and hash, so a chain of any length is checked
// in constant memory, and it hashes without allocating.
//
// Every entry's hash must match its own fields and prev_hash. Where an entry
// follows the previous one in seq (n, n+1) its prev_hash must be the
// previous hash. What a gap in seq means depends on what is walked: the
// whole table must have none (FromGenesis), a full export none after its
// first entry, and a filtered export (AllowGaps) has them wherever the
// filter left entries out — there only the entries on each side of the gap
// are checked, each on its own.
type Walk struct {
	// FromGenesis requires the first entry to be seq 1 with an empty
	// prev_hash: the walk covers the chain from its start.
	FromGenesis bool
	// AllowGaps accepts seq jumps (a filtered export); entries must still
	// come in increasing seq.
	AllowGaps bool

	Entries  int64 // entries checked
	Links    int64 // entries whose prev_hash was checked against the entry before
	Gaps     int64 // places where seq jumped (AllowGaps only)
	FirstSeq int64
	LastSeq  int64

	last    []byte // hash of the previous entry
	started bool
	buf     []byte
	sum     [sha256.Size * 2]byte
}

// LastHash is the hash of the last entry checked: the head, for a walk over
// the whole chain.
func (w *Walk) LastHash() string { return string(w.last) }

// Next checks one entry: occurredAt is its canonical time text
// (CanonicalTime), text its fields in TextFields order. It returns a *Break
// for the first entry that does not verify; the walk must not go on after
// one.
func (w *Walk) Next(seq int64, occurredAt []byte, text *[NumText][]byte, prevHash, hash []byte) error {
	if !w.started && w.FromGenesis {
		w.started, w.LastSeq = true, 0 // expect seq 1, linked to the empty hash
		w.last = w.last[:0]
	}
	switch {
	case !w.started:
		// The first entry of an export that starts mid-chain: its prev_hash
		// is taken as given, unless it claims to be the first entry.
		if seq == 1 && len(prevHash) != 0 {
			return &Break{seq, "entry 1 does not link to the start of the chain: its prev_hash is not empty"}
		}
		w.FirstSeq = seq
		if seq == 1 {
			w.Links++
		}
	case seq <= w.LastSeq:
		return &Break{seq, fmt.Sprintf("entry %d is out of order: it comes after entry %d", seq, w.LastSeq)}
	case seq > w.LastSeq+1 && !w.AllowGaps:
		return &Break{w.LastSeq + 1, fmt.Sprintf("entry %d is missing (the next entry is %d)", w.LastSeq+1, seq)}
	case seq > w.LastSeq+1:
		w.Gaps++
	case !bytes.Equal(prevHash, w.last):
		return &Break{seq, fmt.Sprintf("entry %d does not link to entry %d: inserted, reordered or the previous entry was edited", seq, seq-1)}
	default:
		w.Links++
	}
	if w.FromGenesis && w.Entries == 0 {
		w.FirstSeq = seq
	}
	w.buf = AppendHashInput(w.buf[:0], prevHash, seq, occurredAt, text)
	HashInto(&w.sum, w.buf)
	if !bytes.Equal(w.sum[:], hash) {
		return &Break{seq, fmt.Sprintf("entry %d was edited: its content does not match its hash", seq)}
	}
	w.started = true
	w.last = append(w.last[:0], w.sum[:]...)
	w.LastSeq = seq
	w.Entries++
	return nil
}
