package handlers

import (
	errs "github.com/sendara/console/models/errs"
	hooks "github.com/sendara/console/models/hooks"

	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/views"
)

// webhookRoutes are a customer admin's webhook endpoints and the changes
// feed of the JSON API.
func (s *Server) webhookRoutes() []route {
	get, post := http.MethodGet, http.MethodPost
	read, write := can("webhooks", "read"), can("webhooks", "write")
	return []route{
		{Method: get, Path: "/webhooks", Handler: s.webhooks, Access: permitted, Perm: read},
		{Method: post, Path: "/webhooks", Handler: s.webhookCreate, Access: permitted, Perm: write},
		{Method: get, Path: "/webhooks/:id", Handler: s.webhook, Access: permitted, Perm: read},
		{Method: post, Path: "/webhooks/:id", Handler: s.webhookUpdate, Access: permitted, Perm: write},
		{Method: post, Path: "/webhooks/:id/test", Handler: s.webhookTest, Access: permitted, Perm: write},
		{Method: post, Path: "/webhooks/:id/rotate", Handler: s.webhookRotate, Access: permitted, Perm: write},
		{Method: post, Path: "/webhooks/:id/delete", Handler: s.webhookDelete, Access: permitted, Perm: write},
		{Method: get, Path: "/api/v1/events", Handler: s.apiEvents, Access: apiKeyAccess, Perm: can("contacts", "read")},
	}
}

func (s *Server) webhooks(c echo.Context) error {
	return s.renderWebhooks(c, http.StatusOK, views.WebhookForm{Enabled: true, EventTypes: []string{hooks.EventOptedOut}})
}

func (s *Server) renderWebhooks(c echo.Context, status int, f views.WebhookForm) error {
	a := actor(c)
	endpoints, err := s.db.WebhookEndpoints(c.Request().Context(), a, a.CustomerID)
	if err != nil {
		return err
	}
	return s.render(c, status, views.Webhooks(views.WebhookList{Endpoints: endpoints, CanWrite: s.allowed(c, "webhooks", "write"),
		Form: f, Loc: s.cfg.Location}))
}

func (s *Server) webhookInput(c echo.Context) (hooks.WebhookInput, views.WebhookForm, error) {
	if err := c.Request().ParseForm(); err != nil {
		return hooks.WebhookInput{}, views.WebhookForm{}, echo.NewHTTPError(http.StatusBadRequest, "the form could not be read")
	}
	f := views.WebhookForm{URL: c.FormValue("url"), Description: c.FormValue("description"), Enabled: c.FormValue("enabled") == "yes",
		EventTypes: c.Request().PostForm["event_types"]}
	return hooks.WebhookInput{URL: f.URL, Description: f.Description, Enabled: f.Enabled, EventTypes: f.EventTypes,
		AllowLoopbackHTTP: s.cfg.WebhookLoopback}, f, nil
}

// webhookCreate shows the new endpoint's secret in the answer to the POST.
func (s *Server) webhookCreate(c echo.Context) error {
	a := actor(c)
	in, f, err := s.webhookInput(c)
	if err != nil {
		return err
	}
	e, err := s.db.CreateWebhookEndpoint(c.Request().Context(), a, a.CustomerID, in)
	if err == nil {
		return s.render(c, http.StatusOK, views.WebhookSecret(*e, false))
	}
	if f.Errors, err = formErrors(err); err != nil {
		return err
	}
	return s.renderWebhooks(c, http.StatusUnprocessableEntity, f)
}

