package casework

import (
	calendar "github.com/sendara/console/models/calendar"
	customers "github.com/sendara/console/models/customers"

	fulfilment "github.com/sendara/console/models/fulfilment"

	outbox "github.com/sendara/console/models/outbox"

	requests "github.com/sendara/console/models/requests"

	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sendara/console/models/auditchain"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// CaseVerification is the verification evidence of one identifier: how it
// was verified, by whom (the actor of the audit entry that verified it)
// and when.
type CaseVerification struct {
	Identifier string     `json:"identifier"`
	Verified   bool       `json:"verified"`
	Method     string     `json:"method,omitempty"`
	Note       string     `json:"note,omitempty"`
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
	By         string     `json:"by,omitempty"`
	AuditSeq   int64      `json:"audit_seq,omitempty"` // the entry in audit.jsonl that records it
}

// CaseMail is one mail of the case, in or out, with its source: as
// received for inbound mail, as queued for outbound mail.
type CaseMail struct {
	Direction string    `json:"direction"` // in, out
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	From      string    `json:"from,omitempty"`
	To        string    `json:"to,omitempty"`
	Subject   string    `json:"subject"`
	MessageID string    `json:"message_id,omitempty"`
	Status    string    `json:"status,omitempty"` // outbound: queued, sent, failed...
	Kind      string    `json:"kind,omitempty"`
	File      string    `json:"file"`
	SHA256    string    `json:"sha256"` // of the file's bytes
	Size      int       `json:"size"`
	Source    []byte    `json:"-"`
}

// CaseAnswer is a controller's answer to its routed task.
type CaseAnswer struct {
	Customer   string        `json:"customer"`
	CustomerID string        `json:"customer_id"`
	Status     string        `json:"status"`
	DueOn      calendar.Date `json:"due_on"`
	RoutedAt   time.Time     `json:"routed_at"`
	AnsweredAt *time.Time    `json:"answered_at,omitempty"`
	AnsweredBy string        `json:"answered_by,omitempty"`
	Decision   string        `json:"decision,omitempty"`
	Reason     string        `json:"reason,omitempty"`
}

// CaseBundleFile is one file of an access bundle.
type CaseBundleFile struct {
	Name   string `json:"name"`
	Size   uint64 `json:"size"`
	SHA256 string `json:"sha256"`
}

// CaseBundle is an access bundle made for the request: its hash and, while
// its data is kept, the manifest of its files.
type CaseBundle struct {
	ID        string           `json:"id"`
	For       string           `json:"for"` // the requester, or the controller's name
	CreatedAt time.Time        `json:"created_at"`
	ExpiresAt time.Time        `json:"expires_at"`
	UsedAt    *time.Time       `json:"downloaded_at,omitempty"`
	Size      int64            `json:"size"`
	SHA256    string           `json:"sha256"`
	Cleared   bool             `json:"cleared"` // the data is gone (expired or erased): no manifest
	Files     []CaseBundleFile `json:"files,omitempty"`
}

// CaseFile is a request's case file.
type CaseFile struct {
	Request      *requests.PrivacyRequest
	Customer     string // the customer named on the request, if any
	Timeline     []store.RequestEvent
	Verification []CaseVerification
	Mail         []CaseMail
	Messages     []CaseMessage // written to the requester from the request, and their answers on the status page
	Answers      []CaseAnswer
	Bundles      []CaseBundle
	Audit        []auditchain.Entry // oldest first, each as `audit export` writes it
	UpToSeq      int64              // the audit head when the case file was made
	MadeAt       time.Time
	MadeBy       string
}

// caseAuditActions: the actions whose entries verify a request.
var caseVerifyActions = []string{"request.verify", "request.verify_skip", "request.verify_identifier"}

// CaseFile assembles the case file of a request for staff and auditors,
// and records that it was taken (action, e.g. request.case_file_export or
// request.case_file_view) in the request's customer's log. A customer user
// gets ErrNotFound.
func (db *CaseworkStore) CaseFile(ctx context.Context, actor store.Actor, id, action string) (*CaseFile, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	r, err := db.Request(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	head, _, err := db.AuditHead(ctx)
	if err != nil {
		return nil, err
	}
	if err := db.Record(ctx, actor, store.Audit{Action: action, ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
		Details: map[string]any{"reference": r.Reference, "up_to_seq": head}}); err != nil {
		return nil, err
	}
	cf := &CaseFile{Request: r, UpToSeq: head, MadeAt: store.Now(), MadeBy: actor.Label}
	g := db.Gorm.WithContext(ctx)
	names, err := customerNames(g)
	if err != nil {
		return nil, err
	}
	cf.Customer = names[store.DerefString(r.CustomerID)]
	if cf.Timeline, err = db.Timeline(ctx, r); err != nil {
		return nil, err
	}
	if cf.Audit, err = caseAuditEntries(g, r, head); err != nil {
		return nil, err
	}
	if cf.Verification, err = caseVerification(g, r, cf.Audit); err != nil {
		return nil, err
	}
	if cf.Mail, err = caseMail(g, r); err != nil {
		return nil, err
	}
	if cf.Messages, err = caseMessages(g, r); err != nil {
		return nil, err
	}
	var tasks []requests.RoutedTask
	if err := g.Where("request_id = ?", r.ID).Order("routed_at, customer_id").Find(&tasks).Error; err != nil {
		return nil, fmt.Errorf("read routed tasks: %w", err)
	}
	for _, t := range tasks {
		cf.Answers = append(cf.Answers, CaseAnswer{Customer: names[t.CustomerID], CustomerID: t.CustomerID, Status: t.Status,
			DueOn: t.DueOn, RoutedAt: t.RoutedAt, AnsweredAt: t.AnsweredAt, AnsweredBy: t.AnsweredBy, Decision: t.Decision, Reason: t.Reason})
	}
	if cf.Bundles, err = caseBundles(g, r, names); err != nil {
		return nil, err
	}
	return cf, nil
}

// CaseMessage is a message staff wrote to the requester from the request,
// or the requester's answer on their status page, with the files it
// carried (names and sizes; the files themselves stay sealed).
type CaseMessage struct {
	At        time.Time         `json:"at"`
	Direction string            `json:"direction"` // "out" to the requester, "in" from them
	Template  string            `json:"template"`
	Subject   string            `json:"subject,omitempty"`
	Body      string            `json:"body"`
	Author    string            `json:"author"`
	OutboxID  string            `json:"outbox_id,omitempty"` // the queued mail (in mail/index.json)
	Files     []CaseMessageFile `json:"files"`
}

// CaseMessageFile names a file of a message.
type CaseMessageFile struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

func caseMessages(g *gorm.DB, r *requests.PrivacyRequest) ([]CaseMessage, error) {
	var ms []fulfilment.RequestMessage
	if err := g.Preload("Files", func(q *gorm.DB) *gorm.DB { return q.Omit("data").Order("created_at, id") }).
		Where("request_id = ?", r.ID).Order("created_at, id").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("read the request's messages: %w", err)
	}
	out := make([]CaseMessage, 0, len(ms))
	for _, m := range ms {
		cm := CaseMessage{At: m.CreatedAt.UTC(), Direction: m.Direction, Template: m.Template, Subject: m.Subject, Body: m.Body,
			Author: m.Author, OutboxID: store.DerefString(m.OutboxID), Files: []CaseMessageFile{}}
		for _, f := range m.Files {
			cm.Files = append(cm.Files, CaseMessageFile{Name: f.FileName, ContentType: f.ContentType, Size: f.Size})
		}
		out = append(out, cm)
	}
	return out, nil
}

func customerNames(g *gorm.DB) (map[string]string, error) {
	var cs []customers.Customer
	if err := g.Select("id", "name").Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("read customers: %w", err)
	}
	m := make(map[string]string, len(cs))
	for _, c := range cs {
		m[c.ID] = c.Name
	}
	return m, nil
}

