package outbox

import (
	errs "github.com/sendara/console/models/errs"

	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/google/uuid"
	"github.com/sendara/console/models/identifiers"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Mail kinds: what a mail is for. Each has a template.
const (
	MailAcknowledgement = "acknowledgement" // to the requester: request received, reference, due date
	MailVerification    = "verification"    // to the requester: confirm it is you ({{.Link}})
	MailRouting         = "routing"         // to a controller's admins: a request about your contact
	MailExtension       = "extension"       // to the requester: more time, with reasons and the new date
	MailCompletion      = "completion"      // to the requester: done
	MailDenial          = "denial"          // to the requester: refused, why, right to complain
	MailOther           = "other"           // free text
	// Lifecycle registers (issue 13)
	MailIncidentNotice  = "incident_notice"  // to a customer's admins: a breach affects your data
	MailProcessorChange = "processor_change" // to a customer's admins: a new sub-processor or policy version
	MailNoSale          = "no_sale"          // to the requester of a CCPA opt-out of sale: Sendara sells no personal information
)

// MailKinds lists every kind, in the order the template page shows them.
var MailKinds = []string{MailAcknowledgement, MailVerification, MailRouting, MailExtension, MailCompletion, MailDenial, MailOther,
	MailIncidentNotice, MailProcessorChange, MailNoSale}

// Outbox statuses.
const (
	// MailQueued waits for its next attempt (next_attempt_at), first or retry.
	MailQueued = "queued"
	// MailSent was accepted by the SMTP server.
	MailSent = "sent"
	// MailFailed was given up: refused outright by the server, or still
	// failing after the last attempt. It stays in the outbox; RequeueMail
	// tries again.
	MailFailed = "failed"
	// MailHeld was not sent because no SMTP server is configured
	// (CONSOLE_SMTP_URL is empty): it is shown in the outbox only, and
	// RequeueMail sends it once a server is configured.
	MailHeld = "held"
)

// OutboxMail is one message in the outbox.
type OutboxMail struct {
	ID            string `gorm:"primaryKey"`
	CustomerID    *string
	RequestID     *string
	Kind          string
	ToAddr        string
	Subject       string
	BodyText      string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	SentAt        *time.Time
	CreatedAt     time.Time
	// MessageID is the Message-ID header without angle brackets, recorded
	// before the first attempt and kept for every later one, so a mail
	// sent twice (see StartMailAttempt) carries one Message-ID; a reply's
	// In-Reply-To names it.
	MessageID string
	// LastAttemptAt is when the latest attempt began; an attempt with no
	// recorded outcome after it may have reached the server.
	LastAttemptAt *time.Time
	// MarkedSentBy is who marked the mail sent by hand (MarkMailSentByHand);
	// "" when the sender handed it to the SMTP server.
	MarkedSentBy string
}

// TableName is the outbox table.
func (OutboxMail) TableName() string { return "outbox" }

// OutboundMail is a mail to queue. Give Subject and Body, or leave both
// empty to render the template of Kind with Data (a MailData).
type OutboundMail struct {
	// ID is optional: set it (a UUID) to know the outbox row's id, for
	// instance to put it on a request's timeline.
	ID         string
	CustomerID string // the tenant the mail concerns, if any
	RequestID  string // the privacy request it belongs to, if any
	Kind       string
	To         string // one address; a display name is dropped
	Subject    string
	Body       string
	Data       any
}

// Limits of a queued mail.
const (
	maxSubjectLen = 900 // RFC 5322 lines are at most 998 characters
	maxBodyLen    = 1 << 20
)

// QueueMail puts a mail in the outbox inside tx, the transaction of the
// change it reports, with an audit entry mail.queue. If the transaction
// rolls back, the mail is never sent.
//
// Inside a transaction, call this rather than RenderTemplate: on SQLite the
// transaction holds the only connection, so a query outside it would wait
// forever.
func (db *OutboxStore) QueueMail(tx *store.Tx, m OutboundMail) error { return QueueMail(tx, m) }

// QueueMail puts a mail in the outbox inside this transaction (see
// DB.QueueMail).
func QueueMail(tx *store.Tx, m OutboundMail) error {
	if !slices.Contains(MailKinds, m.Kind) {
		return errs.Invalid("kind", "must be one of %s", strings.Join(MailKinds, ", "))
	}
	to, err := MailAddress(m.To)
	if err != nil {
		return err
	}
	subject, body := m.Subject, m.Body
	if subject == "" && body == "" {
		if subject, body, err = RenderTemplate(tx.G, m.Kind, m.Data); err != nil {
			return err
		}
	}
	if err := checkMail(subject, body); err != nil {
		return err
	}
	if m.ID == "" {
		m.ID = uuid.Must(uuid.NewV7()).String()
	} else if _, err := uuid.Parse(m.ID); err != nil {
		return errs.Invalid("id", "must be a UUID")
	}
	now := store.Now()
	row := OutboxMail{ID: m.ID, CustomerID: store.NullIfEmpty(m.CustomerID), RequestID: store.NullIfEmpty(m.RequestID), Kind: m.Kind,
		ToAddr: to, Subject: subject, BodyText: body, Status: MailQueued, NextAttemptAt: now, CreatedAt: now}
	if m.Kind == MailAcknowledgement {
		var recent int64
		if err := tx.G.Model(&OutboxMail{}).Where("to_addr = ? AND kind = ? AND created_at > ?", to, MailAcknowledgement, now.Add(-AcknowledgementEvery)).
			Count(&recent).Error; err != nil {
			return fmt.Errorf("count recent acknowledgements: %w", err)
		}
		if recent > 0 {
			row.Status, row.LastError = MailHeld, ackHeldReason
		}
	}
	if err := tx.G.Create(&row).Error; err != nil {
		return fmt.Errorf("queue %s mail: %w", m.Kind, err)
	}
	tx.Audit(store.Audit{Action: "mail.queue", ObjectType: "mail", ObjectID: row.ID, CustomerID: m.CustomerID,
		Details: map[string]any{"kind": m.Kind, "request_id": m.RequestID, "status": row.Status}})
	if row.Status == MailHeld && m.RequestID != "" {
		tx.Event(m.RequestID, "email_out", "Acknowledgement to "+to+" held, not sent: "+ackHeldReason)
	}
	return nil
}

// AcknowledgementEvery is how often one address may be sent an
// acknowledgement. Anyone can send mail under someone else's address, and
// each message opens a request; without this bound a script could make
// the console mail a victim once per message it forges.
const AcknowledgementEvery = time.Hour

const ackHeldReason = "an acknowledgement went to this address less than an hour ago (at most one an hour, so a forged sender is not flooded); " +
	"send it from the outbox, or copy it and mark it sent, once the request is seen to be real"

// MailAddress accepts "jane@example.com" or "Jane <Jane@Example.com>" and
// returns the address in its canonical form.
func MailAddress(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return "", errs.Invalid("to", "%q is not an email address", s)
	}
	addr, err := identifiers.NormalizeEmail(a.Address)
	if err != nil {
		return "", errs.Invalid("to", "%q is not an email address", s)
	}
	return addr, nil
}

