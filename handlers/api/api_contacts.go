package api

import (
	"github.com/sendara/console/handlers/web"
	consent "github.com/sendara/console/models/consent"
	errs "github.com/sendara/console/models/errs"

	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
)

// suppressionJSON is the suppression check's answer (DESIGN §5). Consent
// is three-valued: suppressed, "opted_in", or neither ("none": no opt-out,
// but no consent on record either).
type suppressionJSON struct {
	To         string     `json:"to"`
	Suppressed bool       `json:"suppressed"`
	Reason     *string    `json:"reason"`
	Since      *time.Time `json:"since"`
	Consent    string     `json:"consent"`
}

// Consent values of the check and the point-in-time answer.
const (
	consentOptedIn = "opted_in"
	consentNone    = "none"
)

func consentWord(optedIn bool) string {
	if optedIn {
		return consentOptedIn
	}
	return consentNone
}

func suppressionOut(s consent.Suppression) suppressionJSON {
	out := suppressionJSON{To: s.To, Suppressed: s.Suppressed, Since: s.Since, Consent: consentWord(s.OptedIn)}
	if s.Suppressed {
		out.Reason = &s.Reason
	}
	return out
}

// batchItemError is a batch check's answer for an item that is not an
// identifier: the item as sent, why, and suppressed null (do not send).
type batchItemError struct {
	To         string `json:"to"`
	Error      string `json:"error"`
	Suppressed *bool  `json:"suppressed"`
}

// maxBatch is the most identifiers one batch check may carry.
const maxBatch = 1000

// apiCheckSuppression answers GET /api/v1/suppressions/check?to=.
func (s *Handlers) apiCheckSuppression(c echo.Context) error {
	channel, err := consent.ParseChannel(web.QueryParam(c, "channel"))
	if err != nil {
		return err
	}
	tenant, err := s.TenantOf(c, web.QueryParam(c, "customer"))
	if err != nil {
		return err
	}
	id, err := store.NormalizeIdentifier("to", web.QueryParam(c, "to"), s.Cfg.Region)
	if err != nil {
		return err
	}
	res, err := s.DB.CheckSuppression(c.Request().Context(), tenant, id, channel)
	if err != nil {
		return err
	}
	s.Usage.Add(web.APIKey(c).ID, "suppression_check", 1)
	return writeSuppressionJSON(c, suppressionOut(res))
}

type batchCheckRequest struct {
	To       []string `json:"to"`
	Channel  string   `json:"channel"`
	Customer string   `json:"customer"`
}

// apiCheckSuppressions answers POST /api/v1/suppressions/check with up to
// 1000 identifiers, in the order given. Each item is answered on its own: a
// malformed one gets its error in its place and the others their answers,
// so one bad number in a CRM export does not hold back the rest's opt-outs.
func (s *Handlers) apiCheckSuppressions(c echo.Context) error {
	var req batchCheckRequest
	if err := web.BindJSON(c, &req); err != nil {
		return err
	}
	switch {
	case len(req.To) == 0:
		return &web.APIError{Status: http.StatusBadRequest, Msg: "to must list at least one identifier", Field: "to"}
	case len(req.To) > maxBatch:
		return &web.APIError{Status: http.StatusBadRequest, Msg: "to may list at most 1000 identifiers per call", Field: "to"}
	}
	channel, err := consent.ParseChannel(req.Channel)
	if err != nil {
		return err
	}
	tenant, err := s.TenantOf(c, req.Customer)
	if err != nil {
		return err
	}
	out := make([]any, len(req.To))
	ids := make([]store.Identifier, 0, len(req.To))
	at := make([]int, 0, len(req.To)) // ids[k] answers item at[k]
	for i, raw := range req.To {
		id, err := store.NormalizeIdentifier("to["+strconv.Itoa(i)+"]", raw, s.Cfg.Region)
		if v, ok := errs.AsValidation(err); ok {
			out[i] = batchItemError{To: raw, Error: v.Message}
			continue
		} else if err != nil {
			return err
		}
		ids, at = append(ids, id), append(at, i)
	}
	if len(ids) > 0 {
		results, err := s.DB.CheckSuppressions(c.Request().Context(), tenant, ids, channel)
		if err != nil {
			return err
		}
		for k, r := range results {
			out[at[k]] = suppressionOut(r)
		}
	}
	s.Usage.Add(web.APIKey(c).ID, "suppression_check", int64(len(req.To)))
	return c.JSON(http.StatusOK, map[string]any{"results": out})
}