// caseAuditEntries reads the audit entries about r up to head, oldest
// first: those whose object is the request, and those whose details name
// it (by reference, or by id: a received mail's request_id).
func caseAuditEntries(g *gorm.DB, r *requests.PrivacyRequest, head int64) ([]auditchain.Entry, error) {
	var (
		out   []auditchain.Entry
		after int64
		page  []store.AuditEvent
		at    []byte
	)
	for {
		page = page[:0]
		err := g.Where("seq > ? AND seq <= ?", after, head).
			Where(`(object_id = ? OR details LIKE ? ESCAPE '\' OR details LIKE ? ESCAPE '\')`, r.ID,
				`%"reference":"`+store.EscapeLike(r.Reference)+`"%`, `%"`+store.EscapeLike(r.ID)+`"%`).
			Order("seq").Limit(store.ExportPage).Find(&page).Error
		if err != nil {
			return nil, fmt.Errorf("read the request's audit entries: %w", err)
		}
		for i := range page {
			e := &page[i]
			at = auditchain.AppendCanonicalTime(at[:0], e.OccurredAt)
			out = append(out, auditchain.Entry{Seq: e.Seq, OccurredAt: string(at), ActorType: e.ActorType, ActorID: e.ActorID,
				ActorLabel: e.ActorLabel, IP: e.IP, Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID,
				CustomerID: e.CustomerID, Details: e.Details, PrevHash: e.PrevHash, Hash: e.Hash})
		}
		if len(page) < store.ExportPage {
			return out, nil
		}
		after = page[len(page)-1].Seq
	}
}

