package imports

import (
	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	errs "github.com/sendara/console/models/errs"

	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Import kinds.
const (
	ImportOptOuts  = "opt_outs"
	ImportContacts = "contacts"
	// ImportOptIns records opt-ins, each on the evidence its row carries
	// (import_optins.go).
	ImportOptIns = "opt_ins"
)

// Import job statuses, in lifecycle order. A job is uploading while its
// file is stored and checked, waits in preview until the user confirms,
// is queued for a runner, running while a runner holds it, and ends done,
// failed (retryable) or cancelled (the preview was discarded), or, for a
// dry run, checked (previewed and reported, never meant to be applied).
const (
	ImportUploading = "uploading"
	ImportPreview   = "preview"
	ImportQueued    = "queued"
	ImportRunning   = "running"
	ImportDone      = "done"
	ImportFailed    = "failed"
	ImportCancelled = "cancelled"
	ImportChecked   = "checked"
)

// ImportChunkSize is the size of each stored piece of an uploaded file.
const ImportChunkSize = 1 << 20

// maxRecordBytes bounds one CSV record: longer is not a contact row but a
// quote that never closes, or a file with old Mac line endings.
const maxRecordBytes = 1 << 20

// maxShownValue bounds the cell text kept for a bad row.
const maxShownValue = 200

// Fields a CSV column can be mapped to; "" ignores the column.
const (
	FieldPhone      = "phone"
	FieldEmail      = "email"
	FieldName       = "name"
	FieldFirstName  = "first_name"
	FieldLastName   = "last_name"
	FieldCRMID      = "crm_id"
	FieldChannel    = "channel"
	FieldOccurredAt = "occurred_at"
	// FieldOptOutFlag is a CRM's unsubscribe or do-not-call column: only
	// rows where it is true are applied, so a whole CRM export can be
	// imported and only the people flagged in it are opted out.
	FieldOptOutFlag = "opt_out_flag"
)

// ImportFields lists the fields a column may be mapped to for kind, in the
// order a mapping form offers them.
func ImportFields(kind string) []string {
	f := []string{FieldPhone, FieldEmail, FieldName, FieldFirstName, FieldLastName, FieldCRMID}
	switch kind {
	case ImportOptOuts:
		f = append(f, FieldChannel, FieldOccurredAt, FieldOptOutFlag)
	case ImportOptIns:
		f = append(f, FieldChannel, FieldOccurredAt, FieldEvidenceKind, FieldEvidenceRef, FieldCapturedBy)
	}
	return f
}

// FieldLabel names a field for people.
func FieldLabel(f string) string {
	switch f {
	case FieldPhone:
		return "Phone number"
	case FieldEmail:
		return "Email address"
	case FieldName:
		return "Name"
	case FieldFirstName:
		return "First name"
	case FieldLastName:
		return "Last name"
	case FieldCRMID:
		return "CRM id"
	case FieldChannel:
		return "Channel"
	case FieldOccurredAt:
		return "Opted out at"
	case FieldOptOutFlag:
		return "Apply only rows where this is true (unsubscribe / do-not-call)"
	case FieldEvidenceKind, FieldEvidenceRef, FieldCapturedBy:
		return optInFieldLabel(f)
	}
	return "(ignored)"
}

// KindLabel names an import kind for people.
func KindLabel(kind string) string {
	switch kind {
	case ImportContacts:
		return "Contacts"
	case ImportOptIns:
		return "Opt-ins"
	}
	return "Opt-outs"
}

// ImportMapping says how to read a file: whether line 1 is a header, the
// delimiter, and which field each column holds.
type ImportMapping struct {
	Header    bool     `json:"header"`
	Delimiter string   `json:"delimiter"`
	Columns   []string `json:"columns"` // the header cells, or "Column 1"… without a header
	Fields    []string `json:"fields"`  // per column: a Field* constant or "" (ignored)
	// Channel applies to rows without a channel of their own (opt-outs).
	Channel string `json:"channel"`
}

func (m ImportMapping) column(i int) string {
	if i >= 0 && i < len(m.Columns) {
		return m.Columns[i]
	}
	return fmt.Sprintf("Column %d", i+1)
}

func (m ImportMapping) delimiter() rune {
	r, _ := utf8.DecodeRuneInString(m.Delimiter)
	if r == utf8.RuneError || m.Delimiter == "" {
		return ','
	}
	return r
}

// HasIdentifier reports whether some column holds phone numbers or emails.
func (m ImportMapping) HasIdentifier() bool {
	return slices.Contains(m.Fields, FieldPhone) || slices.Contains(m.Fields, FieldEmail)
}

// Problem explains why the mapping cannot be imported ("" when it can).
func (m ImportMapping) Problem() string {
	if m.HasIdentifier() {
		return ""
	}
	return "No column of phone numbers or email addresses was recognised. Name one Phone, Mobile Phone Number, Email or Email Address, or choose it in the column mapping."
}

// singleFields may be mapped to one column at most.
var singleFields = []string{FieldName, FieldFirstName, FieldLastName, FieldCRMID, FieldChannel, FieldOccurredAt, FieldOptOutFlag,
	FieldEvidenceKind, FieldEvidenceRef, FieldCapturedBy}

// ImportOptions are the settings a file is read with.
type ImportOptions struct {
	Region   string         // phone numbers without a country code
	Location *time.Location // dates without a time zone
}

func (o ImportOptions) loc() *time.Location {
	if o.Location == nil {
		return time.UTC
	}
	return o.Location
}

var (
	utf8BOM         = []byte{0xEF, 0xBB, 0xBF}
	errRecordTooBig = errors.New("record too long")
)

// DetectImportMapping reads the start of a file and proposes a mapping for
// kind: the delimiter from the first line, a header when line 1 names a
// phone or email column (typical CRM exports: HubSpot, GoHighLevel,
// Salesforce, Pipedrive, Close), otherwise no header when line 1 already
// holds phone numbers or emails. A file that is not CSV text (a workbook,
// UTF-16, binary) is a ValidationError on "file".
func DetectImportMapping(r io.Reader, kind string, opt ImportOptions) (ImportMapping, error) {
	const window = 64 << 10
	br := bufio.NewReaderSize(r, window)
	head, err := br.Peek(window)
	if err != nil && !errors.Is(err, io.EOF) {
		return ImportMapping{}, fmt.Errorf("read the file: %w", err)
	}
	if err := sniffText(head); err != nil {
		return ImportMapping{}, err
	}
	head = bytes.TrimPrefix(head, utf8BOM)
	first := head
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	m := ImportMapping{Delimiter: string(guessDelimiter(first)), Channel: consent.ChannelAll}
	cr := csv.NewReader(bytes.NewReader(head))
	cr.Comma, cr.LazyQuotes, cr.FieldsPerRecord = m.delimiter(), true, -1
	rec, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return m, errs.Invalid("file", "is empty: it has no rows")
	}
	if err != nil {
		return m, errs.Invalid("file", "is not a CSV file: its first line cannot be read (%v)", err)
	}
	m.Columns = make([]string, len(rec))
	m.Fields = make([]string, len(rec))
	for i, h := range rec {
		m.Columns[i] = clip(cleanText(strings.TrimSpace(h)), 100)
		if m.Columns[i] == "" {
			m.Columns[i] = fmt.Sprintf("Column %d", i+1)
		}
		m.Fields[i] = classifyHeader(h, kind)
	}
	m.dedupeSingles()
	if m.HasIdentifier() {
		m.Header = true
		return m, nil
	}
	// No recognised header: line 1 may already be data.
	headerless := make([]string, len(rec))
	for i, v := range rec {
		if id, err := store.NormalizeIdentifier("", v, opt.Region); err == nil {
			headerless[i] = id.Kind
		}
	}
	if slices.ContainsFunc(headerless, func(f string) bool { return f != "" }) {
		for i := range m.Columns {
			m.Columns[i] = fmt.Sprintf("Column %d", i+1)
		}
		m.Fields, m.Header = headerless, false
		return m, nil
	}
	m.Header = true
	return m, nil
}

// sniffText refuses what is plainly not CSV text, with a reason a person
// can act on.
func sniffText(head []byte) error {
	switch {
	case len(bytes.TrimSpace(bytes.TrimPrefix(head, utf8BOM))) == 0:
		return errs.Invalid("file", "is empty: it has no rows")
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return errs.Invalid("file", "is an Excel workbook (or another zip file), not CSV: save it as \"CSV UTF-8 (comma delimited)\" and upload that")
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return errs.Invalid("file", "is an old Excel workbook (.xls), not CSV: save it as \"CSV UTF-8 (comma delimited)\" and upload that")
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return errs.Invalid("file", "is UTF-16 text: save it as \"CSV UTF-8\" and upload that")
	case bytes.IndexByte(head, 0) >= 0:
		return errs.Invalid("file", "is not a text file: upload a CSV export from your CRM")
	}
	return nil
}

