package lifecycle

import (
	"github.com/sendara/console/handlers/web"
	calendar "github.com/sendara/console/models/calendar"
	errs "github.com/sendara/console/models/errs"
	"github.com/sendara/console/views/lifecyclepages"

	registers "github.com/sendara/console/models/registers"

	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
)

type communicationItemJSON struct {
	To             string `json:"to"`
	Channel        string `json:"channel"`
	Direction      string `json:"direction"`
	OccurredAt     string `json:"occurred_at"`
	DeliveryStatus string `json:"delivery_status"`
	CRMSyncedAt    string `json:"crm_synced_at"`
}

type communicationsRequest struct {
	Items    []communicationItemJSON `json:"items"`
	Customer string                  `json:"customer"`
}

// communicationResultJSON answers one item: the record's id and contact,
// or (with the item as sent) the error, the field and its code.
type communicationResultJSON struct {
	Index     int    `json:"index"`
	To        string `json:"to"`
	ID        string `json:"id,omitempty"`
	ContactID string `json:"contact_id,omitempty"`
	Error     string `json:"error,omitempty"`
	Field     string `json:"field,omitempty"`
	Code      string `json:"code,omitempty"`
}

// apiRecordCommunications records a batch of messages and calls (their
// metadata) from the sending pipeline. Like the batch check, each item is
// answered on its own in the order sent: a refused item names its index
// and field, the others are recorded. 400 only for a malformed body or
// 0 / more than 1000 items.
func (s *Handlers) apiRecordCommunications(c echo.Context) error {
	var req communicationsRequest
	if err := web.BindJSON(c, &req); err != nil {
		return err
	}
	switch {
	case len(req.Items) == 0:
		return &web.APIError{Status: http.StatusBadRequest, Msg: "items must list at least one message or call", Field: "items"}
	case len(req.Items) > registers.MaxCommunicationBatch:
		return &web.APIError{Status: http.StatusBadRequest, Msg: "items may list at most 1000 messages or calls per call", Field: "items"}
	}
	tenant, err := s.TenantOf(c, req.Customer)
	if err != nil {
		return err
	}
	items := make([]registers.CommunicationItem, len(req.Items))
	early := make([]*errs.ValidationError, len(req.Items)) // times that do not parse
	for i, it := range req.Items {
		items[i] = registers.CommunicationItem{To: it.To, Channel: it.Channel, Direction: it.Direction, DeliveryStatus: it.DeliveryStatus}
		prefix := "items[" + strconv.Itoa(i) + "]."
		if it.OccurredAt != "" {
			t, err := time.Parse(time.RFC3339Nano, it.OccurredAt)
			if err != nil {
				early[i] = &errs.ValidationError{Field: prefix + "occurred_at", Message: "must be an RFC 3339 time such as 2026-05-10T12:00:00-07:00"}
				continue
			}
			items[i].OccurredAt = t
		}
		if it.CRMSyncedAt != "" {
			t, err := time.Parse(time.RFC3339Nano, it.CRMSyncedAt)
			if err != nil {
				early[i] = &errs.ValidationError{Field: prefix + "crm_synced_at", Message: "must be an RFC 3339 time such as 2026-05-10T12:00:00-07:00"}
				continue
			}
			items[i].CRMSyncedAt = &t
		}
	}
	// Items whose times do not parse are answered here and not sent on.
	var send []registers.CommunicationItem
	var at []int
	for i, it := range items {
		if early[i] == nil {
			send, at = append(send, it), append(at, i)
		}
	}
	out := make([]communicationResultJSON, len(items))
	for i, e := range early {
		if e != nil {
			out[i] = communicationItemError(i, req.Items[i].To, e)
		}
	}
	if len(send) > 0 {
		results, err := s.DB.RecordCommunications(c.Request().Context(), web.APIActor(c), tenant, send, s.Cfg.Region)
		if err != nil {
			return err
		}
		for k, r := range results {
			i := at[k]
			if r.Err != nil {
				// The model numbered the items it was given; name the one sent.
				field := "items[" + strconv.Itoa(i) + "]." + r.Err.Field[strings.Index(r.Err.Field, ".")+1:]
				out[i] = communicationItemError(i, req.Items[i].To, &errs.ValidationError{Field: field, Message: r.Err.Message})
				continue
			}
			out[i] = communicationResultJSON{Index: i, To: r.To, ID: r.ID, ContactID: r.ContactID}
		}
	}
	recorded := 0
	for _, r := range out {
		if r.ID != "" {
			recorded++
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"results": out, "recorded": recorded, "refused": len(out) - recorded})
}