func checkMail(subject, body string) error {
	switch {
	case strings.TrimSpace(subject) == "":
		return errs.Invalid("subject", "is required")
	case strings.ContainsAny(subject, "\r\n"):
		return errs.Invalid("subject", "must be one line")
	case len(subject) > maxSubjectLen:
		return errs.Invalid("subject", "must be at most %d characters", maxSubjectLen)
	case strings.TrimSpace(body) == "":
		return errs.Invalid("body", "is required")
	case len(body) > maxBodyLen:
		return errs.Invalid("body", "must be at most %d bytes", maxBodyLen)
	}
	return nil
}

// OutboxFilter narrows the outbox view.
type OutboxFilter struct {
	Status    string // one status, or "" for all
	Kind      string
	RequestID string
	Before    string // keyset: mails older than this id; "" for the newest
	Limit     int
}

// Outbox lists mail newest first, within the actor's tenant: a customer
// user sees the mail about its own tenant only.
func (db *OutboxStore) Outbox(ctx context.Context, actor store.Actor, f OutboxFilter) ([]OutboxMail, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).Order("id DESC").Limit(f.Limit)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	q, ok, err := mailPage(q, f.RequestID, f.Before)
	if !ok || err != nil {
		return nil, err
	}
	var out []OutboxMail
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list the outbox: %w", err)
	}
	return out, nil
}