// caseVerification tells, per identifier, how, when and by whom it was
// verified. Who is read from the audit entry that verified it: the
// request.verify_identifier naming it, or else the last request-wide
// verification (request.verify, request.verify_skip) at or before it.
func caseVerification(g *gorm.DB, r *requests.PrivacyRequest, audit []auditchain.Entry) ([]CaseVerification, error) {
	ids, err := requests.SubjectIdentifiers(g, r)
	if err != nil {
		return nil, err
	}
	type verifyEntry struct {
		seq        int64
		at         time.Time
		by, action string
		identifier string
	}
	var entries []verifyEntry
	for _, e := range audit {
		if e.ObjectID != r.ID || !slices.Contains(caseVerifyActions, e.Action) {
			continue
		}
		at, _ := time.Parse(time.RFC3339Nano, e.OccurredAt)
		var d struct {
			Identifier string `json:"identifier"`
		}
		_ = json.Unmarshal([]byte(e.Details), &d)
		entries = append(entries, verifyEntry{seq: e.Seq, at: at, by: e.ActorLabel, action: e.Action, identifier: d.Identifier})
	}
	out := make([]CaseVerification, 0, len(ids))
	for _, id := range ids {
		v := CaseVerification{Identifier: id.Value, Verified: id.VerifiedAt != nil, Method: id.VerificationMethod,
			Note: id.VerificationNote, VerifiedAt: id.VerifiedAt}
		if id.VerifiedAt != nil {
			var best *verifyEntry
			for i := range entries {
				e := &entries[i]
				if e.action == "request.verify_identifier" {
					if e.identifier == id.Value {
						best = e
						break
					}
					continue
				}
				// The entry is stamped in the same transaction, a moment
				// after the identifier.
				if !e.at.After(id.VerifiedAt.Add(time.Minute)) && (best == nil || e.seq > best.seq) {
					best = e
				}
			}
			if best != nil {
				v.By, v.AuditSeq = best.by, best.seq
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// caseMail lists the request's mail, received and queued, oldest first,
// each with its source.
func caseMail(g *gorm.DB, r *requests.PrivacyRequest) ([]CaseMail, error) {
	var in []outbox.InboundMail
	if err := g.Where("request_id = ?", r.ID).Order("received_at, id").Find(&in).Error; err != nil {
		return nil, fmt.Errorf("read received mail: %w", err)
	}
	var out []outbox.OutboxMail
	if err := g.Where("request_id = ?", r.ID).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("read sent mail: %w", err)
	}
	var ms []CaseMail
	for _, m := range in {
		ms = append(ms, CaseMail{Direction: "in", ID: m.ID, At: m.ReceivedAt, From: m.FromAddr, Subject: m.Subject,
			MessageID: m.MessageID, Source: m.Raw})
	}
	for _, m := range out {
		at := m.CreatedAt
		if m.SentAt != nil {
			at = *m.SentAt
		}
		ms = append(ms, CaseMail{Direction: "out", ID: m.ID, At: at, To: m.ToAddr, Subject: m.Subject, MessageID: m.MessageID,
			Status: m.Status, Kind: m.Kind, Source: outboundSource(&m, at)})
	}
	slices.SortStableFunc(ms, func(a, b CaseMail) int { return a.At.Compare(b.At) })
	for i := range ms {
		m := &ms[i]
		sum := sha256.Sum256(m.Source)
		m.SHA256, m.Size = hex.EncodeToString(sum[:]), len(m.Source)
		m.File = fmt.Sprintf("mail/%03d-%s-%s.eml", i+1, m.Direction, m.ID)
	}
	return ms, nil
}

// outboundSource writes a queued mail as an RFC 5322 message: the
// recipient, subject, Message-ID and text as the outbox holds them (the
// sender adds From and the transport headers when it sends).
func outboundSource(m *outbox.OutboxMail, at time.Time) []byte {
	var b bytes.Buffer
	header := func(k, v string) {
		if v != "" {
			v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	header("Date", at.UTC().Format(time.RFC1123Z))
	header("To", m.ToAddr)
	header("Subject", m.Subject)
	if m.MessageID != "" {
		header("Message-ID", "<"+m.MessageID+">")
	}
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "8bit")
	header("X-Console-Outbox-Status", m.Status)
	b.WriteString("\r\n")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(m.BodyText, "\r\n", "\n"), "\n", "\r\n"))
	return b.Bytes()
}

// caseBundles lists the access bundles made for r with their hashes, and
// the manifest of each bundle whose data is still kept.
func caseBundles(g *gorm.DB, r *requests.PrivacyRequest, names map[string]string) ([]CaseBundle, error) {
	var exps []fulfilment.RequestExport
	if err := g.Where("request_id = ?", r.ID).Order("created_at, id").Find(&exps).Error; err != nil {
		return nil, fmt.Errorf("read access bundles: %w", err)
	}
	var out []CaseBundle
	for _, e := range exps {
		b := CaseBundle{ID: e.ID, For: "the requester", CreatedAt: e.CreatedAt, ExpiresAt: e.ExpiresAt, UsedAt: e.UsedAt,
			Size: e.Size, SHA256: e.SHA256, Cleared: e.Data == nil}
		if e.CustomerID != nil {
			b.For = names[*e.CustomerID]
		}
		if e.Data != nil {
			files, err := bundleManifest(e.Data)
			if err != nil {
				return nil, fmt.Errorf("bundle %s: %w", e.ID, err)
			}
			b.Files = files
		}
		out = append(out, b)
	}
	return out, nil
}

func bundleManifest(data []byte) ([]CaseBundleFile, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("open the bundle: %w", err)
	}
	var files []CaseBundleFile
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", f.Name, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Name, err)
		}
		files = append(files, CaseBundleFile{Name: f.Name, Size: uint64(n), SHA256: hex.EncodeToString(h.Sum(nil))})
	}
	return files, nil
}