type consentRequest struct {
	To           string `json:"to"`
	Channel      string `json:"channel"`
	Source       string `json:"source"`
	Evidence     string `json:"evidence"`
	EvidenceKind string `json:"evidence_kind"`
	EvidenceRef  string `json:"evidence_ref"`
	CapturedBy   string `json:"captured_by"`
	OccurredAt   string `json:"occurred_at"`
	Customer     string `json:"customer"`
}

type consentResponse struct {
	To         string `json:"to"`
	ContactID  string `json:"contact_id"`
	Channel    string `json:"channel"`
	Kind       string `json:"kind"`
	Recorded   bool   `json:"recorded"`
	EventID    string `json:"event_id,omitempty"`
	Suppressed bool   `json:"suppressed"`
	// PendingApproval: the opt-in reverses the person's own opt-out and
	// waits for a customer admin (202).
	PendingApproval bool   `json:"pending_approval,omitempty"`
	ReversalID      string `json:"reversal_id,omitempty"`
}

func (s *Handlers) apiOptOut(c echo.Context) error { return s.apiConsent(c, consent.OptOut) }
func (s *Handlers) apiOptIn(c echo.Context) error  { return s.apiConsent(c, consent.OptIn) }

// apiConsent records an opt-out or opt-in: 201 when it changed the
// person's state, 200 when it was already so. An opt-out that got a 2xx is
// committed: the ledger entry and the lookup are in one transaction.
func (s *Handlers) apiConsent(c echo.Context, kind string) error {
	ctx, a := c.Request().Context(), web.APIActor(c)
	var req consentRequest
	if err := web.BindJSON(c, &req); err != nil {
		return err
	}
	id, err := store.NormalizeIdentifier("to", req.To, s.Cfg.Region)
	if err != nil {
		return err
	}
	at, err := web.ParseTime("occurred_at", req.OccurredAt)
	if err != nil {
		return err
	}
	tenant, err := s.TenantOf(c, req.Customer)
	if err != nil {
		return err
	}
	source := req.Source
	if source == "" {
		source = "api"
	}
	if !slices.Contains(consent.CallerSources, source) {
		return &web.APIError{Status: http.StatusUnprocessableEntity, Field: "source",
			Msg: "source must be api, crm or manual: the console records csv_import, inbound_reply and privacy_request itself"}
	}
	res, err := s.DB.RecordConsent(ctx, a, tenant, consent.ConsentInput{
		To: id.Value, Channel: req.Channel, Kind: kind, Source: source, Evidence: req.Evidence,
		EvidenceKind: req.EvidenceKind, EvidenceRef: req.EvidenceRef, CapturedBy: req.CapturedBy, OccurredAt: at,
	}, s.Cfg.Region)
	if err != nil {
		return err
	}
	// The answer is built from what the transaction wrote (res.Contact
	// carries the flags it set): no read after the commit can turn an
	// opt-out that is stored into a 500.
	ct := res.Contact
	channel, _ := consent.ParseChannel(req.Channel) // RecordConsent accepted it
	out := consentResponse{To: id.Value, ContactID: ct.ID, Channel: channel, Kind: kind, Recorded: res.Changed, Suppressed: ct.Suppressed}
	status := http.StatusOK
	switch {
	case res.Changed:
		status, out.EventID = http.StatusCreated, res.Event.ID
	case res.Pending != nil:
		status, out.PendingApproval, out.ReversalID = http.StatusAccepted, true, res.Pending.ID
	}
	return c.JSON(status, out)
}

type inboundRequest struct {
	From       string `json:"from"`
	Body       string `json:"body"`
	ReceivedAt string `json:"received_at"`
	Customer   string `json:"customer"`
}

// apiInbound classifies an inbound reply: opt-outs and opt-ins are
// recorded, ambiguous ones queued for review.
func (s *Handlers) apiInbound(c echo.Context) error {
	var req inboundRequest
	if err := web.BindJSON(c, &req); err != nil {
		return err
	}
	at, err := web.ParseTime("received_at", req.ReceivedAt)
	if err != nil {
		return err
	}
	tenant, err := s.TenantOf(c, req.Customer)
	if err != nil {
		return err
	}
	reply, err := s.DB.RecordInbound(c.Request().Context(), web.APIActor(c), tenant, req.From, req.Body, at, s.Cfg.Region, s.Cfg.Business)
	if err != nil {
		return err
	}
	// "reply" is the text to send back: the customer's answer to HELP,
	// null for every other action (which the pipeline answers as before).
	var answer *string
	if reply.Answer != "" {
		answer = &reply.Answer
	}
	return c.JSON(http.StatusOK, map[string]any{"to": reply.FromValue, "action": reply.Action, "reply": answer})
}

