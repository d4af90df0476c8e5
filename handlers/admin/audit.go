package admin

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/adminpages"

	"github.com/labstack/echo/v4"
	"github.com/sendara/console/models/auditchain"
	store "github.com/sendara/console/models/store"
)

const auditPageSize = 100

// auditQuery reads the audit filter from the query string: the same
// parameters for the page and its export, so "Download" exports what is
// on screen (every page of it).
type auditQuery struct {
	f      store.AuditFilter
	form   adminpages.AuditFilterForm
	params url.Values // the filter alone, for links
}

func (s *Handlers) parseAuditQuery(c echo.Context) (auditQuery, error) {
	q := auditQuery{params: url.Values{}}
	get := func(name string) string {
		v := strings.TrimSpace(c.QueryParam(name))
		if v != "" {
			q.params.Set(name, v)
		}
		return v
	}
	form := adminpages.AuditFilterForm{Actions: get("action"), Actor: get("actor"), Object: get("object"),
		Customer: get("customer"), Text: get("q"), Since: get("since"), Until: get("until"), Address: get("address")}
	q.form = form
	q.f = store.AuditFilter{Actions: strings.FieldsFunc(form.Actions, func(r rune) bool { return r == ',' || r == ' ' }),
		Actor: form.Actor, Object: form.Object, Text: form.Text, Address: form.Address}
	var err error
	// An object that reads as a phone number or an email is a contact's
	// identifier: the events about the contacts holding it. The lookup is
	// on the log with the view (audit.view's details name the identifier).
	if looksLikeIdentifier(form.Object) {
		id, err := store.NormalizeIdentifier("object", form.Object, s.Cfg.Region)
		if err != nil {
			return q, echo.NewHTTPError(http.StatusBadRequest, "Object: "+err.Error())
		}
		q.f.Object, q.f.Identifier = "", id.Value
	}
	if form.Address != "" && net.ParseIP(form.Address) == nil {
		return q, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("Address: %q is not an IP address", form.Address))
	}
	if q.f.Since, err = parseLocalTime(form.Since, s.Cfg.Location); err != nil {
		return q, echo.NewHTTPError(http.StatusBadRequest, "From: "+err.Error())
	}
	if q.f.Until, err = parseLocalTime(form.Until, s.Cfg.Location); err != nil {
		return q, echo.NewHTTPError(http.StatusBadRequest, "Until: "+err.Error())
	}
	if form.Customer != "" && web.Actor(c).Staff() {
		cust, err := s.DB.CustomerBySlug(c.Request().Context(), form.Customer)
		if errors.Is(err, store.ErrNotFound) {
			return q, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("Customer: no customer with slug %q", form.Customer))
		} else if err != nil {
			return q, err
		}
		q.f.CustomerID = cust.ID
	}
	return q, nil
}

// looksLikeIdentifier: an email, or a phone number written with a + or
// 7 to 15 digits; ids (UUIDs) and request references are neither.
func looksLikeIdentifier(v string) bool {
	if v == "" {
		return false
	}
	if strings.Contains(v, "@") || strings.HasPrefix(v, "+") || strings.HasPrefix(strings.ToLower(v), "tel:") {
		return true
	}
	digits := 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" ()-.", r):
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 15 // E.164 has at most 15; an id of digits and dashes has more
}

// parseLocalTime reads a datetime-local value (to the minute or second) in
// the business time zone.
func parseLocalTime(v string, loc *time.Location) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date and time such as 2026-12-05T14:30:00", v)
}

func (s *Handlers) audit(c echo.Context) error {
	q, err := s.parseAuditQuery(c)
	if err != nil {
		return err
	}
	q.f.Before, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	q.f.Limit = auditPageSize
	ctx, a := c.Request().Context(), web.Actor(c)
	events, err := s.DB.ListAudit(ctx, a, q.f)
	if err != nil {
		return err
	}
	// Reading the log is itself on the log: who looked, with which filter.
	details := q.f.Details()
	details["results"] = len(events)
	if err := s.DB.Record(ctx, a, store.Audit{Action: "audit.view", ObjectType: "audit_log", CustomerID: a.CustomerID,
		Details: details}); err != nil {
		return err
	}
	names, err := s.DB.AuditNamesFor(ctx, a, events)
	if err != nil {
		return err
	}
	p := adminpages.AuditList{Events: events, Filter: q.form, Staff: a.Staff(),
		CanVerify: s.Allowed(c, "audit", "verify"), Loc: s.Cfg.Location, Names: names}
	if s.Allowed(c, "audit", "export") {
		p.ExportHref = "/audit/export.jsonl?" + q.params.Encode()
	}
	if p.CanVerify {
		if p.HeadSeq, p.HeadHash, err = s.DB.AuditHead(ctx); err != nil {
			return err
		}
		if p.Checkpoint, err = s.DB.LastAuditCheckpoint(ctx); err != nil {
			return err
		}
	}
	if len(events) == auditPageSize {
		older := url.Values{}
		for k, v := range q.params {
			older[k] = v
		}
		older.Set("before", strconv.FormatInt(events[len(events)-1].Seq, 10))
		p.OlderHref = "/audit?" + older.Encode()
	}
	return s.Render(c, http.StatusOK, adminpages.Audit(p))
}

// auditExport streams the filtered log as JSON lines, each entry with its
// hashes, for `console audit verify --file` or the auditor's own script. A
// customer admin's export holds its own tenant's entries only.
func (s *Handlers) auditExport(c echo.Context) error {
	q, err := s.parseAuditQuery(c)
	if err != nil {
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "application/jsonl; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition,
		fmt.Sprintf(`attachment; filename="audit-%s.jsonl"`, store.Now().In(s.Cfg.Location).Format("20060102-150405")))
	// Filtered exports skip entries: say so, so whoever verifies it knows
	// to use --filtered. A customer admin's export is always filtered.
	filtered := q.f.Filtered() || !web.Actor(c).Staff()
	res.Header().Set("X-Audit-Export", map[bool]string{true: "filtered", false: "full"}[filtered])
	w := bufio.NewWriterSize(res, 64<<10)
	started := false
	_, err = s.DB.ExportAudit(c.Request().Context(), web.Actor(c), q.f, func(e *auditchain.Entry) error {
		if !started {
			res.WriteHeader(http.StatusOK)
			started = true
		}
		return e.WriteLine(w)
	})
	if err != nil && started {
		// The status is sent: the stream is cut short, which a verifier
		// of the file sees as a truncated last line or missing entries.
		s.Log.Error("audit export cut short", "request_id", web.RequestID(c), "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	if !started {
		res.WriteHeader(http.StatusOK)
	}
	return w.Flush()
}

// auditVerify walks the whole chain and records that it was checked.
func (s *Handlers) auditVerify(c echo.Context) error {
	ctx := c.Request().Context()
	rep, err := s.DB.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, web.Actor(c), store.Audit{Action: "audit.verify", ObjectType: "audit_log",
		Details: map[string]any{"entries": rep.Entries, "intact": rep.Intact(), "bad_seq": rep.BadSeq, "head_seq": rep.HeadSeq, "head_hash": rep.HeadHash}}); err != nil {
		return err
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		return s.Render(c, http.StatusOK, adminpages.VerifyResult(rep))
	}
	return s.Render(c, http.StatusOK, adminpages.VerifyPage(rep))
}