// guessDelimiter picks the most frequent of comma, semicolon and tab
// outside quotes in the first line (spreadsheets in many locales write
// semicolons); comma when none appears.
func guessDelimiter(line []byte) rune {
	counts := map[rune]int{}
	quoted := false
	for _, b := range line {
		switch {
		case b == '"':
			quoted = !quoted
		case !quoted && (b == ',' || b == ';' || b == '\t'):
			counts[rune(b)]++
		}
	}
	best := ','
	for _, r := range []rune{';', '\t'} {
		if counts[r] > counts[best] {
			best = r
		}
	}
	return best
}

// normalizeHeader lower-cases a header and turns punctuation into single
// spaces: "Person - Phone - Work" → "person phone work".
func normalizeHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	var b strings.Builder
	gap := false
	for _, r := range h {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if gap && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			gap = false
		} else {
			gap = true
		}
	}
	return strings.ReplaceAll(b.String(), "e mail", "email")
}

// classifyHeader maps a header cell to a field, or "" for columns the
// import does not use. Columns about a phone or email rather than holding
// one ("Phone Type", "Email Opt Out", "Email Verified") are ignored.
func classifyHeader(h, kind string) string {
	n := normalizeHeader(h)
	field := ""
	switch n {
	case "first name", "firstname", "first", "given name", "forename":
		field = FieldFirstName
	case "last name", "lastname", "last", "surname", "family name":
		field = FieldLastName
	case "name", "full name", "fullname", "contact name", "person name", "display name", "contact":
		field = FieldName
	case "record id", "recordid", "contact id", "contactid", "id", "person id", "personid", "lead id", "leadid",
		"crm id", "external id", "hubspot id", "salesforce id", "object id", "vid":
		field = FieldCRMID
	case "identifier", "identifiers", "phone or email":
		// The console's own export; either field reads a phone or an email.
		field = FieldPhone
	case "channel":
		field = FieldChannel
	case "do not call", "donotcall", "dnc", "dnd", "email opt out", "emailoptout", "hasoptedoutofemail", "has opted out of email",
		"sms opt out", "smsoptout", "text opt out", "unsubscribed", "unsubscribed from all email", "opted out of all email",
		"marketing status", "do not contact", "donotcontact":
		// HubSpot (Unsubscribed from all email), GoHighLevel (DND),
		// Salesforce (Do Not Call, Email Opt Out, HasOptedOutOfEmail),
		// Pipedrive (Marketing status), Close (Unsubscribed).
		field = FieldOptOutFlag
	case "opted out at", "opted out on", "opted out", "opt out date", "opt out at", "opt out time", "date opted out",
		"date", "unsubscribed at", "unsubscribed on", "unsubscribe date", "timestamp":
		field = FieldOccurredAt
	default:
		field = classifyOptInHeader(n)
	}
	if field == "" {
		tokens := strings.Fields(n)
		has := func(words ...string) bool {
			return slices.ContainsFunc(tokens, func(t string) bool { return slices.Contains(words, t) })
		}
		switch {
		case has("type", "opt", "optout", "opted", "status", "verified", "valid", "country", "ext", "extension",
			"carrier", "dnc", "unsubscribed", "bounced", "bounce", "domain", "count", "label", "consent"):
		case has("email", "emails", "mail", "emailaddress") || strings.HasPrefix(n, "email"):
			field = FieldEmail
		case has("phone", "phones", "mobile", "cell", "cellphone", "tel", "telephone", "sms", "mobilephone", "phonenumber"):
			field = FieldPhone
		}
	}
	if !slices.Contains(ImportFields(kind), field) {
		return ""
	}
	return field
}

// dedupeSingles keeps only the first column of each single-valued field.
func (m *ImportMapping) dedupeSingles() {
	seen := map[string]bool{}
	for i, f := range m.Fields {
		if slices.Contains(singleFields, f) {
			if seen[f] {
				m.Fields[i] = ""
			}
			seen[f] = true
		}
	}
}

// CheckMapping validates a mapping chosen by a person for kind.
func CheckMapping(m ImportMapping, kind string) error {
	if len(m.Fields) != len(m.Columns) {
		return errs.Invalid("mapping", "names %d fields for %d columns", len(m.Fields), len(m.Columns))
	}
	seen := map[string]string{}
	for i, f := range m.Fields {
		if f == "" {
			continue
		}
		if !slices.Contains(ImportFields(kind), f) {
			return errs.Invalid(fmt.Sprintf("field_%d", i), "%q is not a field of a %s import", f, strings.ToLower(KindLabel(kind)))
		}
		if prev, ok := seen[f]; ok && slices.Contains(singleFields, f) {
			return errs.Invalid(fmt.Sprintf("field_%d", i), "%s is already column %q: choose one column for it", FieldLabel(f), prev)
		}
		seen[f] = m.Columns[i]
	}
	if _, err := consent.ParseChannel(m.Channel); err != nil {
		return err
	}
	return nil
}

// ImportCursor is a position in a file between two records: the byte
// offset and the number of lines before it, so a resumed reader numbers
// rows as the file does.
type ImportCursor struct {
	Offset int64
	Line   int64
}

// ImportRow is one data row of a file, read and checked. A contacts row
// with problems is not imported at all, so a fix and a re-import apply it
// whole. An opt-out row errs on the side of suppression (DESIGN §4): its
// good identifiers apply whatever its other cells say, a bad channel cell
// reads as every channel, a bad date as the time of import, and a name or
// CRM id too long to keep is left out; the bad cells are still listed.
type ImportRow struct {
	Line        int64 // the line the row starts on (the header is line 1)
	Identifiers []store.Identifier
	Name        string
	CRMID       string
	Channel     string
	OccurredAt  time.Time // zero: the time of import
	// The evidence of an opt-in row (ImportOptIns): kind (one of
	// EvidenceKinds), where the proof is, and who captured it; OccurredAt
	// is when it was captured.
	EvidenceKind, EvidenceRef, CapturedBy string
	// Filtered is true when the mapping's opt-out flag column says the row
	// is not opted out: it is skipped, and is not a bad row.
	Filtered bool
	Problems []ImportProblem
}

// ImportProblem is one reason a row is bad: its line, the column (-1 for
// the row as a whole), the cell's text and why. It is stored for the
// preview as a row of import_bad_rows.
type ImportProblem struct {
	JobID  string `gorm:"primaryKey"`
	Line   int64  `gorm:"primaryKey"`
	Col    int    `gorm:"primaryKey"`
	Field  string
	Value  string
	Reason string
}

// TableName is the preview's store of bad rows.
func (ImportProblem) TableName() string { return "import_bad_rows" }

// Applies reports whether the row is imported by a job of kind: a good
// row always; a row with problems only if it is an opt-out row with at
// least one good identifier.
func (r ImportRow) Applies(kind string) bool {
	return !r.Filtered && (len(r.Problems) == 0 || (kind == ImportOptOuts && len(r.Identifiers) > 0))
}

// optOutFlag reads an opt-out flag cell: set (true), clear (false), or
// neither (ok false). An empty cell is clear.
func optOutFlag(v string) (set, ok bool) {
	switch strings.ToLower(strings.Join(strings.Fields(v), " ")) {
	case "true", "yes", "y", "1", "x", "t", "unsubscribed", "opted out", "optedout", "opt out", "opted-out", "dnc", "dnd",
		"do not call", "do not contact", "on":
		return true, true
	case "", "false", "no", "n", "0", "f", "subscribed", "opted in", "no form", "archived", "none", "null", "off":
		return false, true
	}
	return false, false
}

func (r *ImportRow) problem(col int, field, value, reason string) {
	r.Problems = append(r.Problems, ImportProblem{Line: r.Line, Col: col, Field: field,
		Value: clip(cleanText(value), maxShownValue), Reason: reason})
}

// ImportParser reads the rows of a file with encoding/csv, one record at a
// time: memory stays bounded whatever the file's size.
type ImportParser struct {
	src        *recordLimiter
	r          *csv.Reader
	m          ImportMapping
	kind       string
	opt        ImportOptions
	base       ImportCursor // where the csv reader starts in the file
	pos        ImportCursor // after the last record read
	skipHeader bool
	now        time.Time
}

// NewImportParser reads r, which starts at from in the file (the zero
// cursor for the file's start, where a byte-order mark and the header are
// skipped).
func NewImportParser(r io.Reader, kind string, m ImportMapping, opt ImportOptions, from ImportCursor) *ImportParser {
	base := from
	if from.Offset == 0 {
		br := bufio.NewReader(r)
		if b, _ := br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
			_, _ = br.Discard(len(utf8BOM))
			base.Offset = int64(len(utf8BOM))
		}
		r = br
	}
	src := &recordLimiter{r: r, max: maxRecordBytes}
	cr := csv.NewReader(src)
	cr.Comma, cr.LazyQuotes, cr.FieldsPerRecord, cr.ReuseRecord = m.delimiter(), true, -1, true
	return &ImportParser{src: src, r: cr, m: m, kind: kind, opt: opt, base: base, pos: base,
		skipHeader: from.Offset == 0 && m.Header, now: store.Now()}
}