// OutboxEntry returns one outbox mail within the actor's tenant, or
// ErrNotFound.
func (db *OutboxStore) OutboxEntry(ctx context.Context, actor store.Actor, id string) (*OutboxMail, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, store.ErrNotFound
	}
	var m OutboxMail
	if err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).Where("id = ?", id).Take(&m).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return &m, nil
}

// OutboxByMessageID returns the sent mail one of ids names (a reply's
// In-Reply-To and References), newest first, or ErrNotFound: how a reply
// is threaded to its request when the reference is missing from it.
func (db *OutboxStore) OutboxByMessageID(ctx context.Context, ids ...string) (*OutboxMail, error) {
	ids = slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == "" })
	if len(ids) == 0 {
		return nil, store.ErrNotFound
	}
	var m OutboxMail
	if err := db.Gorm.WithContext(ctx).Where("message_id IN ?", ids).Order("id DESC").Take(&m).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return &m, nil
}

// RequeueMail puts a failed or held mail back in the queue for an attempt
// now, with its attempts counted afresh (mail.requeue).
func (db *OutboxStore) RequeueMail(ctx context.Context, actor store.Actor, id string) error {
	m, err := db.OutboxEntry(ctx, actor, id)
	if err != nil {
		return err
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		res := tx.G.Model(&OutboxMail{}).Where("id = ? AND status IN ?", id, []string{MailFailed, MailHeld}).
			Updates(map[string]any{"status": MailQueued, "attempts": 0, "next_attempt_at": store.Now()})
		if res.Error != nil {
			return fmt.Errorf("requeue mail %s: %w", id, res.Error)
		}
		if res.RowsAffected != 1 {
			return &errs.ConflictError{Field: "status", Message: fmt.Sprintf("this mail is %s: only a failed or held mail can be sent again", m.Status)}
		}
		tx.Audit(store.Audit{Action: "mail.requeue", ObjectType: "mail", ObjectID: id, CustomerID: store.StrOrEmpty(m.CustomerID),
			Details: map[string]any{"kind": m.Kind, "was": m.Status, "last_error": m.LastError}})
		return nil
	})
}

// mailerActor is who the audit log names for sending.
var mailerActor = store.SystemActor("mailer")