// WriteZip writes the case file as a zip to w.
func (cf *CaseFile) WriteZip(w io.Writer, loc *time.Location) error {
	zw := zip.NewWriter(w)
	put := func(name string, data []byte) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: cf.MadeAt})
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		return err
	}
	putJSON := func(name string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		return put(name, append(b, '\n'))
	}
	if err := put("README.txt", []byte(cf.Readme(loc))); err != nil {
		return err
	}
	if err := putJSON("request.json", cf.requestJSON()); err != nil {
		return err
	}
	type event struct {
		At    time.Time `json:"at"`
		Actor string    `json:"actor"`
		Kind  string    `json:"kind"`
		Text  string    `json:"text"`
	}
	tl := make([]event, 0, len(cf.Timeline))
	for _, e := range cf.Timeline {
		tl = append(tl, event{At: e.At.UTC(), Actor: e.ActorLabel, Kind: e.Kind, Text: e.Text})
	}
	if err := putJSON("timeline.json", tl); err != nil {
		return err
	}
	if err := putJSON("verification.json", cf.Verification); err != nil {
		return err
	}
	if err := putJSON("mail/index.json", orEmpty(cf.Mail)); err != nil {
		return err
	}
	for _, m := range cf.Mail {
		if err := put(m.File, m.Source); err != nil {
			return err
		}
	}
	if err := putJSON("messages.json", orEmpty(cf.Messages)); err != nil {
		return err
	}
	if err := putJSON("controllers.json", orEmpty(cf.Answers)); err != nil {
		return err
	}
	if err := putJSON("bundles.json", orEmpty(cf.Bundles)); err != nil {
		return err
	}
	var audit bytes.Buffer
	for i := range cf.Audit {
		if err := cf.Audit[i].WriteLine(&audit); err != nil {
			return err
		}
	}
	if err := put("audit.jsonl", audit.Bytes()); err != nil {
		return err
	}
	return zw.Close()
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (cf *CaseFile) requestJSON() map[string]any {
	r := cf.Request
	return map[string]any{"id": r.ID, "reference": r.Reference, "type": r.Type, "suggested_type": r.SuggestedType,
		"regime": r.Regime, "channel": r.Channel, "status": r.Status, "customer": cf.Customer,
		"requester": map[string]string{"name": r.RequesterName, "email": r.RequesterEmail, "phone": r.RequesterPhone,
			"relationship": r.Relationship, "proof": r.Proof},
		"subject_identifiers": r.Identifiers(), "details": r.Details, "received_at": r.ReceivedAt.UTC(),
		"verified_at": r.VerifiedAt, "verification_method": r.VerificationMethod, "verification_note": r.VerificationNote,
		"ack_due_on": r.AckDueOn, "due_on": r.DueOn, "extended_to": r.ExtendedTo, "extension_reason": r.ExtensionReason,
		"extension_notice_at": r.ExtensionNoticeAt, "completed_at": r.CompletedAt, "outcome": r.Outcome,
		"denial_reason": r.DenialReason, "case_file_made_at": cf.MadeAt.UTC(), "case_file_made_by": cf.MadeBy,
		"audit_up_to_seq": cf.UpToSeq}
}

