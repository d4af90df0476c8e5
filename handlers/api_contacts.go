package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sendara/console/models"
)

// suppressionJSON is the suppression check's answer (DESIGN §5).
type suppressionJSON struct {
	To         string     `json:"to"`
	Suppressed bool       `json:"suppressed"`
	Reason     *string    `json:"reason"`
	Since      *time.Time `json:"since"`
}

func suppressionOut(s models.Suppression) suppressionJSON {
	out := suppressionJSON{To: s.To, Suppressed: s.Suppressed, Since: s.Since}
	if s.Suppressed {
		out.Reason = &s.Reason
	}
	return out
}

// maxBatch is the most identifiers one batch check may carry.
const maxBatch = 1000

// apiCheckSuppression answers GET /api/v1/suppressions/check?to=.
func (s *Server) apiCheckSuppression(c echo.Context) error {
	if err := validChannel(c.QueryParam("channel")); err != nil {
		return err
	}
	tenant, err := s.tenantOf(c, c.QueryParam("customer"))
	if err != nil {
		return err
	}
	id, err := models.NormalizeIdentifier("to", c.QueryParam("to"), s.cfg.Region)
	if err != nil {
		return err
	}
	res, err := s.db.CheckSuppression(c.Request().Context(), tenant, id, c.QueryParam("channel"))
	if err != nil {
		return err
	}
	s.usage.add(apiKey(c).key.ID, "suppression_check", 1)
	return c.JSON(http.StatusOK, suppressionOut(res))
}

type batchCheckRequest struct {
	To       []string `json:"to"`
	Channel  string   `json:"channel"`
	Customer string   `json:"customer"`
}

// apiCheckSuppressions answers POST /api/v1/suppressions/check with up to
// 1000 identifiers, in the order given.
func (s *Server) apiCheckSuppressions(c echo.Context) error {
	var req batchCheckRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	switch {
	case len(req.To) == 0:
		return &apiError{status: http.StatusBadRequest, msg: "to must list at least one identifier", field: "to"}
	case len(req.To) > maxBatch:
		return &apiError{status: http.StatusBadRequest, msg: "to may list at most 1000 identifiers per call", field: "to"}
	}
	if err := validChannel(req.Channel); err != nil {
		return err
	}
	tenant, err := s.tenantOf(c, req.Customer)
	if err != nil {
		return err
	}
	ids := make([]models.Identifier, len(req.To))
	for i, raw := range req.To {
		if ids[i], err = models.NormalizeIdentifier("to["+strconv.Itoa(i)+"]", raw, s.cfg.Region); err != nil {
			return err
		}
	}
	results, err := s.db.CheckSuppressions(c.Request().Context(), tenant, ids, req.Channel)
	if err != nil {
		return err
	}
	out := make([]suppressionJSON, len(results))
	for i, r := range results {
		out[i] = suppressionOut(r)
	}
	s.usage.add(apiKey(c).key.ID, "suppression_check", int64(len(ids)))
	return c.JSON(http.StatusOK, map[string]any{"results": out})
}

func validChannel(ch string) error {
	switch ch {
	case "", models.ChannelAll, models.ChannelIMessage, models.ChannelFaceTime:
		return nil
	}
	return &apiError{status: http.StatusBadRequest, msg: "channel must be imessage, facetime or all", field: "channel"}
}

type consentRequest struct {
	To         string `json:"to"`
	Channel    string `json:"channel"`
	Source     string `json:"source"`
	Evidence   string `json:"evidence"`
	OccurredAt string `json:"occurred_at"`
	Customer   string `json:"customer"`
}

type consentResponse struct {
	To         string `json:"to"`
	ContactID  string `json:"contact_id"`
	Channel    string `json:"channel"`
	Kind       string `json:"kind"`
	Recorded   bool   `json:"recorded"`
	EventID    string `json:"event_id,omitempty"`
	Suppressed bool   `json:"suppressed"`
}

func (s *Server) apiOptOut(c echo.Context) error { return s.apiConsent(c, models.OptOut) }
func (s *Server) apiOptIn(c echo.Context) error  { return s.apiConsent(c, models.OptIn) }