// Cursor is the position after the last row read.
func (p *ImportParser) Cursor() ImportCursor { return p.pos }

// Next returns the next data row (blank rows are skipped), io.EOF at the
// end, or an error that makes the whole file unreadable.
func (p *ImportParser) Next() (ImportRow, error) {
	for {
		rec, err := p.r.Read()
		if errors.Is(err, io.EOF) {
			return ImportRow{}, io.EOF
		}
		if errors.Is(err, errRecordTooBig) {
			return ImportRow{}, errs.Invalid("file", "line %d starts a row longer than 1 MiB: a quote that is never closed, or line endings this reader does not know (save the file as \"CSV UTF-8\")", p.pos.Line+1)
		}
		if err != nil {
			return ImportRow{}, fmt.Errorf("read line %d: %w", p.pos.Line+1, err)
		}
		startLine, _ := p.r.FieldPos(0)
		last := len(rec) - 1
		lastLine, _ := p.r.FieldPos(last)
		// A quoted last field may span lines; the next record starts after them.
		p.pos = ImportCursor{Offset: p.base.Offset + p.r.InputOffset(),
			Line: p.base.Line + int64(lastLine) + int64(strings.Count(rec[last], "\n"))}
		p.src.mark(p.r.InputOffset())
		if p.skipHeader {
			p.skipHeader = false
			continue
		}
		if isBlank(rec) {
			continue
		}
		return p.check(rec, p.base.Line+int64(startLine)), nil
	}
}

func isBlank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// check reads one record into a row and lists its problems, with the
// reasons NormalizeIdentifier gives.
func (p *ImportParser) check(rec []string, line int64) ImportRow {
	row := ImportRow{Line: line, Channel: p.m.Channel}
	if row.Channel == "" {
		row.Channel = consent.ChannelAll
	}
	var first, last string
	nameCol, crmCol := -1, -1
	seen := map[string]bool{}
	badIdentifier := false
	for i, f := range p.m.Fields {
		if i >= len(rec) || f == "" {
			continue
		}
		v := strings.TrimSpace(rec[i])
		col := p.m.column(i)
		switch f {
		case FieldPhone, FieldEmail:
			if v == "" {
				continue
			}
			id, err := store.NormalizeIdentifier(col, v, p.opt.Region)
			if err != nil {
				row.problem(i, col, v, reasonOf(err))
				badIdentifier = true
				continue
			}
			if !seen[id.Value] {
				seen[id.Value] = true
				row.Identifiers = append(row.Identifiers, id)
			}
		case FieldName:
			row.Name, nameCol = cleanText(v), i
		case FieldFirstName:
			first = cleanText(v)
			if nameCol < 0 {
				nameCol = i
			}
		case FieldLastName:
			last = cleanText(v)
			if nameCol < 0 {
				nameCol = i
			}
		case FieldCRMID:
			row.CRMID, crmCol = cleanText(v), i
		case FieldChannel:
			if v == "" {
				continue
			}
			ch, err := consent.ParseChannel(v)
			if err != nil {
				row.problem(i, col, v, "must be imessage, facetime or all")
				row.Channel = consent.ChannelAll // an opt-out applies to every channel rather than none
				continue
			}
			row.Channel = ch
		case FieldOptOutFlag:
			set, ok := optOutFlag(v)
			if !ok {
				// Unreadable: the row is applied (an opt-out errs on the side
				// of suppression) and the cell listed.
				row.problem(i, col, v, "is neither yes nor no: the row is applied as opted out")
				continue
			}
			row.Filtered = !set
		case FieldEvidenceKind, FieldEvidenceRef, FieldCapturedBy:
			row.evidenceCell(i, f, col, v)
		case FieldOccurredAt:
			if v == "" {
				continue
			}
			t, err := parseImportTime(v, p.opt.loc())
			switch {
			case err != nil:
				row.problem(i, col, v, "is not a date: write it like 2026-03-31, 2026-03-31 14:05 or 2026-03-31T14:05:00Z")
			case t.After(p.now.Add(consent.FutureSkew)):
				row.problem(i, col, v, "is in the future")
			default:
				row.OccurredAt = t
			}
		}
	}
	if row.Name == "" {
		row.Name = strings.TrimSpace(first + " " + last)
	}
	if len(row.Name) > 200 {
		row.problem(nameCol, p.m.column(nameCol), row.Name, "is longer than 200 characters")
		row.Name = ""
	}
	if len(row.CRMID) > 200 {
		row.problem(crmCol, p.m.column(crmCol), row.CRMID, "is longer than 200 characters")
		row.CRMID = ""
	}
	if len(row.Identifiers) == 0 && !badIdentifier {
		row.problem(-1, "row", strings.Join(rec, string(p.m.delimiter())), "has no phone number or email address")
	}
	if p.kind == ImportOptIns {
		p.checkEvidence(&row, rec)
	}
	slices.SortStableFunc(row.Problems, func(a, b ImportProblem) int { return a.Col - b.Col })
	return row
}

func reasonOf(err error) string {
	if v, ok := errs.AsValidation(err); ok {
		return v.Message
	}
	return err.Error()
}

// importTimeLayouts are the date forms CRM exports write. Slashed dates
// are read month first (US exports), day first when only that reading is
// a date.
var importTimeLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05 -0700",
	"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02",
	"2006/01/02 15:04:05", "2006/01/02 15:04", "2006/01/02",
	"1/2/2006 15:04:05", "1/2/2006 15:04", "1/2/2006 3:04:05 PM", "1/2/2006 3:04 PM", "1/2/2006",
	"2/1/2006 15:04:05", "2/1/2006 15:04", "2/1/2006",
	"Jan 2, 2006 3:04 PM", "Jan 2, 2006 15:04", "Jan 2, 2006", "January 2, 2006", "2 Jan 2006", "2 January 2006", "2-Jan-2006",
}

// parseImportTime reads a date or time; without a zone it is in loc.
// Digits alone are Unix seconds (10) or milliseconds (13), as some CRMs
// export.
func parseImportTime(v string, loc *time.Location) (time.Time, error) {
	v = strings.ToUpper(strings.TrimSpace(v))
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		switch len(v) {
		case 10:
			return time.Unix(n, 0).UTC(), nil
		case 13:
			return time.UnixMilli(n).UTC(), nil
		}
	}
	for _, l := range importTimeLayouts {
		if t, err := time.ParseInLocation(l, v, loc); err == nil {
			return t.UTC().Truncate(time.Microsecond), nil
		}
	}
	return time.Time{}, errors.New("not a date")
}

// recordLimiter fails a read once more than max bytes were delivered past
// the end of the last record: encoding/csv would otherwise buffer a
// never-ending quoted field whole.
type recordLimiter struct {
	r         io.Reader
	delivered int64
	marked    int64
	max       int64
}

func (l *recordLimiter) mark(offset int64) { l.marked = offset }

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.delivered-l.marked > l.max {
		return 0, errRecordTooBig
	}
	n, err := l.r.Read(p)
	l.delivered += int64(n)
	return n, err
}

// cleanText makes cell text safe to store on both databases: valid UTF-8
// and no NUL bytes (PostgreSQL refuses them in text).
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// clip shortens s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// ImportJob is one import: its file, mapping, status and counters.
type ImportJob struct {
	CustomerID      string `gorm:"primaryKey"`
	ID              string `gorm:"primaryKey"`
	Kind            string
	FileName        string
	FileSHA256      string `gorm:"column:file_sha256"`
	FileSize        int64
	MappingJSON     string `gorm:"column:mapping"`
	Status          string
	TotalRows       int64 // data rows, blank ones aside
	BadRows         int64 // rows skipped: nothing of them is applied
	PartialRows     int64 // opt-out rows with a bad cell whose good identifiers still apply
	FilteredRows    int64 // rows the opt-out flag column says are not opted out: skipped
	ProcessedRows   int64 // data rows read by the runner, good and bad
	Applied         int64 // rows that appended an opt-out (opt-outs) or created or changed a contact (contacts)
	Unchanged       int64 // rows already imported or already in effect, or with nothing new
	ContactsCreated int64
	ResumeOffset    int64
	ResumeLine      int64
	Error           string
	CreatedBy       string
	CreatedByType   string
	CreatedByLabel  string
	ClaimedBy       string
	CreatedAt       time.Time
	StartedAt       *time.Time
	FinishedAt      *time.Time
	HeartbeatAt     *time.Time

	Mapping ImportMapping `gorm:"-"`
}

// Active reports whether the job is waiting for or held by a runner: its
// page keeps polling.
func (j *ImportJob) Active() bool {
	return j.Status == ImportQueued || j.Status == ImportRunning || j.Status == ImportUploading
}