func (s *Server) webhook(c echo.Context) error {
	e, err := s.db.WebhookEndpoint(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	// The delivery log shows the payloads: identifiers of contacts.
	if err := s.db.Record(c.Request().Context(), actor(c), store.Audit{Action: "webhook.view", ObjectType: "webhook_endpoint",
		ObjectID: e.ID, CustomerID: e.CustomerID, Details: map[string]any{"before": c.QueryParam("before")}}); err != nil {
		return err
	}
	return s.renderWebhook(c, http.StatusOK, e, views.WebhookFormOf(e))
}

// webhookLogPage is how many deliveries the endpoint page lists at once.
const webhookLogPage = 50

func (s *Server) renderWebhook(c echo.Context, status int, e *hooks.WebhookEndpoint, f views.WebhookForm) error {
	ctx, a := c.Request().Context(), actor(c)
	log, err := s.db.WebhookLog(ctx, a, e.ID, c.QueryParam("before"), webhookLogPage+1)
	if err != nil {
		return err
	}
	p := views.WebhookPage{Endpoint: *e, Form: f, CanWrite: s.allowed(c, "webhooks", "write"), Loc: s.cfg.Location}
	if len(log) > webhookLogPage {
		log = log[:webhookLogPage]
		p.Older = log[len(log)-1].ID
	}
	ids := make([]string, len(log))
	for i, d := range log {
		ids[i] = d.ID
	}
	if p.Attempts, err = s.db.WebhookAttempts(ctx, a, ids); err != nil {
		return err
	}
	p.Log = log
	return s.render(c, status, views.Webhook(p))
}

func (s *Server) webhookUpdate(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	in, f, err := s.webhookInput(c)
	if err != nil {
		return err
	}
	e, err := s.db.UpdateWebhookEndpoint(ctx, a, c.Param("id"), in)
	if err == nil {
		s.flash(c, "Endpoint saved.")
		return redirect(c, "/webhooks/"+e.ID)
	}
	if f.Errors, err = formErrors(err); err != nil {
		return err
	}
	if e, err = s.db.WebhookEndpoint(ctx, a, c.Param("id")); err != nil {
		return err
	}
	return s.renderWebhook(c, http.StatusUnprocessableEntity, e, f)
}

func (s *Server) webhookTest(c echo.Context) error {
	ev, err := s.db.SendWebhookTest(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	s.flash(c, "Test event "+ev.ID+" queued: it appears in the delivery log within seconds.")
	return redirect(c, "/webhooks/"+c.Param("id"))
}

func (s *Server) webhookRotate(c echo.Context) error {
	e, err := s.db.RotateWebhookSecret(c.Request().Context(), actor(c), c.Param("id"), hooks.WebhookSecretOverlap)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.WebhookSecret(*e, true))
}

func (s *Server) webhookDelete(c echo.Context) error {
	if err := s.db.DeleteWebhookEndpoint(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	s.flash(c, "Endpoint deleted.")
	return redirect(c, "/webhooks")
}

// feedEvent is one event of GET /api/v1/events: the webhook payload's
// fields with the event's id.
type feedEvent struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// apiEvents is the changes feed: consent and contact events after a
// cursor, in commit order, for polling integrations.
func (s *Server) apiEvents(c echo.Context) error {
	tenant, err := s.tenantOf(c, c.QueryParam("customer"))
	if err != nil {
		return err
	}
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return &apiError{status: http.StatusBadRequest, msg: "limit must be a number from 1 to 500", field: "limit"}
		}
	}
	page, err := s.db.EventsFeed(c.Request().Context(), apiActor(c), tenant, c.QueryParam("after"), limit)
	if v, ok := errs.AsValidation(err); ok {
		// A cursor the feed did not give out is a malformed query.
		return &apiError{status: http.StatusBadRequest, msg: v.Error(), field: v.Field}
	}
	if err != nil {
		return err
	}
	// Events carry contacts' identifiers: each page read is audited.
	if err := s.db.Record(c.Request().Context(), apiActor(c), store.Audit{Action: "contact.feed_read", ObjectType: "contact",
		CustomerID: tenant, Details: map[string]any{"after": c.QueryParam("after"), "events": len(page.Events)}}); err != nil {
		return err
	}
	out := struct {
		Events  []feedEvent `json:"events"`
		Next    string      `json:"next"`
		HasMore bool        `json:"has_more"`
	}{Events: []feedEvent{}, Next: page.Next, HasMore: page.HasMore}
	for _, ev := range page.Events {
		var p feedEvent
		if err := json.Unmarshal([]byte(ev.Payload), &p); err != nil {
			return err
		}
		p.ID = ev.ID
		out.Events = append(out.Events, p)
	}
	return c.JSON(http.StatusOK, out)
}