// ClaimOutbox takes up to limit queued mails due at now for one attempt:
// it counts the attempt and moves next_attempt_at to now+lease, so no
// other sender takes them meanwhile, and a sender that dies mid-way leaves
// them to be retried after the lease. On PostgreSQL concurrent senders
// skip each other's rows (FOR UPDATE SKIP LOCKED); SQLite has one writer.
func (db *OutboxStore) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxMail, error) {
	now = now.UTC().Truncate(time.Microsecond)
	g := db.Gorm.WithContext(ctx)
	pick := g.Model(&OutboxMail{}).Select("id").Where("status = ? AND next_attempt_at <= ?", MailQueued, now).
		Order("next_attempt_at, id").Limit(limit)
	if db.Dialect == store.Postgres {
		pick = pick.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	var claimed []OutboxMail
	err := g.Raw(`UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?
		WHERE id IN (?) AND status = ? AND next_attempt_at <= ? RETURNING *`, now.Add(lease), pick, MailQueued, now).Scan(&claimed).Error
	if err != nil {
		return nil, fmt.Errorf("claim due mail: %w", err)
	}
	slices.SortFunc(claimed, func(a, b OutboxMail) int { return strings.Compare(a.ID, b.ID) })
	return claimed, nil
}

// ErrMailClaimLost means another sender took the mail over (this one held
// it past its lease); the outcome is not recorded twice.
var ErrMailClaimLost = errors.New("the mail was claimed by another sender")

// claimedMail matches the row as this sender claimed it: still queued and at
// the attempt it counted.
func claimedMail(g *gorm.DB, m *OutboxMail) *gorm.DB {
	return g.Model(&OutboxMail{}).Where("id = ? AND status = ? AND attempts = ?", m.ID, MailQueued, m.Attempts)
}

// StartMailAttempt records, before m is handed to the SMTP server, that
// an attempt begins and the Message-ID it carries: the one recorded by an
// earlier attempt if any, else messageID. It sets m.MessageID to the one
// to send. A sender that dies after the server accepted the mail but
// before MarkMailSent leaves the mail queued; after the lease it is sent
// again under the same Message-ID, which receivers and mail clients use to
// drop the duplicate.
func (db *OutboxStore) StartMailAttempt(ctx context.Context, m *OutboxMail, messageID string, at time.Time) error {
	if m.MessageID != "" {
		messageID = m.MessageID
	}
	at = at.UTC().Truncate(time.Microsecond)
	res := claimedMail(db.Gorm.WithContext(ctx), m).Updates(map[string]any{"message_id": messageID, "last_attempt_at": at})
	if res.Error != nil {
		return fmt.Errorf("record the attempt on mail %s: %w", m.ID, res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrMailClaimLost
	}
	m.MessageID, m.LastAttemptAt = messageID, &at
	return nil
}

// MarkMailSent records that the SMTP server accepted m (mail.send).
func (db *OutboxStore) MarkMailSent(ctx context.Context, m *OutboxMail, messageID string, at time.Time) error {
	return db.Tx(ctx, mailerActor, func(tx *store.Tx) error {
		res := claimedMail(tx.G, m).Updates(map[string]any{"status": MailSent, "sent_at": at.UTC().Truncate(time.Microsecond),
			"message_id": messageID, "last_error": ""})
		if res.Error != nil {
			return fmt.Errorf("mark mail %s sent: %w", m.ID, res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrMailClaimLost
		}
		tx.Audit(store.Audit{Action: "mail.send", ObjectType: "mail", ObjectID: m.ID, CustomerID: store.StrOrEmpty(m.CustomerID),
			Details: map[string]any{"kind": m.Kind, "request_id": store.StrOrEmpty(m.RequestID), "attempts": m.Attempts, "message_id": messageID}})
		return nil
	})
}

// MarkMailRetry records a failed attempt and when to try again.
func (db *OutboxStore) MarkMailRetry(ctx context.Context, m *OutboxMail, next time.Time, lastErr string) error {
	res := claimedMail(db.Gorm.WithContext(ctx), m).Updates(map[string]any{
		"next_attempt_at": next.UTC().Truncate(time.Microsecond), "last_error": truncateMailError(lastErr)})
	if res.Error != nil {
		return fmt.Errorf("schedule a retry of mail %s: %w", m.ID, res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrMailClaimLost
	}
	return nil
}

// MarkMailFailed gives m up (mail.fail); it stays in the outbox.
func (db *OutboxStore) MarkMailFailed(ctx context.Context, m *OutboxMail, lastErr string) error {
	return db.Tx(ctx, mailerActor, func(tx *store.Tx) error {
		res := claimedMail(tx.G, m).Updates(map[string]any{"status": MailFailed, "last_error": truncateMailError(lastErr)})
		if res.Error != nil {
			return fmt.Errorf("mark mail %s failed: %w", m.ID, res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrMailClaimLost
		}
		tx.Audit(store.Audit{Action: "mail.fail", ObjectType: "mail", ObjectID: m.ID, CustomerID: store.StrOrEmpty(m.CustomerID),
			Details: map[string]any{"kind": m.Kind, "request_id": store.StrOrEmpty(m.RequestID), "attempts": m.Attempts, "error": truncateMailError(lastErr)}})
		return nil
	})
}

// HoldQueuedMail marks every queued mail due at now as held, with reason:
// what a console without an SMTP server does with its mail.
func (db *OutboxStore) HoldQueuedMail(ctx context.Context, now time.Time, reason string) (int64, error) {
	res := db.Gorm.WithContext(ctx).Model(&OutboxMail{}).
		Where("status = ? AND next_attempt_at <= ?", MailQueued, now.UTC().Truncate(time.Microsecond)).
		Updates(map[string]any{"status": MailHeld, "last_error": truncateMailError(reason)})
	if res.Error != nil {
		return 0, fmt.Errorf("hold queued mail: %w", res.Error)
	}
	return res.RowsAffected, nil
}

func truncateMailError(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > 1000 {
		s = strings.ToValidUTF8(s[:1000], "") + "..."
	}
	return s
}

// MailTemplate is the editable text of one kind of mail: Go text/template
// with MailData's fields as placeholders.
type MailTemplate struct {
	Kind      string `gorm:"primaryKey"`
	Subject   string
	Body      string
	UpdatedAt time.Time
	UpdatedBy string
}

// TableName is the templates table.
func (MailTemplate) TableName() string { return "mail_templates" }

// MailData is what templates may use: {{.Reference}}, {{.DueOn}}... Dates
// are already written out (YYYY-MM-DD in the business time zone).
type MailData struct {
	Reference     string   // PR-2026-000042
	RequesterName string   // may be empty: templates then greet with "Hello,"
	RequestType   string   // in words: "access to your data"
	ReceivedOn    string   // date received
	DueOn         string   // date the answer is due
	ExtendedTo    string   // new due date after an extension
	Reason        string   // reasons for an extension or a denial
	Business      string   // the customer a routed request goes to
	Businesses    MailList // the customers a request was passed to
	Link          string   // verification link, or the request's page for a customer
	Message       string   // free text written by staff
	AnswerBy      string   // the date a controller must answer Sendara by (routing)
	Outcomes      []string // per business informed: what it decided and what Sendara did
	LinkExpires   string   // when the bundle link in a completion mail stops working
}

// MailList prints as "A", "A and B", "A, B and C"; {{range}} also works.
type MailList []string

func (l MailList) String() string {
	switch len(l) {
	case 0:
		return ""
	case 1:
		return l[0]
	}
	return strings.Join(l[:len(l)-1], ", ") + " and " + l[len(l)-1]
}

// SampleMailData is the data templates are checked and previewed with.
func SampleMailData() MailData {
	return MailData{
		Reference: "PR-2026-000042", RequesterName: "Jane Doe", RequestType: "erasure of your data",
		ReceivedOn: "2026-03-02", DueOn: "2026-04-02", ExtendedTo: "2026-06-02",
		Reason:   "Your request concerns several businesses, and each must check its records.",
		Business: "Bright Smile Dental", Businesses: MailList{"Bright Smile Dental", "Acme Realty"},
		Link: "https://console.example/privacy-request/confirm/abc123", Message: "A note from our privacy team.",
		AnswerBy: "2026-03-18", LinkExpires: "2026-04-09 10:00 PDT",
		Outcomes: []string{"Bright Smile Dental: your data was erased.", "Acme Realty refused your request: it must keep the records of your purchase for seven years."},
	}
}

// MailPlaceholders lists the placeholders templates may use.
func MailPlaceholders() []string {
	t := reflect.TypeFor[MailData]()
	out := make([]string, t.NumField())
	for i := range out {
		out[i] = "{{." + t.Field(i).Name + "}}"
	}
	return out
}

// MailTemplates returns every template in MailKinds order.
func (db *OutboxStore) MailTemplates(ctx context.Context) ([]MailTemplate, error) {
	var ts []MailTemplate
	if err := db.Gorm.WithContext(ctx).Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("list mail templates: %w", err)
	}
	slices.SortFunc(ts, func(a, b MailTemplate) int {
		return slices.Index(MailKinds, a.Kind) - slices.Index(MailKinds, b.Kind)
	})
	return ts, nil
}

// MailTemplateByKind returns the template of kind, or ErrNotFound.
func (db *OutboxStore) MailTemplateByKind(ctx context.Context, kind string) (*MailTemplate, error) {
	var t MailTemplate
	if err := db.Gorm.WithContext(ctx).Where("kind = ?", kind).Take(&t).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return &t, nil
}

// RenderTemplate renders the template of kind with data (a MailData, or
// anything with the fields the template uses). The subject comes out on
// one line. Not for use inside a transaction: see QueueMail.
func (db *OutboxStore) RenderTemplate(ctx context.Context, kind string, data any) (subject, body string, err error) {
	return RenderTemplate(db.Gorm.WithContext(ctx), kind, data)
}

func RenderTemplate(g *gorm.DB, kind string, data any) (string, string, error) {
	var t MailTemplate
	if err := g.Where("kind = ?", kind).Take(&t).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return "", "", errs.Invalid("kind", "has no template: must be one of %s", strings.Join(MailKinds, ", "))
		}
		return "", "", fmt.Errorf("load the %s template: %w", kind, err)
	}
	subject, err := executeMailTemplate(kind+" subject", t.Subject, data)
	if err != nil {
		return "", "", fmt.Errorf("render the %s template's subject: %w", kind, err)
	}
	body, err := executeMailTemplate(kind+" body", t.Body, data)
	if err != nil {
		return "", "", fmt.Errorf("render the %s template's body: %w", kind, err)
	}
	return strings.Join(strings.Fields(subject), " "), tidyMailBody(body), nil
}

func executeMailTemplate(name, text string, data any) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// tidyMailBody normalizes line ends and drops the blank lines a template's
// {{if}}s leave at the end.
func tidyMailBody(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.TrimRight(s, " \t\n") + "\n"
}

var unknownTemplateField = regexp.MustCompile(`can't evaluate field (\w+)`)

// checkMailTemplate parses and renders a template text with sample data and
// returns a ValidationError on field that a person can act on.
func checkMailTemplate(field, kind, text string) error {
	if strings.TrimSpace(text) == "" {
		return errs.Invalid(field, "is required")
	}
	out, err := executeMailTemplate(kind+" "+field, text, SampleMailData())
	if err != nil {
		if m := unknownTemplateField.FindStringSubmatch(err.Error()); m != nil {
			return errs.Invalid(field, "uses {{.%s}}, which is not a placeholder; use one of %s", m[1], strings.Join(MailPlaceholders(), " "))
		}
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "template: ")
		return errs.Invalid(field, "is not a valid template: %s", msg)
	}
	if strings.TrimSpace(out) == "" {
		return errs.Invalid(field, "renders as nothing")
	}
	if field == "subject" && len(strings.Join(strings.Fields(out), " ")) > maxSubjectLen {
		return errs.Invalid(field, "renders longer than %d characters", maxSubjectLen)
	}
	return nil
}

// UpdateTemplate changes the text of kind's template after checking that
// both parts parse and render with sample data; the audit entry
// mail_template.update holds the text before and after. Templates are
// Sendara's: a customer actor gets ErrNotFound.
func (db *OutboxStore) UpdateTemplate(ctx context.Context, actor store.Actor, kind, subject, body string) error {
	if !actor.Staff() {
		return store.ErrNotFound
	}
	subject = strings.TrimSpace(subject)
	body = strings.ReplaceAll(body, "\r\n", "\n")
	if err := checkMailTemplate("subject", kind, subject); err != nil {
		return err
	}
	if err := checkMailTemplate("body", kind, body); err != nil {
		return err
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		q := tx.G
		if db.Dialect == store.Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var before MailTemplate
		if err := q.Where("kind = ?", kind).Take(&before).Error; err != nil {
			return store.NotFound(err)
		}
		if before.Subject == subject && before.Body == body {
			return nil
		}
		if err := tx.G.Model(&MailTemplate{}).Where("kind = ?", kind).Updates(map[string]any{
			"subject": subject, "body": body, "updated_at": store.Now(), "updated_by": actor.Label}).Error; err != nil {
			return fmt.Errorf("update the %s template: %w", kind, err)
		}
		tx.Audit(store.Audit{Action: "mail_template.update", ObjectType: "mail_template", ObjectID: kind,
			Details: map[string]any{
				"before": map[string]string{"subject": before.Subject, "body": before.Body},
				"after":  map[string]string{"subject": subject, "body": body},
			}})
		return nil
	})
}