// UsableRows is the number of rows the import will apply.
func (j *ImportJob) UsableRows() int64 { return j.TotalRows - j.BadRows - j.FilteredRows }

// Percent is the share of rows processed, 0 to 100.
func (j *ImportJob) Percent() int {
	if j.Status == ImportDone {
		return 100
	}
	if j.TotalRows <= 0 {
		return 0
	}
	return int(min(100, j.ProcessedRows*100/j.TotalRows))
}

// Cursor is where the job's runner continues in the file.
func (j *ImportJob) Cursor() ImportCursor {
	return ImportCursor{Offset: j.ResumeOffset, Line: j.ResumeLine}
}

// uploader is the actor batches run as: the person who uploaded the file,
// kept within the job's tenant.
func (j *ImportJob) uploader() store.Actor {
	a := store.Actor{Type: j.CreatedByType, ID: j.CreatedBy, Label: j.CreatedByLabel, Reach: store.ReachAll}
	return a.WithinTenant(j.CustomerID)
}

func (j *ImportJob) decode() error {
	if j.MappingJSON == "" || j.MappingJSON == "{}" {
		return nil
	}
	if err := json.Unmarshal([]byte(j.MappingJSON), &j.Mapping); err != nil {
		return fmt.Errorf("read mapping of import %s: %w", j.ID, err)
	}
	return nil
}

// IdempotencyKey is the key of the i-th identifier of the row on line: the
// file's hash and the line, so the same file imported again is a no-op.
func (j *ImportJob) IdempotencyKey(line int64, i int) string {
	if i == 0 {
		return fmt.Sprintf("%s:%d", j.FileSHA256, line)
	}
	return fmt.Sprintf("%s:%d:%d", j.FileSHA256, line, i+1)
}

type importChunk struct {
	JobID string `gorm:"primaryKey"`
	N     int    `gorm:"primaryKey"`
	Data  []byte
}

func (importChunk) TableName() string { return "import_chunks" }

// ErrImportClaimLost means another runner took the job over (this one was
// presumed dead): the work in hand must stop without writing.
var ErrImportClaimLost = errors.New("the import job was taken over by another runner")

// ImportUpload is a file to import.
type ImportUpload struct {
	CustomerID string
	Kind       string // ImportOptOuts (default) or ImportContacts
	FileName   string
	Channel    string // opt-outs: the channel of rows that name none (default all)
	File       io.Reader
	// MaxBytes refuses larger files (0: no limit).
	MaxBytes int64
}

// CreateImport stores an upload as it streams in and checks every row: the
// job it returns is in preview, with its mapping, row counts and bad rows
// (ImportProblems), and nothing else has been written. A file that cannot
// be imported at all (empty, not CSV, too large) is a ValidationError on
// "file" and leaves nothing behind. The audit entry import.create names
// the file and its counts.
func (db *ImportStore) CreateImport(ctx context.Context, actor store.Actor, up ImportUpload, opt ImportOptions) (*ImportJob, error) {
	if up.Kind == "" {
		up.Kind = ImportOptOuts
	}
	if up.Kind != ImportOptOuts && up.Kind != ImportContacts && up.Kind != ImportOptIns {
		return nil, errs.Invalid("kind", "must be opt_outs, opt_ins or contacts")
	}
	channel, err := consent.ParseChannel(up.Channel)
	if err != nil {
		return nil, err
	}
	if up.CustomerID == "" {
		return nil, errs.Invalid("customer", "choose the customer the file belongs to")
	}
	if up.File == nil {
		return nil, errs.Invalid("file", "choose a CSV file to upload")
	}
	now := store.Now()
	job := &ImportJob{CustomerID: up.CustomerID, ID: uuid.Must(uuid.NewV7()).String(), Kind: up.Kind,
		FileName: importFileName(up.FileName), MappingJSON: "{}", Status: ImportUploading,
		CreatedBy: actor.ID, CreatedByType: actor.Type, CreatedByLabel: actor.Label, CreatedAt: now, HeartbeatAt: &now}
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := customers.RequireCustomer(tx, up.CustomerID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return errs.Invalid("customer", "no such customer")
			}
			return err
		}
		if err := tx.G.Create(job).Error; err != nil {
			return fmt.Errorf("create import job: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := db.fillImport(ctx, actor, job, up, channel, opt); err != nil {
		if derr := db.dropImport(context.WithoutCancel(ctx), actor, job.ID); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, err
	}
	return job, nil
}

// fillImport stores the file, detects the mapping, checks every row and
// puts the job in preview.
func (db *ImportStore) fillImport(ctx context.Context, actor store.Actor, job *ImportJob, up ImportUpload, channel string, opt ImportOptions) error {
	sum, size, err := db.storeChunks(ctx, actor, job, up.File, up.MaxBytes)
	if err != nil {
		return err
	}
	job.FileSHA256, job.FileSize = sum, size
	m, err := DetectImportMapping(db.ImportReader(ctx, job.ID, 0), job.Kind, opt)
	if err != nil {
		return err
	}
	m.Channel = channel
	n, err := db.checkRows(ctx, actor, job, m, opt)
	if err != nil {
		return err
	}
	if n.total == 0 {
		if m.Header {
			return errs.Invalid("file", "has a header line but no data rows")
		}
		return errs.Invalid("file", "has no rows")
	}
	mapping, _ := json.Marshal(m)
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		values := n.columns()
		maps.Copy(values, map[string]any{"status": ImportPreview, "file_sha256": sum, "file_size": size, "mapping": string(mapping),
			"error": m.ProblemFor(job.Kind), "heartbeat_at": nil})
		res := tx.G.Model(&ImportJob{}).Scopes(actor.Tenant("customer_id")).Where("id = ? AND status = ?", job.ID, ImportUploading).
			Updates(values)
		if res.Error != nil {
			return fmt.Errorf("finish upload: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("finish upload of import %s: the job is gone", job.ID)
		}
		job.Status, job.MappingJSON, job.Mapping, job.TotalRows, job.BadRows, job.PartialRows, job.FilteredRows, job.Error, job.HeartbeatAt =
			ImportPreview, string(mapping), m, n.total, n.bad, n.partial, n.filtered, m.ProblemFor(job.Kind), nil
		tx.Audit(store.Audit{Action: "import.create", ObjectType: "import", ObjectID: job.ID, CustomerID: job.CustomerID,
			Details: map[string]any{"kind": job.Kind, "file_name": job.FileName, "size": size, "sha256": sum,
				"rows": n.total, "bad_rows": n.bad, "partial_rows": n.partial, "filtered_rows": n.filtered}})
		return nil
	})
}