type contactRequest struct {
	Identifiers []string `json:"identifiers"`
	Name        string   `json:"name"`
	CRMID       string   `json:"crm_id"`
	Customer    string   `json:"customer"`
}

// stateJSON is a contact's state on one channel; consent is as in the
// suppression check ("none" when nothing stands, or when suppressed).
type stateJSON struct {
	Suppressed bool       `json:"suppressed"`
	Reason     *string    `json:"reason"`
	Since      *time.Time `json:"since"`
	Consent    string     `json:"consent"`
}

type contactJSON struct {
	ID          string               `json:"id"`
	Identifiers []string             `json:"identifiers"`
	Name        string               `json:"name"`
	CRMID       string               `json:"crm_id"`
	Restricted  bool                 `json:"restricted"`
	Suppressed  bool                 `json:"suppressed"`
	Consent     map[string]stateJSON `json:"consent"`
	CreatedAt   time.Time            `json:"created_at"`
	UpdatedAt   time.Time            `json:"updated_at"`
}

// contactsOut is contactOut for each of a search's or a page's contacts.
func (s *Handlers) contactsOut(c echo.Context, cs []consent.Contact) ([]contactJSON, error) {
	out := make([]contactJSON, 0, len(cs))
	for i := range cs {
		cj, err := s.contactOut(c, &cs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, cj)
	}
	return out, nil
}

func (s *Handlers) contactOut(c echo.Context, ct *consent.Contact) (contactJSON, error) {
	out := contactJSON{ID: ct.ID, Identifiers: ct.Values(), Name: ct.Name, CRMID: ct.CRMID, Restricted: ct.Restricted,
		Suppressed: ct.Suppressed, CreatedAt: ct.CreatedAt, UpdatedAt: ct.UpdatedAt, Consent: map[string]stateJSON{}}
	states := ct.States // a contact just written carries them
	if states == nil {
		var err error
		if states, err = s.DB.ContactStates(c.Request().Context(), ct); err != nil {
			return out, err
		}
	}
	for _, ch := range consent.Channels {
		st, ok := states[ch]
		sj := stateJSON{Suppressed: st.Suppressed, Consent: consentWord(ok && !st.Suppressed)}
		if st.Suppressed {
			reason, since := st.Reason, st.Since.UTC()
			sj.Reason, sj.Since = &reason, &since
		}
		out.Consent[ch] = sj
	}
	return out, nil
}

