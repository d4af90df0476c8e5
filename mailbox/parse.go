// Package mailbox is the privacy mailbox's intake: it parses the messages
// people send to the privacy address (Parse), suggests which kind of
// privacy request a message is (SuggestType), and receives mail over SMTP
// (Server), handing each parsed message to a Sink that stores it.
//
// It knows nothing of the database: the Sink given to NewServer decides
// what becomes of a message (keep the raw source as evidence, open or
// thread a privacy request).
package mailbox

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// Message is one received email, parsed for the privacy console.
type Message struct {
	// MessageID, InReplyTo and References are message ids without their
	// angle brackets, so they compare equal to the ids the console sends.
	MessageID  string
	InReplyTo  string
	References []string
	From       Address
	To         []Address
	Subject    string
	// Date is the sender's Date header in UTC, or the time of parsing when
	// the header is missing or unreadable.
	Date time.Time
	// TextBody is the readable text: the text/plain parts, or the text of
	// the HTML parts with the tags removed when there is no plain part.
	TextBody string
	// Attachments lists the other parts; their content is not kept apart
	// from Raw.
	Attachments []Attachment
	// Raw is a copy of the exact bytes received, kept as evidence.
	Raw []byte
	// Reference is a privacy request reference (PR-2026-000042) found in the
	// subject, else in the body; "" when there is none.
	Reference string
	// SuggestedType is SuggestType of the subject and body: a hint shown to
	// staff, not a decision.
	SuggestedType string

	// ReceivedAt (UTC), EnvelopeFrom and EnvelopeTo are set by the Server:
	// when the message arrived, and the SMTP envelope (MAIL FROM, RCPT TO).
	// They are empty when a message is parsed directly. Deadlines count
	// from ReceivedAt, not from Date, which the sender writes.
	ReceivedAt   time.Time
	EnvelopeFrom string
	EnvelopeTo   []string
}

// Address is a mailbox: a display name and an address in lower case.
type Address struct {
	Name    string
	Address string
}

// Attachment describes a part that is not the message text.
type Attachment struct {
	Name        string
	ContentType string
	Size        int64 // decoded size in bytes
}

// Limits that keep a hostile message from costing much: nesting depth and
// number of MIME parts.
const (
	maxDepth = 16
	maxParts = 1000
)

// MaxHeaderBytes is the largest message header Parse reads. Real headers,
// a long chain of Received lines included, are a few kilobytes; a larger
// one is built to cost memory.
const MaxHeaderBytes = 256 << 10

// ErrHeaderTooLarge means the header is longer than MaxHeaderBytes.
var ErrHeaderTooLarge = fmt.Errorf("the message header is larger than %d KiB", MaxHeaderBytes>>10)

// headerLen is the length of raw's header, up to its blank line; -1 when
// there is no blank line.
func headerLen(raw []byte) int {
	end := -1
	for _, sep := range []string{"\n\n", "\n\r\n"} {
		if i := bytes.Index(raw, []byte(sep)); i >= 0 && (end < 0 || i < end) {
			end = i
		}
	}
	return end
}

// ErrNoSender means the message has no From header with an address in it:
// there would be nobody to answer.
var ErrNoSender = errors.New("the message has no sender address in its From header")

// Parse reads an RFC 5322 message. It fails only when the bytes are not a
// message the console can act on (empty, no header, no sender); a damaged
// body is read as far as it goes, since the raw source is kept anyway.
func Parse(raw []byte) (*Message, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("the message is empty")
	}
	if n := headerLen(raw); n > MaxHeaderBytes || (n < 0 && len(raw) > MaxHeaderBytes) {
		return nil, ErrHeaderTooLarge
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("the message header is malformed: %w", err)
	}
	if len(m.Header) == 0 {
		return nil, errors.New("the message has no header")
	}
	msg := &Message{Raw: bytes.Clone(raw)}

	from := m.Header.Get("From")
	if strings.TrimSpace(from) == "" {
		from = m.Header.Get("Sender")
	}
	addrs := parseAddressList(from)
	if len(addrs) == 0 {
		return nil, ErrNoSender
	}
	msg.From = addrs[0]
	msg.To = parseAddressList(m.Header.Get("To"))
	msg.Subject = oneLine(decodeHeader(m.Header.Get("Subject")))
	msg.Date = time.Now().UTC()
	if d, err := m.Header.Date(); err == nil {
		msg.Date = d.UTC()
	}
	if ids := messageIDs(m.Header.Get("Message-Id")); len(ids) > 0 {
		msg.MessageID = ids[0]
	}
	if ids := messageIDs(m.Header.Get("In-Reply-To")); len(ids) > 0 {
		msg.InReplyTo = ids[0]
	}
	msg.References = messageIDs(m.Header.Get("References"))

	body, err := io.ReadAll(m.Body)
	if err != nil {
		return nil, fmt.Errorf("the message body is unreadable: %w", err)
	}
	var w walker
	if err := w.part(m.Header, body, 0); err != nil {
		return nil, err
	}
	switch {
	case len(w.plain) > 0:
		msg.TextBody = tidyText(strings.Join(w.plain, "\n\n"))
	case len(w.html) > 0:
		msg.TextBody = htmlToText(strings.Join(w.html, "\n"))
	}
	msg.Attachments = w.attachments
	msg.Reference = FindReference(msg.Subject)
	if msg.Reference == "" {
		msg.Reference = FindReference(msg.TextBody)
	}
	msg.SuggestedType = SuggestType(msg.Subject, msg.TextBody)
	return msg, nil
}