// InboundMail is a received message kept as evidence.
type InboundMail struct {
	ID         string `gorm:"primaryKey"`
	ReceivedAt time.Time
	MessageID  string
	FromAddr   string
	Subject    string
	Raw        []byte
	RequestID  *string
	CustomerID *string
	// MentionsReference is the reference of a request the message named
	// although its sender is no party of it (it opened a request of its
	// own instead); "" otherwise.
	MentionsReference string
}

// TableName is the received mail table.
func (InboundMail) TableName() string { return "inbound_mail" }

// InboundInput is a received message to store.
type InboundInput struct {
	MessageID  string // without angle brackets
	From       string // the sender's address
	Subject    string
	Raw        []byte // the exact bytes received
	ReceivedAt time.Time
	RequestID  string // the request it opened or belongs to, if known
	CustomerID string
	// MentionsReference: see InboundMail.
	MentionsReference string
}

// ErrDuplicateInbound means the same message (same sender and Message-ID)
// was stored before: an MTA retried after losing our answer, or the
// message was sent to two of our addresses. Roll back and accept it
// (answer 250): nothing is lost and no second request is opened.
var ErrDuplicateInbound = errors.New("this message was received before")

// StoreInbound keeps a received message inside tx (mail.receive) and
// returns it with its id. It fails with ErrDuplicateInbound for a message
// already stored.
func (db *OutboxStore) StoreInbound(tx *store.Tx, in InboundInput) (*InboundMail, error) {
	if len(in.Raw) == 0 {
		return nil, errs.Invalid("raw", "is empty")
	}
	from := strings.ToLower(strings.TrimSpace(in.From))
	if from == "" {
		return nil, errs.Invalid("from", "is required")
	}
	at := in.ReceivedAt
	if at.IsZero() {
		at = store.Now()
	}
	m := &InboundMail{ID: uuid.Must(uuid.NewV7()).String(), ReceivedAt: at.UTC().Truncate(time.Microsecond),
		MessageID: strings.TrimSpace(in.MessageID), FromAddr: from, Subject: in.Subject, Raw: in.Raw,
		RequestID: store.NullIfEmpty(in.RequestID), CustomerID: store.NullIfEmpty(in.CustomerID), MentionsReference: in.MentionsReference}
	// ON CONFLICT DO NOTHING keeps a PostgreSQL transaction usable (a
	// failed insert would abort it) and tells a duplicate by no row.
	res := tx.G.Clauses(clause.OnConflict{
		Columns:     []clause.Column{{Name: "from_addr"}, {Name: "message_id"}},
		TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "message_id <> ''"}}},
		DoNothing:   true,
	}).Create(m)
	if res.Error != nil {
		return nil, fmt.Errorf("store received mail: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrDuplicateInbound
	}
	tx.Audit(store.Audit{Action: "mail.receive", ObjectType: "mail", ObjectID: m.ID, CustomerID: in.CustomerID,
		Details: map[string]any{"message_id": m.MessageID, "bytes": len(in.Raw), "request_id": in.RequestID}})
	return m, nil
}

