package fulfilment

import (
	calendar "github.com/sendara/console/models/calendar"
	errs "github.com/sendara/console/models/errs"

	outbox "github.com/sendara/console/models/outbox"

	requests "github.com/sendara/console/models/requests"

	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// MaxMessageFileBytes bounds one attachment; MaxMessageFiles their number.
const (
	MaxMessageFileBytes = 5 << 20
	MaxMessageFiles     = 5
	maxMessageBody      = 20000
)

// messageFileTypes are the attachment types allowed, told by content.
var messageFileTypes = []string{"application/pdf", "image/png", "image/jpeg", "text/plain"}

// Templates staff start a message from. Asking for information is the
// existing ask flow (AskRequester), which also stops the clock.
const (
	MessageFree    = "free_text"
	MessageBundle  = "bundle_link"
	MessageRefusal = "refusal"
	MessageReply   = "requester_reply"
)

// MessageTemplates lists the templates of the write form, in order.
var MessageTemplates = []string{MessageFree, MessageBundle, MessageRefusal}

// MessageTemplateText is the editable starting text of a template.
func MessageTemplateText(template string, r *requests.PrivacyRequest) (subject, body string) {
	ref := r.Reference
	switch template {
	case MessageBundle:
		return "Your data is ready (" + ref + ")", "Your data is ready to download. Open your request's status page (the link below) and use its download button: each download link works once and for a limited time."
	case MessageRefusal:
		return "About your request " + ref, "We cannot act on your request, for this reason:\n\n[the reason]\n\nYou may complain to a data protection authority or seek a judicial remedy."
	}
	return "About your request " + ref, ""
}

// MessageTemplateLabel names a template in words.
func MessageTemplateLabel(t string) string {
	switch t {
	case MessageBundle:
		return "Send the bundle link"
	case MessageRefusal:
		return "Explain a refusal"
	case MessageReply:
		return "Reply from the status page"
	}
	return "Free text"
}

// RequestMessage is a message staff wrote to the requester (Direction
// "out") or the requester's reply from the status page ("in").
type RequestMessage struct {
	ID        string `gorm:"primaryKey"`
	RequestID string
	Direction string
	Template  string
	Subject   string
	Body      string
	Author    string
	OutboxID  *string
	CreatedAt time.Time
	Files     []RequestMessageFile `gorm:"foreignKey:MessageID"`
}

// TableName keeps the table's name.
func (RequestMessage) TableName() string { return "request_messages" }

// RequestMessageFile is an attachment, its content sealed.
type RequestMessageFile struct {
	ID          string `gorm:"primaryKey"`
	MessageID   string
	RequestID   string
	FileName    string
	ContentType string
	Size        int64
	Data        string `json:"-"`
	CreatedAt   time.Time
}

// TableName keeps the table's name.
func (RequestMessageFile) TableName() string { return "request_message_files" }

func messageFileLabel(id string) string { return "request_message_files.data:" + id }

// MessageFile is an uploaded attachment before it is stored.
type MessageFile struct {
	Name string
	Data []byte
}

// UseStatusLinks sets how a status token becomes the URL put in every
// mail to a requester.
func (db *FulfilmentStore) UseStatusLinks(linkFor func(token string) string) { db.StatusLink = linkFor }

func checkMessageFiles(files []MessageFile) ([]string, error) {
	if len(files) > MaxMessageFiles {
		return nil, errs.Invalid("files", "attach at most %d files", MaxMessageFiles)
	}
	types := make([]string, len(files))
	for i, f := range files {
		if len(f.Data) == 0 {
			return nil, errs.Invalid("files", "%s is empty", requests.CleanFileName(f.Name))
		}
		if len(f.Data) > MaxMessageFileBytes {
			return nil, errs.Invalid("files", "%s is larger than %d MiB", requests.CleanFileName(f.Name), MaxMessageFileBytes>>20)
		}
		ctype := http.DetectContentType(f.Data)
		if i := strings.IndexByte(ctype, ';'); i >= 0 {
			ctype = ctype[:i]
		}
		if !slices.Contains(messageFileTypes, ctype) {
			return nil, errs.Invalid("files", "%s: attachments must be PDF, PNG, JPEG or plain text; this file's content is %s", requests.CleanFileName(f.Name), ctype)
		}
		types[i] = ctype
	}
	return types, nil
}

func storeMessage(t *store.Tx, m *RequestMessage, files []MessageFile, types []string) error {
	if err := t.G.Omit("Files").Create(m).Error; err != nil {
		return fmt.Errorf("store message: %w", err)
	}
	for i, f := range files {
		id := uuid.Must(uuid.NewV7()).String()
		sealed, err := t.Keys.Seal(messageFileLabel(id), string(f.Data))
		if err != nil {
			return err
		}
		row := RequestMessageFile{ID: id, MessageID: m.ID, RequestID: m.RequestID, FileName: requests.CleanFileName(f.Name),
			ContentType: types[i], Size: int64(len(f.Data)), Data: sealed, CreatedAt: m.CreatedAt}
		if err := t.G.Create(&row).Error; err != nil {
			return fmt.Errorf("store attachment: %w", err)
		}
		row.Data = ""
		m.Files = append(m.Files, row)
	}
	return nil
}

// WriteToRequester mails the requester a message staff wrote (from a
// template or free text), with attachments sealed in the database. The
// mail carries no file: it names them and the status page link downloads
// them. Audited as request.message in the same transaction.
func (db *FulfilmentStore) WriteToRequester(ctx context.Context, actor store.Actor, requestID, template, subject, body string, files []MessageFile) (*RequestMessage, error) {
	if !actor.Staff() || !store.ValidID(requestID) {
		return nil, store.ErrNotFound
	}
	if !slices.Contains(MessageTemplates, template) {
		template = MessageFree
	}
	subject, body = strings.TrimSpace(subject), strings.TrimSpace(body)
	if subject == "" || strings.ContainsAny(subject, "\r\n") || len(subject) > 200 {
		return nil, errs.Invalid("subject", "write a one-line subject of at most 200 characters")
	}
	if body == "" || len(body) > maxMessageBody {
		return nil, errs.Invalid("body", "write the message (at most %d characters)", maxMessageBody)
	}
	if strings.Contains(body, "[the reason]") {
		return nil, errs.Invalid("body", "replace [the reason] with the reason for the refusal")
	}
	types, err := checkMessageFiles(files)
	if err != nil {
		return nil, err
	}
	var m *RequestMessage
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		var r requests.PrivacyRequest
		if err := tx.G.Scopes(actor.Tenant("customer_id")).First(&r, "id = ?", requestID).Error; err != nil {
			return store.NotFound(err)
		}
		if r.RequesterEmail == "" {
			return errs.Invalid("body", "the requester gave no email address: answer them at %s", store.FirstNonEmptyString(r.RequesterPhone, "the contact given"))
		}
		outboxID := uuid.Must(uuid.NewV7()).String()
		m = &RequestMessage{ID: uuid.Must(uuid.NewV7()).String(), RequestID: r.ID, Direction: "out", Template: template,
			Subject: subject, Body: body, Author: actor.Label, OutboxID: &outboxID, CreatedAt: store.Now()}
		if err := storeMessage(tx, m, files, types); err != nil {
			return err
		}
		mailBody := body
		if len(m.Files) > 0 {
			names := make([]string, len(m.Files))
			for i, f := range m.Files {
				names[i] = "- " + f.FileName
			}
			mailBody += "\n\nWe attached files for you; download them from your request's status page (link below):\n" + strings.Join(names, "\n")
		}
		if mailBody, err = requests.WithStatusLink(tx, &r, mailBody); err != nil {
			return err
		}
		if err := outbox.QueueMail(tx, outbox.OutboundMail{ID: outboxID, RequestID: r.ID, CustomerID: store.DerefString(r.CustomerID), Kind: outbox.MailOther,
			To: r.RequesterEmail, Subject: subject, Body: mailBody}); err != nil {
			return err
		}
		tx.Event(r.ID, "email_out", fmt.Sprintf("%s: message to %s queued (%q, %d attachment(s)).", MessageTemplateLabel(template), r.RequesterEmail, subject, len(m.Files)))
		tx.Audit(store.Audit{Action: "request.message", ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
			Details: map[string]any{"reference": r.Reference, "message": m.ID, "template": template, "attachments": len(m.Files)}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// RequestMessages lists a request's messages, oldest first, with their
// attachments (without content). Staff only.
func (db *FulfilmentStore) RequestMessages(ctx context.Context, actor store.Actor, requestID string) ([]RequestMessage, error) {
	if !actor.Staff() || !store.ValidID(requestID) {
		return nil, store.ErrNotFound
	}
	return requestMessages(db.Gorm.WithContext(ctx), requestID)
}

func requestMessages(g *gorm.DB, requestID string) ([]RequestMessage, error) {
	var out []RequestMessage
	err := g.Preload("Files", func(q *gorm.DB) *gorm.DB { return q.Omit("data").Order("id") }).
		Where("request_id = ?", requestID).Order("created_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	return out, nil
}

func openMessageFile(t *store.Tx, requestID, fileID string) (*RequestMessageFile, []byte, error) {
	var f RequestMessageFile
	if err := t.G.First(&f, "id = ? AND request_id = ?", fileID, requestID).Error; err != nil {
		return nil, nil, store.NotFound(err)
	}
	data, err := t.Keys.Open(messageFileLabel(f.ID), f.Data)
	if err != nil {
		return nil, nil, err
	}
	f.Data = ""
	return &f, []byte(data), nil
}

// MessageFileForStaff opens an attachment for staff; audited as
// request.message_file_download.
func (db *FulfilmentStore) MessageFileForStaff(ctx context.Context, actor store.Actor, requestID, fileID string) (*RequestMessageFile, []byte, error) {
	if !actor.Staff() || !store.ValidID(requestID) || !store.ValidID(fileID) {
		return nil, nil, store.ErrNotFound
	}
	var f *RequestMessageFile
	var data []byte
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		var r requests.PrivacyRequest
		if err := tx.G.First(&r, "id = ?", requestID).Error; err != nil {
			return store.NotFound(err)
		}
		var err error
		if f, data, err = openMessageFile(tx, r.ID, fileID); err != nil {
			return err
		}
		tx.Audit(store.Audit{Action: "request.message_file_download", ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
			Details: map[string]any{"reference": r.Reference, "file": f.ID, "message": f.MessageID}})
		return nil
	})
	return f, data, err
}

// ErrStatusLinkInvalid covers an unknown or expired status link.
var ErrStatusLinkInvalid = errors.New("this link to your request is not valid: it has expired or was never issued; use the link in our latest email")

// RequesterView is what the status page shows the requester.
type RequesterView struct {
	Request  requests.PrivacyRequest
	Messages []RequesterViewMessage
	// BundleExpires is when the requester's access bundle stops being
	// downloadable; nil when none is ready (none made, its link used, or
	// expired).
	BundleExpires *time.Time
}

// RequesterViewMessage is one message of the status page: a mail the
// console sent the requester, or a reply of theirs.
type RequesterViewMessage struct {
	At        time.Time
	FromThem  bool
	Subject   string
	Body      string
	Files     []RequestMessageFile
	MessageID string
}

func requesterActor(ip string) store.Actor {
	return store.SystemProcess("requester", "requester (status link)").From(ip)
}

// statusRequest finds the request of a live status link.
func statusRequest(g *gorm.DB, token string) (*requests.PrivacyRequest, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrStatusLinkInvalid
	}
	var l requests.RequestStatusLink
	err := g.First(&l, "token_hash = ? AND expires_at > ?", store.HashToken(token), store.Now()).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrStatusLinkInvalid
	} else if err != nil {
		return nil, fmt.Errorf("look up status link: %w", err)
	}
	var r requests.PrivacyRequest
	if err := g.First(&r, "id = ?", l.RequestID).Error; err != nil {
		return nil, ErrStatusLinkInvalid
	}
	return &r, nil
}

// RequesterStatus is the status page of a status link: the request and
// the messages exchanged with its requester (mail sent to their address
// about this request, and their replies), never internal notes. Each view
// is audited (request.status_view).
func (db *FulfilmentStore) RequesterStatus(ctx context.Context, token, ip string) (*RequesterView, error) {
	var v RequesterView
	err := db.Tx(ctx, requesterActor(ip), func(tx *store.Tx) error {
		r, err := statusRequest(tx.G, token)
		if err != nil {
			return err
		}
		v.Request = *r
		msgs, err := requestMessages(tx.G, r.ID)
		if err != nil {
			return err
		}
		byOutbox := map[string]RequestMessage{}
		for _, m := range msgs {
			if m.Direction == "in" {
				v.Messages = append(v.Messages, RequesterViewMessage{At: m.CreatedAt, FromThem: true, Body: m.Body, Files: m.Files, MessageID: m.ID})
			} else if m.OutboxID != nil {
				byOutbox[*m.OutboxID] = m
			}
		}
		var sent []outbox.OutboxMail
		if to, err := outbox.MailAddress(r.RequesterEmail); err == nil {
			if err := tx.G.Where("request_id = ? AND to_addr = ?", r.ID, to).Order("id").Find(&sent).Error; err != nil {
				return fmt.Errorf("read mail sent: %w", err)
			}
		}
		for _, o := range sent {
			vm := RequesterViewMessage{At: o.CreatedAt, Subject: o.Subject, Body: o.BodyText}
			if m, ok := byOutbox[o.ID]; ok {
				// The message as written, without the mail's status link.
				vm.Body, vm.Files, vm.MessageID = m.Body, m.Files, m.ID
			} else if i := strings.Index(vm.Body, "\n\nFollow your request "); i >= 0 {
				vm.Body = vm.Body[:i]
			}
			v.Messages = append(v.Messages, vm)
		}
		if b, err := readyBundle(tx.G, r.ID); err != nil {
			return err
		} else if b != nil {
			v.BundleExpires = &b.ExpiresAt
		}
		slices.SortStableFunc(v.Messages, func(a, b RequesterViewMessage) int { return a.At.Compare(b.At) })
		tx.Audit(store.Audit{Action: "request.status_view", ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
			Details: map[string]any{"reference": r.Reference}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// MessageFileForRequester opens an attachment of the request a status
// link belongs to; audited as request.status_file_download.
func (db *FulfilmentStore) MessageFileForRequester(ctx context.Context, token, fileID, ip string) (*RequestMessageFile, []byte, error) {
	if !store.ValidID(fileID) {
		return nil, nil, ErrStatusLinkInvalid
	}
	var f *RequestMessageFile
	var data []byte
	err := db.Tx(ctx, requesterActor(ip), func(tx *store.Tx) error {
		r, err := statusRequest(tx.G, token)
		if err != nil {
			return err
		}
		if f, data, err = openMessageFile(tx, r.ID, fileID); err != nil {
			return ErrStatusLinkInvalid
		}
		tx.Audit(store.Audit{Action: "request.status_file_download", ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
			Details: map[string]any{"reference": r.Reference, "file": f.ID}})
		return nil
	})
	return f, data, err
}

// RequesterReply records the requester's reply from the status page: it
// joins the request's thread, and a request waiting on the requester
// resumes its clock as when their email arrives. Audited as
// request.status_reply.
func (db *FulfilmentStore) RequesterReply(ctx context.Context, biz calendar.Business, token, body, ip string, files []MessageFile) (*requests.PrivacyRequest, error) {
	body = strings.TrimSpace(body)
	if body == "" || len(body) > maxMessageBody {
		return nil, errs.Invalid("body", "write your answer (at most %d characters)", maxMessageBody)
	}
	types, err := checkMessageFiles(files)
	if err != nil {
		return nil, err
	}
	var out *requests.PrivacyRequest
	err = db.Tx(ctx, requesterActor(ip), func(tx *store.Tx) error {
		r, err := statusRequest(tx.G, token)
		if err != nil {
			return err
		}
		out = r
		if requests.Closed(r.Status) {
			return &errs.ConflictError{Field: "body", Message: "this request is closed; to ask something new, make a new request"}
		}
		m := &RequestMessage{ID: uuid.Must(uuid.NewV7()).String(), RequestID: r.ID, Direction: "in", Template: MessageReply,
			Body: body, Author: store.FirstNonEmptyString(r.RequesterName, r.RequesterEmail, "the requester"), CreatedAt: store.Now()}
		if err := storeMessage(tx, m, files, types); err != nil {
			return err
		}
		tx.Event(r.ID, "email_in", fmt.Sprintf("The requester answered from the status page (%d attachment(s)).", len(m.Files)))
		tx.Audit(store.Audit{Action: "request.status_reply", ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
			Details: map[string]any{"reference": r.Reference, "message": m.ID, "attachments": len(m.Files)}})
		if r.Status == requests.StatusWaiting {
			if out, err = requests.Resume(tx, biz, r.ID, "Their answer arrived on the status page."); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// readyBundle is the requester's newest access bundle whose link is
// unused and unexpired, or nil.
func readyBundle(g *gorm.DB, requestID string) (*RequestExport, error) {
	var b []RequestExport
	err := g.Select("id", "request_id", "expires_at").Where("request_id = ? AND customer_id IS NULL AND data IS NOT NULL AND used_at IS NULL AND expires_at > ?", requestID, store.Now()).
		Order("created_at DESC").Limit(1).Find(&b).Error
	if err != nil {
		return nil, fmt.Errorf("read bundles: %w", err)
	}
	if len(b) == 0 {
		return nil, nil
	}
	return &b[0], nil
}

// RequesterBundleLink gives the requester, from the status page, the
// download link of their ready bundle: the bundle's unused link is
// replaced by a new one (the mailed link stops working) with the same
// expiry, so the bundle is still downloaded once, and never later than
// staff allowed. A used or expired link needs staff to issue a new one.
// Audited as request.status_bundle_link.
func (db *FulfilmentStore) RequesterBundleLink(ctx context.Context, token, ip string) (string, error) {
	var out string
	err := db.Tx(ctx, requesterActor(ip), func(tx *store.Tx) error {
		r, err := statusRequest(tx.G, token)
		if err != nil {
			return err
		}
		b, err := readyBundle(tx.G, r.ID)
		if err != nil {
			return err
		}
		if b == nil {
			return &errs.ConflictError{Field: "bundle", Message: "no download is ready: it was downloaded already or has expired; answer us below to ask for a new one"}
		}
		bundleToken := store.RandomToken()
		res := tx.G.Model(&RequestExport{}).Where("id = ? AND used_at IS NULL AND data IS NOT NULL", b.ID).Update("token_hash", store.HashToken(bundleToken))
		if res.Error != nil {
			return fmt.Errorf("issue the download link: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return &errs.ConflictError{Field: "bundle", Message: "no download is ready: it was downloaded already"}
		}
		tx.Event(r.ID, "export_reissue", "The requester took the download link of access bundle "+b.ID+" from the status page; the mailed link no longer works.")
		tx.Audit(store.Audit{Action: "request.status_bundle_link", ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
			Details: map[string]any{"reference": r.Reference, "export": b.ID}})
		out = bundleToken
		return nil
	})
	return out, err
}

// ResealMessageFiles seals again with the current key the attachments
// sealed with an older one (SealSecrets, after a key rotation).
func ResealMessageFiles(tx *store.Tx, keys *store.Keyring) (int, error) {
	var ids []string
	if err := tx.G.Model(&RequestMessageFile{}).Where("data <> '' AND data NOT LIKE ?", store.SealedPrefix+keys.Current+":%").
		Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("read message attachments: %w", err)
	}
	for _, id := range ids {
		var f RequestMessageFile
		if err := tx.G.Select("id", "data").First(&f, "id = ?", id).Error; err != nil {
			return 0, fmt.Errorf("read message attachment: %w", err)
		}
		plain, err := keys.Open(messageFileLabel(id), f.Data)
		if err != nil {
			return 0, err
		}
		sealed, err := keys.Seal(messageFileLabel(id), plain)
		if err != nil {
			return 0, err
		}
		if err := tx.G.Model(&RequestMessageFile{}).Where("id = ?", id).Update("data", sealed).Error; err != nil {
			return 0, fmt.Errorf("seal message attachment: %w", err)
		}
	}
	return len(ids), nil
}