func communicationItemError(i int, to string, e *errs.ValidationError) communicationResultJSON {
	code := "malformed_request"
	if strings.HasSuffix(e.Field, ".to") {
		code = "invalid_identifier"
	}
	return communicationResultJSON{Index: i, To: to, Error: e.Field + " " + e.Message, Field: e.Field, Code: code}
}

// sentAfterOptOutParams reads the customer and period of the report: a
// customer user's own tenant, or the customer a staff user chose; the
// last 12 months by default.
func (s *Handlers) sentAfterOptOutParams(c echo.Context) (string, calendar.Date, calendar.Date, error) {
	today := calendar.TodayIn(s.Cfg.Business.Loc)
	from, to := today.AddMonths(-12), today
	for _, p := range []struct {
		name string
		dst  *calendar.Date
	}{{"from", &from}, {"to", &to}} {
		if v := c.QueryParam(p.name); v != "" {
			d, err := calendar.ParseDate(v)
			if err != nil {
				return "", from, to, errs.Invalid(p.name, "%v", err)
			}
			*p.dst = d
		}
	}
	customer := c.QueryParam("customer")
	if a := web.Actor(c); !a.Staff() {
		customer = a.CustomerID
	}
	return customer, from, to, nil
}

// sentAfterOptOut shows the messages and calls made to people after their
// opt-out took effect. It lists identifiers, so each view is audited.
func (s *Handlers) sentAfterOptOut(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	customer, from, to, err := s.sentAfterOptOutParams(c)
	if err != nil {
		return err
	}
	p := lifecyclepages.SentAfterOptOutPage{CustomerID: customer, From: from.String(), To: to.String(), Staff: a.Staff(), Loc: s.Cfg.Business.Loc}
	if a.Staff() {
		if p.Customers, err = s.DB.Customers(ctx, a); err != nil {
			return err
		}
	}
	if customer != "" {
		rep, err := s.DB.SentAfterOptOutFor(ctx, a, customer, from, to, s.Cfg.Business)
		if err != nil {
			return err
		}
		if err := s.DB.Record(ctx, a, store.Audit{Action: "communication.sent_after_opt_out", ObjectType: "report", CustomerID: customer,
			Details: map[string]any{"from": from.String(), "to": to.String(), "rows": len(rep.Rows), "format": "page"}}); err != nil {
			return err
		}
		p.Report = rep
	}
	return s.Render(c, http.StatusOK, lifecyclepages.SentAfterOptOut(p))
}

// sentAfterOptOutCSV is the same report as a CSV file, audited before the
// first byte is sent.
func (s *Handlers) sentAfterOptOutCSV(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	customer, from, to, err := s.sentAfterOptOutParams(c)
	if err != nil {
		return err
	}
	if customer == "" {
		return errs.Invalid("customer", "choose a customer")
	}
	rep, err := s.DB.SentAfterOptOutFor(ctx, a, customer, from, to, s.Cfg.Business)
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "communication.sent_after_opt_out", ObjectType: "report", CustomerID: customer,
		Details: map[string]any{"from": from.String(), "to": to.String(), "rows": len(rep.Rows), "format": "csv"}}); err != nil {
		return err
	}
	out := web.StartCSV(c, "sent-after-opt-out-"+from.String()+"-to-"+to.String()+".csv", registers.SentAfterOptOutColumns)
	var werr error
	for _, r := range rep.Rows {
		if werr = out.Write(lifecycleCSVRow(r.Record())); werr != nil {
			break
		}
	}
	if err := out.Close(werr); err != nil {
		s.Log.Error("sent-after-opt-out report interrupted", "request_id", web.RequestID(c), "err", err)
	}
	return nil
}

// lifecycleCSVRow keeps a spreadsheet from reading a cell as a formula: a
// cell starting with = @ or a tab, or + and - not followed by a digit (a
// phone number in E.164 stays as it is), gets a leading apostrophe.
func lifecycleCSVRow(rec []string) []string {
	for i, v := range rec {
		if v == "" {
			continue
		}
		switch v[0] {
		case '=', '@', '\t', '\r':
			rec[i] = "'" + v
		case '+', '-':
			if len(v) == 1 || v[1] < '0' || v[1] > '9' {
				rec[i] = "'" + v
			}
		}
	}
	return rec
}
