package cases

import (
	"github.com/sendara/console/handlers/web"
	errs "github.com/sendara/console/models/errs"
	outbox "github.com/sendara/console/models/outbox"
	"github.com/sendara/console/views/casepages"

	requests "github.com/sendara/console/models/requests"

	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/sendara/console/mailbox"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/views"
)

const outboxPageSize = 100

// outbox lists outbound mail; mail holds personal data, so the view is audited.
func (s *Handlers) outbox(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	f := outbox.OutboxFilter{Status: c.QueryParam("status"), Before: c.QueryParam("before"), Limit: outboxPageSize}
	mails, err := s.DB.Outbox(ctx, a, f)
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "mail.list", ObjectType: "mail", CustomerID: a.CustomerID,
		Details: map[string]any{"status": f.Status, "results": len(mails)}}); err != nil {
		return err
	}
	p := casepages.OutboxPage{Mails: mails, Status: f.Status, CanRetry: s.Allowed(c, "requests", "write"), CanMarkSent: web.Actor(c).Staff() && s.Allowed(c, "requests", "write"), SMTPOn: s.Cfg.SMTPConfigured, Loc: s.Cfg.Location}
	if len(mails) == outboxPageSize {
		p.OlderHref = "/outbox?" + url.Values{"status": {f.Status}, "before": {mails[len(mails)-1].ID}}.Encode()
	}
	return s.Render(c, http.StatusOK, casepages.Outbox(p))
}

func (s *Handlers) outboxRetry(c echo.Context) error {
	if err := s.DB.RequeueMail(c.Request().Context(), web.Actor(c), c.Param("id")); err != nil {
		return err
	}
	s.Flash(c, "Queued again.")
	return web.Redirect(c, "/outbox")
}

// outboxMarkSent records that staff sent a held or failed mail themselves.
func (s *Handlers) outboxMarkSent(c echo.Context) error {
	if err := s.DB.MarkMailSentByHand(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("note")); err != nil {
		return err
	}
	s.Flash(c, "Marked sent by hand.")
	return web.Redirect(c, "/outbox")
}

func (s *Handlers) mailTemplates(c echo.Context) error {
	return s.renderTemplates(c, http.StatusOK, "", nil)
}

func (s *Handlers) renderTemplates(c echo.Context, status int, kind string, errs views.Errors) error {
	ts, err := s.DB.MailTemplates(c.Request().Context())
	if err != nil {
		return err
	}
	return s.Render(c, status, casepages.MailTemplates(casepages.TemplatesPage{Templates: ts, Placeholders: outbox.MailPlaceholders(),
		Editing: kind, Errors: errs, CanEdit: s.Allowed(c, "requests", "write")}))
}

func (s *Handlers) mailTemplateUpdate(c echo.Context) error {
	kind := c.Param("kind")
	err := s.DB.UpdateTemplate(c.Request().Context(), web.Actor(c), kind, c.FormValue("subject"), c.FormValue("body"))
	if errs, err := web.FormErrors(err); err != nil {
		return err
	} else if errs != nil {
		return s.renderTemplates(c, http.StatusUnprocessableEntity, kind, errs)
	}
	s.Flash(c, "Template "+kind+" saved.")
	return web.Redirect(c, "/outbox/templates")
}

// requestUploadEML takes a message saved from another mailbox (.eml) into
// the same intake as the SMTP receiver. It reached Sendara when that
// mailbox received it, so its Date header (when not in the future) is the
// receipt: the earlier date, and so the stricter deadline.
func (s *Handlers) requestUploadEML(c echo.Context) error {
	fh, err := c.FormFile("eml")
	if err != nil {
		return errs.Invalid("eml", "choose a .eml file to upload")
	}
	if fh.Size > 25<<20 {
		return errs.Invalid("eml", "the file is larger than 25 MiB")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, 25<<20))
	if err != nil {
		return errs.Invalid("eml", "the file could not be read")
	}
	msg, err := mailbox.Parse(raw)
	if err != nil {
		return errs.Invalid("eml", "is not an email message: %v", err)
	}
	// Uploads open requests and mail their senders like mail received over
	// SMTP, so they are bounded the same way.
	if wait, perSender := s.Mail.Allow(msg.From.Address); wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		who := "All uploads together have"
		if perSender {
			who = "Messages from " + msg.From.Address + " have"
		}
		return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf("%s reached the privacy mailbox's limit; try again in %s.", who, wait.Round(time.Second)))
	}
	r, created, err := s.DB.ReceiveMail(c.Request().Context(), s.Cfg.Business, s.Cfg.Region, requests.MailIntake{MessageID: msg.MessageID, InReplyTo: msg.InReplyTo, References: msg.References,
		FromName: msg.From.Name, FromAddr: msg.From.Address, Subject: msg.Subject, Body: msg.TextBody, Reference: msg.Reference,
		SuggestedType: msg.SuggestedType, Raw: msg.Raw, ReceivedAt: msg.Date})
	if err != nil {
		return err
	}
	if r == nil {
		s.Flash(c, "This message was received before; nothing changed.")
		return web.Redirect(c, "/requests")
	}
	if created {
		s.Flash(c, "Request "+r.Reference+" opened from the message.")
	} else {
		s.Flash(c, "Message added to "+r.Reference+".")
	}
	return web.Redirect(c, "/requests/"+r.ID)
}