// apiConsent records an opt-out or opt-in: 201 when it changed the
// person's state, 200 when it was already so. An opt-out that got a 2xx is
// committed: the ledger entry and the lookup are in one transaction.
func (s *Server) apiConsent(c echo.Context, kind string) error {
	ctx, a := c.Request().Context(), apiActor(c)
	var req consentRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	id, err := models.NormalizeIdentifier("to", req.To, s.cfg.Region)
	if err != nil {
		return err
	}
	at, err := parseTime("occurred_at", req.OccurredAt)
	if err != nil {
		return err
	}
	tenant, err := s.tenantOf(c, req.Customer)
	if err != nil {
		return err
	}
	source := req.Source
	if source == "" {
		source = "api"
	}
	res, err := s.db.RecordConsent(ctx, a, tenant, models.ConsentInput{
		To: id.Value, Channel: req.Channel, Kind: kind, Source: source, Evidence: req.Evidence, OccurredAt: at,
	}, s.cfg.Region)
	if err != nil {
		return err
	}
	ct, err := s.db.Contact(ctx, a, res.Contact.ID)
	if err != nil {
		return err
	}
	out := consentResponse{To: id.Value, ContactID: ct.ID, Channel: req.Channel, Kind: kind, Recorded: res.Changed, Suppressed: ct.Suppressed}
	if out.Channel == "" {
		out.Channel = models.ChannelAll
	}
	status := http.StatusOK
	if res.Changed {
		status, out.EventID = http.StatusCreated, res.Event.ID
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
func (s *Server) apiInbound(c echo.Context) error {
	var req inboundRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	at, err := parseTime("received_at", req.ReceivedAt)
	if err != nil {
		return err
	}
	tenant, err := s.tenantOf(c, req.Customer)
	if err != nil {
		return err
	}
	reply, err := s.db.RecordInbound(c.Request().Context(), apiActor(c), tenant, req.From, req.Body, at, s.cfg.Region, s.cfg.Business)
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

type stateJSON struct {
	Suppressed bool       `json:"suppressed"`
	Reason     *string    `json:"reason"`
	Since      *time.Time `json:"since"`
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

func (s *Server) contactOut(c echo.Context, ct *models.Contact) (contactJSON, error) {
	out := contactJSON{ID: ct.ID, Identifiers: ct.Values(), Name: ct.Name, CRMID: ct.CRMID, Restricted: ct.Restricted,
		Suppressed: ct.Suppressed, CreatedAt: ct.CreatedAt, UpdatedAt: ct.UpdatedAt, Consent: map[string]stateJSON{}}
	states, err := s.db.ContactStates(c.Request().Context(), ct)
	if err != nil {
		return out, err
	}
	for _, ch := range models.Channels {
		st := states[ch]
		sj := stateJSON{Suppressed: st.Suppressed}
		if st.Suppressed {
			reason, since := st.Reason, st.Since.UTC()
			sj.Reason, sj.Since = &reason, &since
		}
		out.Consent[ch] = sj
	}
	return out, nil
}

// apiCreateContact adds a contact; 409 when an identifier is taken.
func (s *Server) apiCreateContact(c echo.Context) error {
	var req contactRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	tenant, err := s.tenantOf(c, req.Customer)
	if err != nil {
		return err
	}
	ct, err := s.db.CreateContact(c.Request().Context(), apiActor(c), tenant, models.ContactInput{
		Identifiers: req.Identifiers, Name: req.Name, CRMID: req.CRMID}, s.cfg.Region)
	if err != nil {
		return err
	}
	out, err := s.contactOut(c, ct)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

// apiContact returns one contact; reading it is audited.
func (s *Server) apiContact(c echo.Context) error {
	ctx, a := c.Request().Context(), apiActor(c)
	ct, err := s.db.Contact(ctx, a, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.db.Record(ctx, a, models.Audit{Action: "contact.view", ObjectType: "contact", ObjectID: ct.ID, CustomerID: ct.CustomerID,
		Details: map[string]any{"via": "api"}}); err != nil {
		return err
	}
	out, err := s.contactOut(c, ct)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// apiFindContacts looks a contact up by identifier; the search is audited.
func (s *Server) apiFindContacts(c echo.Context) error {
	ctx, a := c.Request().Context(), apiActor(c)
	tenant, err := s.tenantOf(c, c.QueryParam("customer"))
	if err != nil {
		return err
	}
	cs, err := s.db.ContactsByIdentifier(ctx, a, tenant, c.QueryParam("to"), s.cfg.Region)
	if err != nil {
		return err
	}
	if err := s.db.Record(ctx, a, models.Audit{Action: "contact.search", ObjectType: "contact", CustomerID: tenant,
		Details: map[string]any{"via": "api", "by": "identifier", "results": len(cs)}}); err != nil {
		return err
	}
	out := make([]contactJSON, 0, len(cs))
	for i := range cs {
		cj, err := s.contactOut(c, &cs[i])
		if err != nil {
			return err
		}
		out = append(out, cj)
	}
	return c.JSON(http.StatusOK, map[string]any{"contacts": out})
}

type consentEventJSON struct {
	Kind       string    `json:"kind"`
	Source     string    `json:"source"`
	Evidence   string    `json:"evidence"`
	OccurredAt time.Time `json:"occurred_at"`
}

// apiConsentAt answers whether the contact could be messaged at a time.
func (s *Server) apiConsentAt(c echo.Context) error {
	ctx, a := c.Request().Context(), apiActor(c)
	at := time.Now().UTC()
	if v := c.QueryParam("at"); v != "" {
		var err error
		if at, err = parseTime("at", v); err != nil {
			return err
		}
	}
	res, err := s.db.ConsentAtTime(ctx, a, c.Param("id"), at, c.QueryParam("channel"))
	if err != nil {
		return err
	}
	if err := s.db.Record(ctx, a, models.Audit{Action: "contact.consent_view", ObjectType: "contact", ObjectID: res.ContactID,
		CustomerID: res.CustomerID, Details: map[string]any{"via": "api", "at": at.Format(time.RFC3339)}}); err != nil {
		return err
	}
	out := map[string]any{"at": res.At.Format(time.RFC3339), "channel": res.Channel, "suppressed": res.Suppressed, "event": nil}
	if res.Event != nil {
		out["event"] = consentEventJSON{Kind: res.Event.Kind, Source: res.Event.Source, Evidence: res.Event.Evidence, OccurredAt: res.Event.OccurredAt.UTC()}
	}
	return c.JSON(http.StatusOK, out)
}