var referencePattern = regexp.MustCompile(`(?i)\bPR-(\d{4})-(\d{6,9})\b`)

// FindReference returns the first privacy request reference in s
// (PR-2026-000042, any letter case), upper-cased, or "".
func FindReference(s string) string {
	m := referencePattern.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return "PR-" + m[1] + "-" + m[2]
}

// headerGetter is what both mail.Header and a MIME part's header offer.
type headerGetter interface{ Get(key string) string }

// walker collects the text and attachments of a MIME tree.
type walker struct {
	plain, html []string
	attachments []Attachment
	parts       int
}

func (w *walker) part(h headerGetter, body []byte, depth int) error {
	w.parts++
	ctype, params := mediaType(h.Get("Content-Type"), "text/plain")
	disposition, dparams := mediaType(h.Get("Content-Disposition"), "")
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = oneLine(decodeHeader(name))

	if strings.HasPrefix(ctype, "multipart/") && depth < maxDepth {
		if boundary := params["boundary"]; boundary != "" {
			err := w.multipart(body, boundary, depth)
			if err == nil || depth == 0 {
				return err
			}
			// A damaged nested part is listed, not fatal: the rest of the
			// message is still worth reading.
			w.attachments = append(w.attachments, Attachment{Name: name, ContentType: ctype, Size: int64(len(body))})
			return nil
		}
	}
	data := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	isText := ctype == "text/plain" || ctype == "text/html"
	if !isText || disposition == "attachment" || name != "" {
		if name == "" && ctype == "message/rfc822" {
			name = "forwarded message"
		}
		w.attachments = append(w.attachments, Attachment{Name: name, ContentType: ctype, Size: int64(len(data))})
		return nil
	}
	text := decodeCharset(data, params["charset"])
	if ctype == "text/html" {
		w.html = append(w.html, text)
	} else {
		w.plain = append(w.plain, text)
	}
	return nil
}

func (w *walker) multipart(body []byte, boundary string, depth int) error {
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for read := 0; w.parts < maxParts; read++ {
		p, err := r.NextRawPart()
		if err == io.EOF && read > 0 {
			return nil
		}
		if err != nil {
			if read == 0 {
				return fmt.Errorf("the multipart body is malformed: no part starts with its boundary %q", boundary)
			}
			return nil // a damaged tail: keep the parts read so far
		}
		content, readErr := io.ReadAll(p)
		if err := w.part(p.Header, content, depth+1); err != nil {
			return err
		}
		if readErr != nil {
			return nil
		}
	}
	return nil
}

// mediaType parses a Content-Type or Content-Disposition value leniently:
// a value the mime package rejects still yields its media type.
func mediaType(v, fallback string) (string, map[string]string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return fallback, map[string]string{}
	}
	t, params, err := mime.ParseMediaType(v)
	if t == "" {
		t, _, _ = strings.Cut(v, ";")
		t = strings.ToLower(strings.TrimSpace(t))
	}
	if err != nil && params == nil {
		params = map[string]string{}
	}
	if t == "" {
		t = fallback
	}
	return t, params
}

// decodeTransfer undoes a Content-Transfer-Encoding. Broken encodings are
// decoded as far as they go rather than refused.
func decodeTransfer(cte string, b []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return decodeBase64(b)
	case "quoted-printable":
		return decodeQuotedPrintable(b)
	}
	return b
}