// apiCreateContact adds a contact; 409 when an identifier is taken.
func (s *Handlers) apiCreateContact(c echo.Context) error {
	var req contactRequest
	if err := web.BindJSON(c, &req); err != nil {
		return err
	}
	tenant, err := s.TenantOf(c, req.Customer)
	if err != nil {
		return err
	}
	ct, err := s.DB.CreateContact(c.Request().Context(), web.APIActor(c), tenant, consent.ContactInput{
		Identifiers: req.Identifiers, Name: req.Name, CRMID: req.CRMID}, s.Cfg.Region)
	if err != nil {
		return err
	}
	out, err := s.contactOut(c, ct)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

// maxPurpose bounds the purpose a staff key gives for a read.
const maxPurpose = 200

// contactReader decides whom a read of one contact by id is scoped to, and
// what its audit entry says. A key naming a customer (`customer`, slug or
// id) is held to it: another customer's contact is 404, as for a customer
// Key. A staff key naming none reads across customers, which it must
// justify: the `purpose` parameter or X-Purpose header (for instance a
// request reference) is required then and recorded in the audit entry;
// given otherwise, it is recorded too.
func (s *Handlers) contactReader(c echo.Context) (store.Actor, map[string]any, error) {
	a := web.APIActor(c)
	details := map[string]any{"via": "api"}
	purpose := strings.TrimSpace(c.QueryParam("purpose"))
	if purpose == "" {
		purpose = strings.TrimSpace(c.Request().Header.Get("X-Purpose"))
	}
	if len(purpose) > maxPurpose || strings.ContainsFunc(purpose, unicode.IsControl) {
		return a, nil, &web.APIError{Status: http.StatusBadRequest, Msg: "purpose must be one line of at most 200 characters", Field: "purpose"}
	}
	if purpose != "" {
		details["purpose"] = purpose
	}
	if named := strings.TrimSpace(c.QueryParam("customer")); named != "" {
		tenant, err := s.TenantOf(c, named)
		if err != nil {
			return a, nil, err
		}
		return a.WithinTenant(tenant), details, nil
	}
	if a.Staff() {
		if purpose == "" {
			return a, nil, &web.APIError{Status: http.StatusBadRequest, Field: "purpose",
				Msg: "a staff key reading a contact without naming its customer must give a purpose (purpose parameter or X-Purpose header)"}
		}
		details["across_customers"] = true
	}
	return a, details, nil
}

// apiContact returns one contact; reading it is audited.
func (s *Handlers) apiContact(c echo.Context) error {
	ctx, a := c.Request().Context(), web.APIActor(c)
	reader, details, err := s.contactReader(c)
	if err != nil {
		return err
	}
	ct, err := s.DB.Contact(ctx, reader, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "contact.view", ObjectType: "contact", ObjectID: ct.ID, CustomerID: ct.CustomerID,
		Details: details}); err != nil {
		return err
	}
	out, err := s.contactOut(c, ct)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// apiFindContacts looks contacts up by identifier (?to=) or CRM id
// (?crm_id=), or without either lists the tenant's contacts oldest first,
// keyset-paged (?limit=, ?after=CURSOR; the answer's next is the cursor of
// the following page, null at the end). Every form is audited.
func (s *Handlers) apiFindContacts(c echo.Context) error {
	ctx, a := c.Request().Context(), web.APIActor(c)
	tenant, err := s.TenantOf(c, c.QueryParam("customer"))
	if err != nil {
		return err
	}
	q := c.QueryParams()
	_, byTo := q["to"]
	_, byCRM := q["crm_id"]
	if byTo && byCRM {
		return &web.APIError{Status: http.StatusBadRequest, Msg: "give to or crm_id, not both", Field: "crm_id"}
	}
	if !byTo && !byCRM {
		return s.apiListContacts(c, tenant)
	}
	var cs []consent.Contact
	by := "identifier"
	if byCRM {
		by = "crm_id"
		cs, err = s.DB.ContactsByCRMID(ctx, a, tenant, c.QueryParam("crm_id"))
		if v, bad := errs.AsValidation(err); bad { // a malformed query: 400
			return &web.APIError{Status: http.StatusBadRequest, Msg: v.Error(), Field: v.Field}
		}
	} else {
		cs, err = s.DB.ContactsByIdentifier(ctx, a, tenant, c.QueryParam("to"), s.Cfg.Region)
	}
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "contact.search", ObjectType: "contact", CustomerID: tenant,
		Details: map[string]any{"via": "api", "by": by, "results": len(cs)}}); err != nil {
		return err
	}
	out, err := s.contactsOut(c, cs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"contacts": out})
}

type consentEventJSON struct {
	Kind         string         `json:"kind"`
	Source       string         `json:"source"`
	Evidence     string         `json:"evidence"`
	EvidenceKind *string        `json:"evidence_kind"`
	EvidenceRef  *string        `json:"evidence_ref"`
	CapturedBy   *string        `json:"captured_by"`
	OccurredAt   time.Time      `json:"occurred_at"`
	RecordedAt   time.Time      `json:"recorded_at"`
	Actor        eventActorJSON `json:"actor"`
}

// eventActorJSON is who recorded an event: a user, an API key or the
// system (an import, a reply, a privacy request).
type eventActorJSON struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Label string `json:"label"`
}

// consentEventOut is an event as the API shows it; structured evidence
// not given is null.
func consentEventOut(e *consent.ConsentEvent) consentEventJSON {
	orNull := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	return consentEventJSON{Kind: e.Kind, Source: e.Source, Evidence: e.Evidence, EvidenceKind: orNull(e.EvidenceKind),
		EvidenceRef: orNull(e.EvidenceRef), CapturedBy: orNull(e.CapturedBy), OccurredAt: e.OccurredAt.UTC(),
		RecordedAt: e.RecordedAt.UTC(), Actor: eventActorJSON{Type: e.ActorType, ID: e.ActorID, Label: e.ActorLabel}}
}

