// Package auditchain is the audit log's hash chain without a database: the
// canonical encoding an entry's hash covers, the walk that checks a stream
// of entries, export lines and signed checkpoints. The database's own
// verification (models.VerifyAudit) and the offline check of an export
// (console audit verify --file) both go through here, so they cannot
// disagree about what an intact chain is.
package auditchain

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
	"unicode/utf8"
)

// An entry's hash covers its PrevHash followed by the canonical JSON of the
// event: the bytes json.Marshal made of this struct when the chain began,
//
//	struct {
//		Seq        int64  `json:"seq"`
//		OccurredAt string `json:"occurred_at"` // UTC, CanonicalTime
//		ActorType  string `json:"actor_type"`
//		... one string per name in TextFields, in that order
//	}
//
// This file writes those bytes directly, without reflection or allocation,
// so that a long chain rehashes quickly. Every stored hash depends on them:
// change nothing here that changes a byte (models/audit_encode_test.go holds
// the json.Marshal original as the oracle).

// CanonicalTime is the layout of occurred_at in the hashed bytes: UTC, to
// the microsecond.
const CanonicalTime = "2006-01-02T15:04:05.000000Z"

// TextFields are the hashed text fields after seq and occurred_at, in
// hashed order, each as its JSON key prefix.
var TextFields = [...]string{
	`,"actor_type":`, `,"actor_id":`, `,"actor_label":`, `,"ip":`, `,"action":`,
	`,"object_type":`, `,"object_id":`, `,"customer_id":`, `,"details":`,
}

// NumText is the number of hashed text fields.
const NumText = len(TextFields)

// AppendHashInput appends what an entry's hash covers. occurredAt is the
// canonical time text (AppendCanonicalTime); text holds the fields of
// TextFields as strings (an AuditEvent) or as column bytes (VerifyAudit).
func AppendHashInput[S ~string | ~[]byte](dst []byte, prevHash S, seq int64, occurredAt []byte, text *[NumText]S) []byte {
	dst = append(dst, prevHash...)
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `,"occurred_at":`...)
	dst = AppendJSONString(dst, occurredAt)
	for i, key := range TextFields {
		dst = append(dst, key...)
		dst = AppendJSONString(dst, text[i])
	}
	return append(dst, '}')
}

// HashInto writes into sum the chain hash, in hex, of an entry whose
// hashed bytes (AppendHashInput) are in. Writing (ComputeHash) and
// verifying both hash through here.
func HashInto(sum *[sha256.Size * 2]byte, in []byte) {
	s := sha256.Sum256(in)
	hex.Encode(sum[:], s[:])
}

// AppendCanonicalTime appends t as the chain hashes it: in UTC, to the
// microsecond (truncated), as t.UTC().Format(CanonicalTime) does. It writes
// the digits itself (AppendFormat showed in VerifyAudit's profile) for the
// years that layout writes as four digits.
func AppendCanonicalTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, CanonicalTime)
	}
	hour, minute, sec := t.Clock()
	dst = appendDigits(dst, year, 4)
	dst = appendDigits(append(dst, '-'), int(month), 2)
	dst = appendDigits(append(dst, '-'), day, 2)
	dst = appendDigits(append(dst, 'T'), hour, 2)
	dst = appendDigits(append(dst, ':'), minute, 2)
	dst = appendDigits(append(dst, ':'), sec, 2)
	dst = appendDigits(append(dst, '.'), t.Nanosecond()/1000, 6)
	return append(dst, 'Z')
}

// appendDigits appends n, which is not negative, zero-padded to width digits.
func appendDigits(dst []byte, n, width int) []byte {
	var b [8]byte
	for i := width - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return append(dst, b[:width]...)
}

// AppendStoredUTCTime appends the canonical time of s if s is a UTC time as
// the SQLite driver stores one ("2006-01-02 15:04:05.999999999-07:00" with
// offset +00:00, which is what every Now() becomes). It checks what
// time.Parse would and rearranges the digits instead of parsing: what it
// accepts, the driver parses to the same instant. Anything else reports
// false and is left to the driver's own parsing.
func AppendStoredUTCTime(dst, s []byte) ([]byte, bool) {
	const zone = "+00:00"
	// 2006-01-02 15:04:05, then .fraction of 1 to 9 digits or nothing, then the zone.
	if len(s) < 19+len(zone) || string(s[len(s)-len(zone):]) != zone ||
		s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return dst, false
	}
	frac := s[19 : len(s)-len(zone)]
	if len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 || !allDigits(frac[1:]) {
			return dst, false
		}
		frac = frac[1:]
	}
	year, okY := number(s[0:4])
	month, okM := number(s[5:7])
	day, okD := number(s[8:10])
	hour, okH := number(s[11:13])
	minute, okMin := number(s[14:16])
	sec, okS := number(s[17:19])
	if !(okY && okM && okD && okH && okMin && okS) ||
		month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return dst, false
	}
	// time.Parse refuses a day past the month's end; time.Date would roll it over.
	if time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC).Day() != day {
		return dst, false
	}
	dst = append(dst, s[:10]...)
	dst = append(dst, 'T')
	dst = append(dst, s[11:19]...)
	dst = append(dst, '.')
	frac = frac[:min(len(frac), 6)]
	dst = append(dst, frac...)
	dst = append(dst, "000000"[len(frac):]...)
	return append(dst, 'Z'), true
}

// number reads b as a decimal number of digits only.
func number(b []byte) (n int, ok bool) {
	if !allDigits(b) {
		return 0, false
	}
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n, true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// AppendJSONString appends s quoted as json.Marshal quotes a string: HTML
// escaping on, \b \f \n \r \t short forms, other control bytes as \u00xx,
// invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped. It follows
// encoding/json's appendString (Go 1.22 and later) step for step.
func AppendJSONString[S ~string | ~[]byte](dst []byte, s S) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default: // other control bytes, and < > & (HTML escaping)
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		// Converting at most UTFMax bytes keeps the conversion on the stack.
		c, size := utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		} else if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
		} else {
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonSafe marks the ASCII bytes json.Marshal writes as they are: printable
// ASCII, DEL included, except " \ < > &.
var jsonSafe = func() (safe [utf8.RuneSelf]bool) {
	for b := ' '; b < utf8.RuneSelf; b++ {
		safe[b] = true
	}
	for _, b := range `"\<>&` {
		safe[b] = false
	}
	return safe
}()