// decodeBase64 skips characters outside the alphabet (line breaks, stray
// spaces) and treats '=' as the end of a block, so two encoded blocks glued
// together decode as both.
func decodeBase64(b []byte) []byte {
	var out, chunk []byte
	flush := func() {
		if len(chunk)%4 == 1 {
			chunk = chunk[:len(chunk)-1]
		}
		dst := make([]byte, base64.RawStdEncoding.DecodedLen(len(chunk)))
		n, _ := base64.RawStdEncoding.Decode(dst, chunk)
		out = append(out, dst[:n]...)
		chunk = chunk[:0]
	}
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			chunk = append(chunk, c)
		case c == '=':
			flush()
		}
	}
	flush()
	return out
}

// decodeQuotedPrintable is a lenient RFC 2045 decoder: an '=' that does
// not start a valid escape is kept as it is, as mail readers do.
func decodeQuotedPrintable(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		// Soft line break: '=' then optional white space then a line end.
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		if j < len(b) && (b[j] == '\n' || b[j] == '\r') {
			if b[j] == '\r' && j+1 < len(b) && b[j+1] == '\n' {
				j++
			}
			i = j
			continue
		}
		if j == len(b) {
			i = j
			continue
		}
		if i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		out = append(out, c)
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// decodeCharset converts text in charset to UTF-8. Unknown charsets and
// invalid bytes are replaced, never refused.
func decodeCharset(b []byte, charset string) string {
	cs := strings.ToLower(strings.Trim(strings.TrimSpace(charset), `"'`))
	switch cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	enc, err := htmlindex.Get(cs)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(strings.ToLower(charset))
	if err != nil {
		return nil, fmt.Errorf("unknown charset %q", charset)
	}
	return enc.NewDecoder().Reader(input), nil
}}

// decodeHeader decodes RFC 2047 encoded words; a header that does not
// decode is kept as written.
func decodeHeader(v string) string {
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		v = d
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

// oneLine folds a header value onto one line: line breaks and tabs become
// spaces, runs of spaces shrink to one.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var addressParser = &mail.AddressParser{WordDecoder: wordDecoder}

// angleAddress and bareAddress find addresses in a header that the strict
// RFC 5322 parser refuses (unquoted dots or commas in names, and the like).
var (
	angleAddress = regexp.MustCompile(`<\s*([^<>\s@]+@[^<>\s@]+)\s*>`)
	bareAddress  = regexp.MustCompile(`[^\s<>"',;:()\[\]@]+@[^\s<>"',;:()\[\]@]+`)
)

// parseAddressList reads an address header, strictly where it can and by
// pattern where it must. Addresses are lower-cased.
func parseAddressList(v string) []Address {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	var out []Address
	if list, err := addressParser.ParseList(v); err == nil {
		for _, a := range list {
			if addr := normalizeAddress(a.Address); addr != "" {
				out = append(out, Address{Name: oneLine(strings.ToValidUTF8(a.Name, "\uFFFD")), Address: addr})
			}
		}
		return out
	}
	decoded := decodeHeader(v)
	if ms := angleAddress.FindAllStringSubmatchIndex(decoded, -1); len(ms) > 0 {
		start := 0
		for _, m := range ms {
			name := strings.Trim(oneLine(decoded[start:m[0]]), ` ,;"'`)
			if addr := normalizeAddress(decoded[m[2]:m[3]]); addr != "" {
				out = append(out, Address{Name: name, Address: addr})
			}
			start = m[1]
		}
		return out
	}
	for _, a := range bareAddress.FindAllString(decoded, -1) {
		if addr := normalizeAddress(a); addr != "" {
			out = append(out, Address{Address: addr})
		}
	}
	return out
}

func normalizeAddress(a string) string {
	a = strings.ToLower(strings.TrimSpace(strings.ToValidUTF8(a, "")))
	at := strings.LastIndexByte(a, '@')
	if at < 1 || at == len(a)-1 || strings.ContainsAny(a, " \t\r\n<>") || !utf8.ValidString(a) {
		return ""
	}
	return a
}

var messageIDPattern = regexp.MustCompile(`<([^<>\s]+)>`)

// messageIDs returns the ids in a Message-ID, In-Reply-To or References
// header without angle brackets; a lone id written without brackets is
// accepted too.
func messageIDs(v string) []string {
	v = strings.ToValidUTF8(v, "")
	var ids []string
	for _, m := range messageIDPattern.FindAllStringSubmatch(v, -1) {
		ids = append(ids, m[1])
	}
	if len(ids) == 0 {
		if f := strings.Fields(v); len(f) == 1 && strings.Contains(f[0], "@") {
			ids = append(ids, strings.Trim(f[0], "<>"))
		}
	}
	return ids
}

// tidyText normalizes line ends and trims trailing blank space.
func tidyText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