// consentAtParams reads at (default now) from the query.
func consentAtParams(c echo.Context) (time.Time, error) {
	if v := c.QueryParam("at"); v != "" {
		return web.ParseTime("at", v)
	}
	return time.Now().UTC(), nil
}

// apiConsentAt answers whether the contact could be messaged at a time.
func (s *Handlers) apiConsentAt(c echo.Context) error {
	at, err := consentAtParams(c)
	if err != nil {
		return err
	}
	reader, details, err := s.contactReader(c)
	if err != nil {
		return err
	}
	return s.answerConsentAt(c, reader, details, c.Param("id"), at, "id")
}

// apiConsentAtByIdentifier answers the same question for the contact that
// has the identifier to (404 when none has it).
func (s *Handlers) apiConsentAtByIdentifier(c echo.Context) error {
	ctx, a := c.Request().Context(), web.APIActor(c)
	at, err := consentAtParams(c)
	if err != nil {
		return err
	}
	if _, err := consent.ParseChannel(c.QueryParam("channel")); err != nil {
		return err
	}
	tenant, err := s.TenantOf(c, c.QueryParam("customer"))
	if err != nil {
		return err
	}
	cs, err := s.DB.ContactsByIdentifier(ctx, a, tenant, c.QueryParam("to"), s.Cfg.Region)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		return echo.NewHTTPError(http.StatusNotFound, "no contact has this identifier")
	}
	return s.answerConsentAt(c, a, map[string]any{"via": "api"}, cs[0].ID, at, "identifier")
}

// answerConsentAt answers for contactID as reader (the key, held to the
// customer it names) and records the read with details.
func (s *Handlers) answerConsentAt(c echo.Context, reader store.Actor, details map[string]any, contactID string, at time.Time, by string) error {
	ctx, a := c.Request().Context(), web.APIActor(c)
	res, err := s.DB.ConsentAtTime(ctx, reader, contactID, at, c.QueryParam("channel"))
	if err != nil {
		return err
	}
	details["at"], details["by"] = at.Format(time.RFC3339), by
	if err := s.DB.Record(ctx, a, store.Audit{Action: "contact.consent_view", ObjectType: "contact", ObjectID: res.ContactID,
		CustomerID: res.CustomerID, Details: details}); err != nil {
		return err
	}
	out := map[string]any{"at": res.At.Format(time.RFC3339), "channel": res.Channel, "contact_id": res.ContactID,
		"suppressed": res.Suppressed, "event": nil, "consent": consentWord(res.OptedIn)}
	if res.Event != nil {
		out["event"] = consentEventOut(res.Event)
	}
	return c.JSON(http.StatusOK, out)
}

// apiListContacts answers one keyset page of the tenant's contacts; the
// read is audited with the page's size and the ids it showed.
func (s *Handlers) apiListContacts(c echo.Context, tenant string) error {
	ctx, a := c.Request().Context(), web.APIActor(c)
	limit := consent.APIContactsDefault
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > consent.APIContactsMax {
			return &web.APIError{Status: http.StatusBadRequest, Msg: "limit must be a whole number from 1 to 1000", Field: "limit"}
		}
		limit = n
	}
	after := ""
	if raw, ok := c.QueryParams()["after"]; ok {
		id, err := consent.DecodeContactCursor(raw[0])
		if v, bad := errs.AsValidation(err); bad { // a malformed query: 400
			return &web.APIError{Status: http.StatusBadRequest, Msg: v.Error(), Field: v.Field}
		}
		after = id
	}
	cs, next, err := s.DB.ContactsPage(ctx, a, tenant, after, limit)
	if err != nil {
		return err
	}
	// The page is the contacts from first to last in id order: the two ids
	// tell exactly which were shown without listing a thousand of them.
	first, last := "", ""
	if len(cs) > 0 {
		first, last = cs[0].ID, cs[len(cs)-1].ID
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "contact.list", ObjectType: "contact", CustomerID: tenant,
		Details: map[string]any{"via": "api", "results": len(cs), "after": after, "first_id": first, "last_id": last}}); err != nil {
		return err
	}
	out, err := s.contactsOut(c, cs)
	if err != nil {
		return err
	}
	var nextCursor *string
	if next != "" {
		cur := consent.EncodeContactCursor(next)
		nextCursor = &cur
	}
	return c.JSON(http.StatusOK, map[string]any{"contacts": out, "next": nextCursor})
}