// LinkInbound attaches a received mail to a request (and its tenant), for
// mail that staff thread by hand (mail.link).
func (db *OutboxStore) LinkInbound(tx *store.Tx, id, requestID, customerID string) error {
	if _, err := uuid.Parse(id); err != nil {
		return store.ErrNotFound
	}
	res := tx.G.Model(&InboundMail{}).Where("id = ?", id).
		Updates(map[string]any{"request_id": store.NullIfEmpty(requestID), "customer_id": store.NullIfEmpty(customerID)})
	if res.Error != nil {
		return fmt.Errorf("link received mail %s: %w", id, res.Error)
	}
	if res.RowsAffected != 1 {
		return store.ErrNotFound
	}
	tx.Audit(store.Audit{Action: "mail.link", ObjectType: "mail", ObjectID: id, CustomerID: customerID,
		Details: map[string]any{"request_id": requestID}})
	return nil
}

// InboundFilter narrows the list of received mail.
type InboundFilter struct {
	RequestID string
	Before    string // keyset: mail older than this id
	Limit     int
}

// mailPage narrows a mail list to one request's mail and to ids below
// before (keyset paging, newest first). ok is false when requestID is no
// request id, so no mail can match.
func mailPage(q *gorm.DB, requestID, before string) (*gorm.DB, bool, error) {
	if requestID != "" {
		if _, err := uuid.Parse(requestID); err != nil {
			return q, false, nil
		}
		q = q.Where("request_id = ?", requestID)
	}
	if before != "" {
		if _, err := uuid.Parse(before); err != nil {
			return q, false, errs.Invalid("before", "is not a mail id")
		}
		q = q.Where("id < ?", before)
	}
	return q, true, nil
}

// InboundMails lists received mail newest first within the actor's tenant,
// without the raw source (see InboundRaw).
func (db *OutboxStore) InboundMails(ctx context.Context, actor store.Actor, f InboundFilter) ([]InboundMail, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).Omit("raw").Order("id DESC").Limit(f.Limit)
	q, ok, err := mailPage(q, f.RequestID, f.Before)
	if !ok || err != nil {
		return nil, err
	}
	var out []InboundMail
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list received mail: %w", err)
	}
	return out, nil
}

// InboundRaw returns the raw source of a received mail within the actor's
// tenant, or ErrNotFound. It discloses personal data: the caller records
// the view.
func (db *OutboxStore) InboundRaw(ctx context.Context, actor store.Actor, id string) ([]byte, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, store.ErrNotFound
	}
	var m InboundMail
	if err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).Select("raw").Where("id = ?", id).Take(&m).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return m.Raw, nil
}