// Readme explains each file of the case file and how to check it.
func (cf *CaseFile) Readme(loc *time.Location) string {
	r := cf.Request
	var b strings.Builder
	fmt.Fprintf(&b, "Case file of privacy request %s\n", r.Reference)
	fmt.Fprintf(&b, "Made %s by %s; audit log read up to entry %d.\n\n", cf.MadeAt.In(loc).Format("2006-01-02 15:04:05 MST"), cf.MadeBy, cf.UpToSeq)
	b.WriteString(`Files
  request.json       the request as recorded: type, regime, channel, requester, subject identifiers,
                     received, verified, due dates, extension, completion, outcome, denial reason.
  timeline.json      the request's timeline, oldest first (times in UTC): notes, status changes,
                     mails, routing, exports, erasures.
  verification.json  per subject identifier: verified or not, the method, the note of what was
                     checked, when, and by whom ("by" is the actor of the audit entry "audit_seq"
                     in audit.jsonl that recorded it).
  mail/index.json    every mail of the request, in ("in": as received, the exact bytes) and out
                     ("out": as queued in the outbox; the sender adds From and transport headers),
                     with the file holding its source and the SHA-256 of that file.
  mail/NNN-in-ID.eml, mail/NNN-out-ID.eml   the sources.
  messages.json      what staff wrote to the requester from the request (template, text, author, the
                     outbox mail that carried it, the names and sizes of its files) and the
                     requester's answers on their status page, oldest first (times in UTC).
  controllers.json   each controller (customer) the request was routed to: when, due, its decision,
                     reason or instructions, who answered and when.
  bundles.json       each access bundle made: for whom, when, size and SHA-256 of the zip sent, when
                     its link was followed, and, while the bundle is still kept, the name, size and
                     SHA-256 of each file in it.
  audit.jsonl        the audit log's entries about this request (its own events and those naming it),
                     oldest first, one JSON object per line in the form of "console audit export",
                     each with prev_hash and hash.

How to verify
  The audit entries are a filtered export of the hash chain:
      console audit verify --file audit.jsonl --filtered
  (or docs/verify_audit.py) checks every entry matches its hash and that neighbouring entries link.
  Compare a hash with a full export or a signed checkpoint to prove the entry is in the chain.
  A mail's source: sha256sum mail/FILE.eml equals its "sha256" in mail/index.json; the
  "mail.receive" audit entry of a received mail names its Message-ID and size.
  A bundle: the SHA-256 of the zip the requester received equals its "sha256" in bundles.json, which
  the "request.export" audit entry also carries.
`)
	return b.String()
}