func importFileName(name string) string {
	name = strings.TrimSpace(name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = clip(cleanText(name), 200)
	if name == "" {
		return "upload.csv"
	}
	return name
}

// storeChunks streams the upload into import_chunks, one 1 MiB chunk at a
// time, and returns its hex SHA-256 and size.
func (db *ImportStore) storeChunks(ctx context.Context, actor store.Actor, job *ImportJob, r io.Reader, maxBytes int64) (string, int64, error) {
	h := sha256.New()
	buf := make([]byte, ImportChunkSize)
	var size int64
	last := time.Now()
	for n := 0; ; n++ {
		k, err := io.ReadFull(r, buf)
		if k > 0 {
			size += int64(k)
			if maxBytes > 0 && size > maxBytes {
				return "", 0, errs.Invalid("file", "is larger than %d MiB: split it and import the parts", maxBytes>>20)
			}
			h.Write(buf[:k])
			if err := db.Gorm.WithContext(ctx).Create(&importChunk{JobID: job.ID, N: n, Data: buf[:k]}).Error; err != nil {
				return "", 0, fmt.Errorf("store upload chunk %d: %w", n, err)
			}
			if time.Since(last) > 10*time.Second {
				last = time.Now()
				if err := db.touchUpload(ctx, actor, job.ID); err != nil {
					return "", 0, err
				}
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return "", 0, errs.Invalid("file", "is larger than %d MiB: split it and import the parts", tooBig.Limit>>20)
		}
		if err != nil {
			return "", 0, fmt.Errorf("read the upload: %w", err)
		}
	}
	if size == 0 {
		return "", 0, errs.Invalid("file", "is empty: it has no rows")
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}

// touchUpload keeps a long upload or check from looking abandoned.
func (db *ImportStore) touchUpload(ctx context.Context, actor store.Actor, id string) error {
	if err := db.Gorm.WithContext(ctx).Model(&ImportJob{}).Scopes(actor.Tenant("customer_id")).Where("id = ?", id).
		Update("heartbeat_at", store.Now()).Error; err != nil {
		return fmt.Errorf("mark import %s alive: %w", id, err)
	}
	return nil
}

// checkRows reads every row under mapping m, stores the problems of the
// rows that have any (replacing earlier ones) and counts rows, bad rows
// (skipped) and partial ones (applied without their bad cells). With no
// identifier column there is nothing to check row by row: rows are counted
// and the mapping's problem says what is wrong.
func (db *ImportStore) checkRows(ctx context.Context, actor store.Actor, job *ImportJob, m ImportMapping, opt ImportOptions) (n rowCounts, err error) {
	g := db.Gorm.WithContext(ctx)
	if err := g.Where("job_id = ?", job.ID).Delete(&ImportProblem{}).Error; err != nil {
		return n, fmt.Errorf("clear bad rows: %w", err)
	}
	p := NewImportParser(db.ImportReader(ctx, job.ID, 0), job.Kind, m, opt, ImportCursor{})
	check := m.HasIdentifier()
	var pending []ImportProblem
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if err := g.Create(pending).Error; err != nil {
			return fmt.Errorf("store bad rows: %w", err)
		}
		pending = pending[:0]
		return nil
	}
	last := time.Now()
	for {
		row, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		n.total++
		if row.Filtered {
			// Not opted out in the CRM: neither applied nor bad, whatever
			// its other cells hold.
			n.filtered++
			continue
		}
		if check && len(row.Problems) > 0 {
			if row.Applies(job.Kind) {
				n.partial++
			} else {
				n.bad++
			}
			for _, pr := range row.Problems {
				pr.JobID = job.ID
				pending = append(pending, pr)
			}
			if len(pending) >= 1000 {
				if err := flush(); err != nil {
					return n, err
				}
			}
		}
		if n.total%10000 == 0 && time.Since(last) > 10*time.Second {
			last = time.Now()
			if err := db.touchUpload(ctx, actor, job.ID); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}

// rowCounts are checkRows' counts: data rows, rows skipped as bad, rows
// applied without their bad cells, rows the opt-out flag column filters
// out.
type rowCounts struct{ total, bad, partial, filtered int64 }

// columns are the counts as import_jobs columns.
func (n rowCounts) columns() map[string]any {
	return map[string]any{"total_rows": n.total, "bad_rows": n.bad, "partial_rows": n.partial, "filtered_rows": n.filtered}
}

// dropImport removes an upload that never reached preview.
func (db *ImportStore) dropImport(ctx context.Context, actor store.Actor, id string) error {
	return db.Gorm.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		if err := g.Where("job_id = ?", id).Delete(&ImportProblem{}).Error; err != nil {
			return fmt.Errorf("drop bad rows of import %s: %w", id, err)
		}
		if err := g.Where("job_id = ?", id).Delete(&importChunk{}).Error; err != nil {
			return fmt.Errorf("drop file of import %s: %w", id, err)
		}
		if err := g.Scopes(actor.Tenant("customer_id")).Where("id = ? AND status = ?", id, ImportUploading).Delete(&ImportJob{}).Error; err != nil {
			return fmt.Errorf("drop import %s: %w", id, err)
		}
		return nil
	})
}

// RemapImport checks a previewed file again under a mapping a person
// chose, replacing its bad rows and counts (audit import.remap).
func (db *ImportStore) RemapImport(ctx context.Context, actor store.Actor, id string, m ImportMapping, opt ImportOptions) (*ImportJob, error) {
	job, err := db.ImportJob(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if job.Status != ImportPreview {
		return nil, &errs.ConflictError{Field: "status", Message: fmt.Sprintf("this import is %s: its mapping can no longer change", job.Status)}
	}
	m.Header, m.Delimiter, m.Columns = job.Mapping.Header, job.Mapping.Delimiter, job.Mapping.Columns
	if m.Channel, err = consent.ParseChannel(m.Channel); err != nil {
		return nil, err
	}
	if err := CheckMapping(m, job.Kind); err != nil {
		return nil, err
	}
	// While the rows are checked again the job is not startable; an
	// interrupted check leaves it uploading, and the runner sweeps it.
	if err := db.moveImport(ctx, actor, job.ID, ImportPreview, ImportUploading, map[string]any{"heartbeat_at": store.Now()}); err != nil {
		return nil, err
	}
	n, err := db.checkRows(ctx, actor, job, m, opt)
	if err != nil {
		if uerr := db.moveImport(context.WithoutCancel(ctx), actor, job.ID, ImportUploading, ImportPreview, nil); uerr != nil {
			err = errors.Join(err, uerr)
		}
		return nil, err
	}
	mapping, _ := json.Marshal(m)
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		values := n.columns()
		maps.Copy(values, map[string]any{"status": ImportPreview, "mapping": string(mapping), "error": m.ProblemFor(job.Kind), "heartbeat_at": nil})
		res := tx.G.Model(&ImportJob{}).Scopes(actor.Tenant("customer_id")).Where("id = ? AND status = ?", job.ID, ImportUploading).
			Updates(values)
		if res.Error != nil {
			return fmt.Errorf("save mapping: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return store.ErrNotFound
		}
		tx.Audit(store.Audit{Action: "import.remap", ObjectType: "import", ObjectID: job.ID, CustomerID: job.CustomerID,
			Details: map[string]any{"fields": m.Fields, "channel": m.Channel, "rows": n.total, "bad_rows": n.bad,
				"partial_rows": n.partial, "filtered_rows": n.filtered}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db.ImportJob(ctx, actor, id)
}

// moveImport changes a job's status from one to another, with extra
// column values, or reports that the job is not in from.
func (db *ImportStore) moveImport(ctx context.Context, actor store.Actor, id, from, to string, extra map[string]any) error {
	values := map[string]any{"status": to}
	for k, v := range extra {
		values[k] = v
	}
	res := db.Gorm.WithContext(ctx).Model(&ImportJob{}).Scopes(actor.Tenant("customer_id")).
		Where("id = ? AND status = ?", id, from).Updates(values)
	if res.Error != nil {
		return fmt.Errorf("move import %s to %s: %w", id, to, res.Error)
	}
	if res.RowsAffected != 1 {
		return &errs.ConflictError{Field: "status", Message: "this import changed meanwhile: reload the page"}
	}
	return nil
}

// ImportJob returns one job the actor may see; another tenant's is
// ErrNotFound.
func (db *ImportStore) ImportJob(ctx context.Context, actor store.Actor, id string) (*ImportJob, error) {
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var j ImportJob
	if err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).First(&j, "id = ?", id).Error; err != nil {
		return nil, store.NotFound(err)
	}
	if err := j.decode(); err != nil {
		return nil, err
	}
	return &j, nil
}

// ImportFilter pages the list of jobs, newest first.
type ImportFilter struct {
	Before string // keyset: jobs older than this id
	Limit  int
}

// ImportJobs lists the jobs the actor may see, newest first, and whether
// there are older ones.
func (db *ImportStore) ImportJobs(ctx context.Context, actor store.Actor, f ImportFilter) ([]ImportJob, bool, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id"))
	if f.Before != "" {
		if !store.ValidID(f.Before) {
			return nil, false, errs.Invalid("before", "is not an import id")
		}
		q = q.Where("id < ?", f.Before)
	}
	var jobs []ImportJob
	if err := q.Order("id DESC").Limit(f.Limit + 1).Find(&jobs).Error; err != nil {
		return nil, false, fmt.Errorf("list imports: %w", err)
	}
	more := len(jobs) > f.Limit
	if more {
		jobs = jobs[:f.Limit]
	}
	for i := range jobs {
		if err := jobs[i].decode(); err != nil {
			return nil, false, err
		}
	}
	return jobs, more, nil
}

// EarlierImports lists other jobs of the same customer with the same file
// that were confirmed: importing it again changes nothing.
func (db *ImportStore) EarlierImports(ctx context.Context, actor store.Actor, job *ImportJob) ([]ImportJob, error) {
	var jobs []ImportJob
	err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).
		Where("customer_id = ? AND file_sha256 = ? AND id <> ? AND status IN ?", job.CustomerID, job.FileSHA256, job.ID,
			[]string{ImportQueued, ImportRunning, ImportDone, ImportFailed}).
		Order("id DESC").Limit(5).Find(&jobs).Error
	if err != nil {
		return nil, fmt.Errorf("find earlier imports: %w", err)
	}
	return jobs, nil
}

// ImportProblems returns up to limit problems of a job the caller already
// holds (so the actor may see it), in file order after (line, col).
func (db *ImportStore) ImportProblems(ctx context.Context, job *ImportJob, afterLine int64, afterCol, limit int) ([]ImportProblem, error) {
	if limit <= 0 || limit > 1000 {
		limit = 500
	}
	var out []ImportProblem
	err := db.Gorm.WithContext(ctx).Where("job_id = ? AND (line > ? OR (line = ? AND col > ?))", job.ID, afterLine, afterLine, afterCol).
		Order("line, col").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("read bad rows: %w", err)
	}
	return out, nil
}

// EachImportProblem calls fn with every problem of job in file order, a
// page at a time.
func (db *ImportStore) EachImportProblem(ctx context.Context, job *ImportJob, fn func(ImportProblem) error) error {
	line, col := int64(0), -2
	for {
		page, err := db.ImportProblems(ctx, job, line, col, 1000)
		if err != nil {
			return err
		}
		for _, p := range page {
			if err := fn(p); err != nil {
				return err
			}
		}
		if len(page) < 1000 {
			return nil
		}
		line, col = page[len(page)-1].Line, page[len(page)-1].Col
	}
}

// ImportReader streams a job's stored file back from offset, one chunk in
// memory at a time.
func (db *ImportStore) ImportReader(ctx context.Context, jobID string, offset int64) io.Reader {
	return &chunkReader{ctx: ctx, db: db, jobID: jobID, n: int(offset / ImportChunkSize), skip: int(offset % ImportChunkSize)}
}

type chunkReader struct {
	ctx   context.Context
	db    *ImportStore
	jobID string
	n     int
	skip  int
	buf   []byte
	done  bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		var data []byte
		err := r.db.Gorm.WithContext(r.ctx).Raw("SELECT data FROM import_chunks WHERE job_id = ? AND n = ?", r.jobID, r.n).Row().Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			r.done = true
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("read chunk %d of import %s: %w", r.n, r.jobID, err)
		}
		r.n++
		if r.skip > 0 {
			data = data[min(r.skip, len(data)):]
			r.skip = 0
		}
		r.buf = data
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// StartImport confirms a previewed job (audit import.start). With claimant
// empty the job is queued for a runner; otherwise it is claimed at once
// by claimant (the command line, which runs it itself).
func (db *ImportStore) StartImport(ctx context.Context, actor store.Actor, id, claimant string) (*ImportJob, error) {
	job, err := db.ImportJob(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	switch {
	case job.Status != ImportPreview:
		return nil, &errs.ConflictError{Field: "status", Message: fmt.Sprintf("this import is %s: only a preview can be started", job.Status)}
	case job.Error != "":
		return nil, &errs.ConflictError{Field: "mapping", Message: job.Error}
	case job.UsableRows() <= 0:
		return nil, &errs.ConflictError{Field: "file", Message: "no row of this file can be imported: every row is listed as bad"}
	}
	now := store.Now()
	values := map[string]any{"status": ImportQueued}
	if claimant != "" {
		values = map[string]any{"status": ImportRunning, "claimed_by": claimant, "heartbeat_at": now, "started_at": now}
	}
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := customers.RequireCustomer(tx, job.CustomerID); err != nil {
			return err
		}
		res := tx.G.Model(&ImportJob{}).Scopes(actor.Tenant("customer_id")).Where("id = ? AND status = ?", id, ImportPreview).Updates(values)
		if res.Error != nil {
			return fmt.Errorf("start import: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return &errs.ConflictError{Field: "status", Message: "this import changed meanwhile: reload the page"}
		}
		tx.Audit(store.Audit{Action: "import.start", ObjectType: "import", ObjectID: id, CustomerID: job.CustomerID,
			Details: map[string]any{"rows": job.UsableRows(), "file_name": job.FileName}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db.ImportJob(ctx, actor, id)
}

// CancelImport discards a preview: the job stays listed as cancelled, its
// file and bad rows are deleted (audit import.cancel).
func (db *ImportStore) CancelImport(ctx context.Context, actor store.Actor, id string) error {
	return db.closePreview(ctx, actor, id, ImportCancelled, "import.cancel")
}

// EndDryRun closes a dry run's preview: the job stays listed as checked,
// with its counts, not as a cancelled import; its file and bad rows are
// deleted (audit import.dry_run).
func (db *ImportStore) EndDryRun(ctx context.Context, actor store.Actor, id string) error {
	return db.closePreview(ctx, actor, id, ImportChecked, "import.dry_run")
}

func (db *ImportStore) closePreview(ctx context.Context, actor store.Actor, id, status, action string) error {
	job, err := db.ImportJob(ctx, actor, id)
	if err != nil {
		return err
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		res := tx.G.Model(&ImportJob{}).Scopes(actor.Tenant("customer_id")).Where("id = ? AND status = ?", id, ImportPreview).
			Updates(map[string]any{"status": status, "finished_at": store.Now()})
		if res.Error != nil {
			return fmt.Errorf("cancel import: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return &errs.ConflictError{Field: "status", Message: fmt.Sprintf("this import is %s: only a preview can be discarded", job.Status)}
		}
		if err := tx.G.Where("job_id = ?", id).Delete(&importChunk{}).Error; err != nil {
			return fmt.Errorf("delete file of import: %w", err)
		}
		if err := tx.G.Where("job_id = ?", id).Delete(&ImportProblem{}).Error; err != nil {
			return fmt.Errorf("delete bad rows of import: %w", err)
		}
		tx.Audit(store.Audit{Action: action, ObjectType: "import", ObjectID: id, CustomerID: job.CustomerID,
			Details: map[string]any{"file_name": job.FileName, "rows": job.TotalRows, "bad_rows": job.BadRows}})
		return nil
	})
}

// RetryImport queues a failed job again; it resumes where it stopped
// (audit import.retry).
func (db *ImportStore) RetryImport(ctx context.Context, actor store.Actor, id string) error {
	job, err := db.ImportJob(ctx, actor, id)
	if err != nil {
		return err
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		res := tx.G.Model(&ImportJob{}).Scopes(actor.Tenant("customer_id")).Where("id = ? AND status = ?", id, ImportFailed).
			Updates(map[string]any{"status": ImportQueued, "error": "", "finished_at": nil, "claimed_by": ""})
		if res.Error != nil {
			return fmt.Errorf("retry import: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return &errs.ConflictError{Field: "status", Message: fmt.Sprintf("this import is %s: only a failed import can be retried", job.Status)}
		}
		tx.Audit(store.Audit{Action: "import.retry", ObjectType: "import", ObjectID: id, CustomerID: job.CustomerID,
			Details: map[string]any{"processed_rows": job.ProcessedRows}})
		return nil
	})
}

// ClaimImport gives claimant the oldest queued job, or a running one whose
// runner has not sent a heartbeat since staleBefore (it is presumed dead;
// the job resumes from its last committed batch). It returns nil when no
// job waits. On PostgreSQL concurrent runners skip each other's rows
// (FOR UPDATE SKIP LOCKED); SQLite has one writer, and the update is
// guarded by the status it read.
func (db *ImportStore) ClaimImport(ctx context.Context, actor store.Actor, claimant string, staleBefore time.Time) (*ImportJob, error) {
	now := store.Now()
	claimable := "(status = ? OR (status = ? AND heartbeat_at < ?))"
	values := map[string]any{"status": ImportRunning, "claimed_by": claimant, "heartbeat_at": now,
		"started_at": gorm.Expr("COALESCE(started_at, ?)", now)}
	for attempt := 0; attempt < 5; attempt++ {
		g := db.Gorm.WithContext(ctx)
		pick := g.Model(&ImportJob{}).Scopes(actor.Tenant("customer_id")).Select("id").
			Where(claimable, ImportQueued, ImportRunning, staleBefore).Order("created_at, id").Limit(1)
		var ids []string
		if db.Dialect == store.Postgres {
			err := g.Raw(`UPDATE import_jobs SET status = ?, claimed_by = ?, heartbeat_at = ?, started_at = COALESCE(started_at, ?)
				WHERE id = (?) RETURNING id`, ImportRunning, claimant, now, now,
				pick.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})).Scan(&ids).Error
			if err != nil {
				return nil, fmt.Errorf("claim an import: %w", err)
			}
			if len(ids) == 0 {
				return nil, nil
			}
			return db.ImportJob(ctx, actor, ids[0])
		}
		if err := pick.Pluck("id", &ids).Error; err != nil {
			return nil, fmt.Errorf("find a queued import: %w", err)
		}
		if len(ids) == 0 {
			return nil, nil
		}
		res := g.Model(&ImportJob{}).Where("id = ? AND "+claimable, ids[0], ImportQueued, ImportRunning, staleBefore).Updates(values)
		if res.Error != nil {
			return nil, fmt.Errorf("claim an import: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			return db.ImportJob(ctx, actor, ids[0])
		}
		// Another runner took it between our read and our update.
	}
	return nil, nil
}

// ImportHeartbeat tells other runners that claimant still holds the job.
func (db *ImportStore) ImportHeartbeat(ctx context.Context, job *ImportJob, claimant string) error {
	res := db.Gorm.WithContext(ctx).Model(&ImportJob{}).Scopes(job.uploader().Tenant("customer_id")).
		Where("id = ? AND status = ? AND claimed_by = ?", job.ID, ImportRunning, claimant).Update("heartbeat_at", store.Now())
	if res.Error != nil {
		return fmt.Errorf("heartbeat of import %s: %w", job.ID, res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrImportClaimLost
	}
	return nil
}

// ReleaseImport puts a job claimant holds back in the queue (a runner
// shutting down); the next runner resumes it.
func (db *ImportStore) ReleaseImport(ctx context.Context, job *ImportJob, claimant string) error {
	res := db.Gorm.WithContext(ctx).Model(&ImportJob{}).Scopes(job.uploader().Tenant("customer_id")).
		Where("id = ? AND status = ? AND claimed_by = ?", job.ID, ImportRunning, claimant).
		Updates(map[string]any{"status": ImportQueued, "claimed_by": ""})
	if res.Error != nil {
		return fmt.Errorf("release import %s: %w", job.ID, res.Error)
	}
	return nil
}

// SweepImports deletes uploads abandoned before staleBefore (a server
// that stopped while storing or checking a file) and returns how many.
func (db *ImportStore) SweepImports(ctx context.Context, actor store.Actor, staleBefore time.Time) (int, error) {
	var ids []string
	if err := db.Gorm.WithContext(ctx).Model(&ImportJob{}).Scopes(actor.Tenant("customer_id")).
		Where("status = ? AND heartbeat_at < ?", ImportUploading, staleBefore).Limit(100).Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("find abandoned uploads: %w", err)
	}
	for _, id := range ids {
		if err := db.dropImport(ctx, actor, id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// ImportBatch is a run of consecutive data rows: the good ones to apply,
// how many rows were read (good and bad), and where the batch starts and
// ends in the file.
type ImportBatch struct {
	Rows     []ImportRow
	Consumed int64
	From, To ImportCursor
}

// ApplyImportBatch applies one batch of a job claimant holds, in one
// transaction that also advances the job's counters and position and
// writes the import.batch audit entry: a batch is applied entirely or not
// at all. If another runner took the job over, or the job is not where
// this runner last left it, it writes nothing and returns ErrImportClaimLost. On
// success job holds the new counters.
func (db *ImportStore) ApplyImportBatch(ctx context.Context, job *ImportJob, claimant string, b ImportBatch) error {
	var applied, unchanged, created int64
	err := db.Tx(ctx, job.uploader(), func(tx *store.Tx) error {
		now := store.Now()
		res := tx.G.Model(&ImportJob{}).Scopes(tx.Actor.Tenant("customer_id")).
			Where("id = ? AND status = ? AND claimed_by = ? AND resume_offset = ?", job.ID, ImportRunning, claimant, job.ResumeOffset).
			Update("heartbeat_at", now)
		if res.Error != nil {
			return fmt.Errorf("lock import %s: %w", job.ID, res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrImportClaimLost
		}
		if err := customers.RequireCustomer(tx, job.CustomerID); err != nil {
			return err
		}
		var err error
		switch job.Kind {
		case ImportContacts:
			applied, unchanged, created, err = importContactRows(tx, job, b.Rows)
		case ImportOptIns:
			applied, unchanged, created, err = importOptInRows(tx, job, b.Rows)
		default:
			applied, unchanged, created, err = importOptOutRows(tx, job, b.Rows)
		}
		if err != nil {
			return err
		}
		err = tx.G.Model(&ImportJob{}).Where("customer_id = ? AND id = ?", job.CustomerID, job.ID).Updates(map[string]any{
			"processed_rows":   gorm.Expr("processed_rows + ?", b.Consumed),
			"applied":          gorm.Expr("applied + ?", applied),
			"unchanged":        gorm.Expr("unchanged + ?", unchanged),
			"contacts_created": gorm.Expr("contacts_created + ?", created),
			"resume_offset":    b.To.Offset,
			"resume_line":      b.To.Line,
		}).Error
		if err != nil {
			return fmt.Errorf("advance import %s: %w", job.ID, err)
		}
		tx.Audit(store.Audit{Action: "import.batch", ObjectType: "import", ObjectID: job.ID, CustomerID: job.CustomerID,
			Details: map[string]any{"from_line": b.From.Line + 1, "to_line": b.To.Line, "rows": b.Consumed,
				"applied": applied, "unchanged": unchanged, "contacts_created": created}})
		return nil
	})
	if err != nil {
		return err
	}
	job.ProcessedRows += b.Consumed
	job.Applied += applied
	job.Unchanged += unchanged
	job.ContactsCreated += created
	job.ResumeOffset, job.ResumeLine = b.To.Offset, b.To.Line
	return nil
}

// importOptOutRows records the rows' opt-outs with BulkOptOuts and counts
// rows: applied when the row appended a ledger event, unchanged when it
// was imported before or already in effect.
//
// A row's identifiers are one person. A row with several identifiers, a
// name or a CRM id first gets its contact here (upsertImportContacts):
// unknown identifiers join the contact of the row's first known one, or a
// new contact holding them all, with the row's name and CRM id. Each
// distinct contact of such a row then gets one opt-out, keyed by the first
// of its identifiers in the row, so every event a row appends carries a
// key a re-run recognises. A row with a single bare identifier (most of a
// large opt-out list) goes to BulkOptOuts as it is, which creates its
// contact if needed: the fast path.
func importOptOutRows(t *store.Tx, job *ImportJob, rows []ImportRow) (applied, unchanged, created int64, err error) {
	personal := func(r ImportRow) bool { return len(r.Identifiers) > 1 || r.Name != "" || r.CRMID != "" }
	var keys []string
	for _, r := range rows {
		if personal(r) {
			for i := range r.Identifiers {
				keys = append(keys, job.IdempotencyKey(r.Line, i))
			}
		}
	}
	seen, err := consent.ImportedKeys(t, job.CustomerID, keys)
	if err != nil {
		return 0, 0, 0, err
	}
	// A row with a key in the ledger was imported before: it changes
	// nothing and creates no contact (its contact may since have been
	// erased, and must not come back).
	importedBefore := func(r ImportRow) bool {
		for i := range r.Identifiers {
			if seen[job.IdempotencyKey(r.Line, i)] {
				return true
			}
		}
		return false
	}
	var people []ImportRow
	for _, r := range rows {
		if personal(r) && !importedBefore(r) {
			people = append(people, r)
		}
	}
	up, err := upsertImportContacts(t, job.CustomerID, people, false)
	if err != nil {
		return 0, 0, 0, err
	}
	now := store.Now()
	var bulk []BulkOptOut
	var sent []ImportRow
	for _, r := range rows {
		if personal(r) && importedBefore(r) {
			unchanged++
			continue
		}
		at := r.OccurredAt
		if at.IsZero() {
			at = now
		}
		evidence := fmt.Sprintf("CSV import %s, line %d", job.FileName, r.Line)
		contacts := map[string]bool{}
		for i, id := range r.Identifiers {
			if c, ok := up.owner[id.Value]; ok {
				if contacts[c] {
					continue
				}
				contacts[c] = true
			}
			bulk = append(bulk, BulkOptOut{Identifier: id, Channel: r.Channel, Evidence: evidence, OccurredAt: at,
				IdempotencyKey: job.IdempotencyKey(r.Line, i)})
		}
		sent = append(sent, r)
	}
	res, err := BulkOptOuts(t, job.CustomerID, "csv_import", bulk)
	if err != nil {
		return 0, 0, 0, err
	}
	created = int64(up.created + res.ContactsCreated)
	if len(bulk) == len(sent) {
		// One opt-out per row: BulkOptOuts counted rows.
		return applied + int64(res.Applied), unchanged + int64(res.Unchanged), created, nil
	}
	// Some row's identifiers belong to several contacts: ask the ledger
	// which rows appended an event.
	var sentKeys []string
	for _, b := range bulk {
		sentKeys = append(sentKeys, b.IdempotencyKey)
	}
	recorded, err := consent.ImportedKeys(t, job.CustomerID, sentKeys)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, r := range sent {
		hit := false
		for i := range r.Identifiers {
			hit = hit || recorded[job.IdempotencyKey(r.Line, i)]
		}
		if hit {
			applied++
		} else {
			unchanged++
		}
	}
	return applied, unchanged, created, nil
}

// importContactRows creates and completes contacts; a row counts as
// applied when it created a contact or added an identifier, a name or a
// CRM id.
func importContactRows(t *store.Tx, job *ImportJob, rows []ImportRow) (applied, unchanged, created int64, err error) {
	up, err := upsertImportContacts(t, job.CustomerID, rows, true)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, changed := range up.changed {
		if changed {
			applied++
		} else {
			unchanged++
		}
	}
	return applied, unchanged, int64(up.created), nil
}

// FinishImport marks a job claimant holds done, deletes its stored file
// and writes import.complete with the final counts.
func (db *ImportStore) FinishImport(ctx context.Context, job *ImportJob, claimant string) error {
	return db.Tx(ctx, job.uploader(), func(tx *store.Tx) error {
		now := store.Now()
		res := tx.G.Model(&ImportJob{}).Scopes(tx.Actor.Tenant("customer_id")).Where("id = ? AND status = ? AND claimed_by = ?", job.ID, ImportRunning, claimant).
			Updates(map[string]any{"status": ImportDone, "finished_at": now, "claimed_by": ""})
		if res.Error != nil {
			return fmt.Errorf("finish import %s: %w", job.ID, res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrImportClaimLost
		}
		if err := tx.G.Where("job_id = ?", job.ID).Delete(&importChunk{}).Error; err != nil {
			return fmt.Errorf("delete file of import %s: %w", job.ID, err)
		}
		job.Status, job.FinishedAt = ImportDone, &now
		tx.Audit(store.Audit{Action: "import.complete", ObjectType: "import", ObjectID: job.ID, CustomerID: job.CustomerID,
			Details: map[string]any{"rows": job.TotalRows, "processed_rows": job.ProcessedRows, "applied": job.Applied,
				"unchanged": job.Unchanged, "bad_rows": job.BadRows, "contacts_created": job.ContactsCreated}})
		return nil
	})
}

// FailImport marks a job claimant holds failed with a message for people
// (import.fail); the file is kept so the job can be retried.
func (db *ImportStore) FailImport(ctx context.Context, job *ImportJob, claimant, message string) error {
	message = clip(cleanText(message), 1000)
	return db.Tx(ctx, job.uploader(), func(tx *store.Tx) error {
		now := store.Now()
		res := tx.G.Model(&ImportJob{}).Scopes(tx.Actor.Tenant("customer_id")).Where("id = ? AND status = ? AND claimed_by = ?", job.ID, ImportRunning, claimant).
			Updates(map[string]any{"status": ImportFailed, "finished_at": now, "claimed_by": "", "error": message})
		if res.Error != nil {
			return fmt.Errorf("fail import %s: %w", job.ID, res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrImportClaimLost
		}
		job.Status, job.FinishedAt, job.Error = ImportFailed, &now, message
		tx.Audit(store.Audit{Action: "import.fail", ObjectType: "import", ObjectID: job.ID, CustomerID: job.CustomerID,
			Details: map[string]any{"error": message, "processed_rows": job.ProcessedRows}})
		return nil
	})
}

// ExportFilter chooses what a CSV export holds: one customer's contacts,
// or only its suppressed ones (the suppression list).
type ExportFilter struct {
	CustomerID     string
	SuppressedOnly bool
}

// ExportColumns is the header row of an export. The console's own import
// reads it back: identifier and channel are detected, console_contact_id
// is not taken for a CRM id, and opted_out_at keeps each opt-out's time.
var ExportColumns = []string{"identifier", "kind", "channel", "console_contact_id", "name", "crm_id", "suppressed", "consent",
	"reason", "opted_out_at"}

// Export consent values: three, never "not suppressed" as consent.
const (
	ExportOptedOut = "opted_out"
	ExportOptedIn  = "opted_in"
	ExportNoRecord = "no_record"
)

// ExportRow is one identifier of a contact on one channel, with the
// contact's state there.
type ExportRow struct {
	Identifier string
	Kind       string
	Channel    string
	ContactID  string
	Name       string
	CRMID      string
	Consent    string // ExportOptedOut, ExportOptedIn or ExportNoRecord
	Reason     string
	Since      *time.Time // when the opt-out began (opted out only)
}

// Record is the row as CSV cells. Free text that a spreadsheet would run
// as a formula (=, +, -, @ first) is prefixed with an apostrophe. A phone
// number is written as a tel: URI (RFC 3966): a spreadsheet keeps it as
// text (not a number losing its + and leading digits, nor a formula), and
// the import reads it back as the same number.
func (r ExportRow) Record() []string {
	since := ""
	if r.Since != nil {
		since = r.Since.UTC().Format(time.RFC3339)
	}
	return []string{SpreadsheetIdentifier(r.Kind, r.Identifier), r.Kind, r.Channel, r.ContactID, SpreadsheetSafe(r.Name),
		SpreadsheetSafe(r.CRMID), strconv.FormatBool(r.Consent == ExportOptedOut), r.Consent, r.Reason, since}
}

// SpreadsheetIdentifier writes an identifier so a spreadsheet keeps it as
// text and NormalizeIdentifier reads it back unchanged: phones as tel:
// URIs, and the rare email a spreadsheet would run as a formula as a
// mailto: URI (an apostrophe would become part of the address).
func SpreadsheetIdentifier(kind, value string) string {
	switch {
	case kind == store.KindPhone:
		return "tel:" + value
	case value != SpreadsheetSafe(value):
		return "mailto:" + value
	}
	return value
}

// SpreadsheetSafe keeps a spreadsheet from running a cell as a formula
// (CSV injection): text starting with =, +, -, @, tab or carriage return
// gets a leading apostrophe.
func SpreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (db *ImportStore) exportQuery(ctx context.Context, actor store.Actor, f ExportFilter) (*gorm.DB, error) {
	if !store.ValidID(f.CustomerID) {
		return nil, errs.Invalid("customer", "choose a customer to export")
	}
	q := db.Gorm.WithContext(ctx).Model(&consent.Contact{}).Scopes(actor.Tenant("customer_id")).Where("customer_id = ?", f.CustomerID)
	if f.SuppressedOnly {
		q = q.Where("suppressed = ?", true)
	}
	return q, nil
}

// CountExport counts the rows an export will have (one per identifier and
// channel; the suppression list only the suppressed channels), for its
// audit entry.
func (db *ImportStore) CountExport(ctx context.Context, actor store.Actor, f ExportFilter) (int64, error) {
	q, err := db.exportQuery(ctx, actor, f)
	if err != nil {
		return 0, err
	}
	var n int64
	if f.SuppressedOnly {
		err = db.Gorm.WithContext(ctx).Table("contact_identifiers i").
			Joins("JOIN consent_states s ON s.customer_id = i.customer_id AND s.contact_id = i.contact_id AND s.suppressed = ?", true).
			Where("i.customer_id = ? AND i.contact_id IN (?)", f.CustomerID, q.Select("id")).Count(&n).Error
	} else {
		err = db.Gorm.WithContext(ctx).Model(&consent.ContactIdentifier{}).
			Where("customer_id = ? AND contact_id IN (?)", f.CustomerID, q.Select("id")).Count(&n).Error
		n *= int64(len(consent.Channels))
	}
	if err != nil {
		return 0, fmt.Errorf("count export: %w", err)
	}
	return n, nil
}

// ExportContacts calls fn with every row of the export, reading contacts
// in keyset pages of 1000 by id: memory holds one page, whatever the
// list's size. It returns the number of rows.
func (db *ImportStore) ExportContacts(ctx context.Context, actor store.Actor, f ExportFilter, fn func(ExportRow) error) (int64, error) {
	const page = 1000
	var rows int64
	after := ""
	for {
		q, err := db.exportQuery(ctx, actor, f)
		if err != nil {
			return rows, err
		}
		if after != "" {
			q = q.Where("id > ?", after)
		}
		var cs []consent.Contact
		if err := q.Order("id").Limit(page).Find(&cs).Error; err != nil {
			return rows, fmt.Errorf("export contacts: %w", err)
		}
		if len(cs) == 0 {
			return rows, nil
		}
		ids := make([]string, len(cs))
		for i, c := range cs {
			ids[i] = c.ID
		}
		var idents []consent.ContactIdentifier
		if err := db.Gorm.WithContext(ctx).Where("customer_id = ? AND contact_id IN ?", f.CustomerID, ids).
			Order("contact_id, kind DESC, value").Find(&idents).Error; err != nil {
			return rows, fmt.Errorf("export identifiers: %w", err)
		}
		var states []consent.ConsentState
		if err := db.Gorm.WithContext(ctx).Where("customer_id = ? AND contact_id IN ?", f.CustomerID, ids).
			Find(&states).Error; err != nil {
			return rows, fmt.Errorf("export consent states: %w", err)
		}
		type stateKey struct{ contact, channel string }
		stateOf := make(map[stateKey]consent.ConsentState, len(states))
		for _, s := range states {
			stateOf[stateKey{s.ContactID, s.Channel}] = s
		}
		byID := make(map[string]*consent.Contact, len(cs))
		for i := range cs {
			byID[cs[i].ID] = &cs[i]
		}
		for _, ci := range idents {
			c := byID[ci.ContactID]
			for _, ch := range consent.Channels {
				r := ExportRow{Identifier: ci.Value, Kind: ci.Kind, Channel: ch, ContactID: c.ID, Name: c.Name, CRMID: c.CRMID, Consent: ExportNoRecord}
				s, ok := stateOf[stateKey{c.ID, ch}]
				switch {
				case ok && s.Suppressed:
					since := s.Since.UTC()
					r.Consent, r.Reason, r.Since = ExportOptedOut, s.Reason, &since
				case ok:
					r.Consent = ExportOptedIn
				}
				if f.SuppressedOnly && r.Consent != ExportOptedOut {
					continue
				}
				if err := fn(r); err != nil {
					return rows, err
				}
				rows++
			}
		}
		if len(cs) < page {
			return rows, nil
		}
		after = cs[len(cs)-1].ID
	}
}
