package admin

import (
	"github.com/sendara/console/handlers/web"
	errs "github.com/sendara/console/models/errs"
	hooks "github.com/sendara/console/models/hooks"
	"github.com/sendara/console/views/adminpages"

	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
)

// webhookRoutes are a customer admin's webhook endpoints and the changes
// feed of the JSON API.
func (s *Handlers) webhookRoutes() []web.Route {
	get, post := http.MethodGet, http.MethodPost
	read, write := web.Can("webhooks", "read"), web.Can("webhooks", "write")
	return []web.Route{
		{Method: get, Path: "/webhooks", Handler: s.webhooks, Access: web.Permitted, Perm: read},
		{Method: post, Path: "/webhooks", Handler: s.webhookCreate, Access: web.Permitted, Perm: write},
		{Method: get, Path: "/webhooks/:id", Handler: s.webhook, Access: web.Permitted, Perm: read},
		{Method: post, Path: "/webhooks/:id", Handler: s.webhookUpdate, Access: web.Permitted, Perm: write},
		{Method: post, Path: "/webhooks/:id/test", Handler: s.webhookTest, Access: web.Permitted, Perm: write},
		{Method: post, Path: "/webhooks/:id/rotate", Handler: s.webhookRotate, Access: web.Permitted, Perm: write},
		{Method: post, Path: "/webhooks/:id/delete", Handler: s.webhookDelete, Access: web.Permitted, Perm: write},
		{Method: get, Path: "/api/v1/events", Handler: s.apiEvents, Access: web.APIKeyAccess, Perm: web.Can("contacts", "read")},
	}
}

func (s *Handlers) webhooks(c echo.Context) error {
	return s.renderWebhooks(c, http.StatusOK, adminpages.WebhookForm{Enabled: true, EventTypes: []string{hooks.EventOptedOut}})
}

func (s *Handlers) renderWebhooks(c echo.Context, status int, f adminpages.WebhookForm) error {
	a := web.Actor(c)
	endpoints, err := s.DB.WebhookEndpoints(c.Request().Context(), a, a.CustomerID)
	if err != nil {
		return err
	}
	return s.Render(c, status, adminpages.Webhooks(adminpages.WebhookList{Endpoints: endpoints, CanWrite: s.Allowed(c, "webhooks", "write"),
		Form: f, Loc: s.Cfg.Location}))
}

func (s *Handlers) webhookInput(c echo.Context) (hooks.WebhookInput, adminpages.WebhookForm, error) {
	if err := c.Request().ParseForm(); err != nil {
		return hooks.WebhookInput{}, adminpages.WebhookForm{}, echo.NewHTTPError(http.StatusBadRequest, "the form could not be read")
	}
	f := adminpages.WebhookForm{URL: c.FormValue("url"), Description: c.FormValue("description"), Enabled: c.FormValue("enabled") == "yes",
		EventTypes: c.Request().PostForm["event_types"]}
	return hooks.WebhookInput{URL: f.URL, Description: f.Description, Enabled: f.Enabled, EventTypes: f.EventTypes,
		AllowLoopbackHTTP: s.Cfg.WebhookLoopback}, f, nil
}

// webhookCreate shows the new endpoint's secret in the answer to the POST.
func (s *Handlers) webhookCreate(c echo.Context) error {
	a := web.Actor(c)
	in, f, err := s.webhookInput(c)
	if err != nil {
		return err
	}
	e, err := s.DB.CreateWebhookEndpoint(c.Request().Context(), a, a.CustomerID, in)
	if err == nil {
		return s.Render(c, http.StatusOK, adminpages.WebhookSecret(*e, false))
	}
	if f.Errors, err = web.FormErrors(err); err != nil {
		return err
	}
	return s.renderWebhooks(c, http.StatusUnprocessableEntity, f)
}

func (s *Handlers) webhook(c echo.Context) error {
	e, err := s.DB.WebhookEndpoint(c.Request().Context(), web.Actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	// The delivery log shows the payloads: identifiers of contacts.
	if err := s.DB.Record(c.Request().Context(), web.Actor(c), store.Audit{Action: "webhook.view", ObjectType: "webhook_endpoint",
		ObjectID: e.ID, CustomerID: e.CustomerID, Details: map[string]any{"before": c.QueryParam("before")}}); err != nil {
		return err
	}
	return s.renderWebhook(c, http.StatusOK, e, adminpages.WebhookFormOf(e))
}

// webhookLogPage is how many deliveries the endpoint page lists at once.
const webhookLogPage = 50

func (s *Handlers) renderWebhook(c echo.Context, status int, e *hooks.WebhookEndpoint, f adminpages.WebhookForm) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	log, err := s.DB.WebhookLog(ctx, a, e.ID, c.QueryParam("before"), webhookLogPage+1)
	if err != nil {
		return err
	}
	p := adminpages.WebhookPage{Endpoint: *e, Form: f, CanWrite: s.Allowed(c, "webhooks", "write"), Loc: s.Cfg.Location}
	if len(log) > webhookLogPage {
		log = log[:webhookLogPage]
		p.Older = log[len(log)-1].ID
	}
	ids := make([]string, len(log))
	for i, d := range log {
		ids[i] = d.ID
	}
	if p.Attempts, err = s.DB.WebhookAttempts(ctx, a, ids); err != nil {
		return err
	}
	p.Log = log
	return s.Render(c, status, adminpages.Webhook(p))
}

func (s *Handlers) webhookUpdate(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	in, f, err := s.webhookInput(c)
	if err != nil {
		return err
	}
	e, err := s.DB.UpdateWebhookEndpoint(ctx, a, c.Param("id"), in)
	if err == nil {
		s.Flash(c, "Endpoint saved.")
		return web.Redirect(c, "/webhooks/"+e.ID)
	}
	if f.Errors, err = web.FormErrors(err); err != nil {
		return err
	}
	if e, err = s.DB.WebhookEndpoint(ctx, a, c.Param("id")); err != nil {
		return err
	}
	return s.renderWebhook(c, http.StatusUnprocessableEntity, e, f)
}

func (s *Handlers) webhookTest(c echo.Context) error {
	ev, err := s.DB.SendWebhookTest(c.Request().Context(), web.Actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	s.Flash(c, "Test event "+ev.ID+" queued: it appears in the delivery log within seconds.")
	return web.Redirect(c, "/webhooks/"+c.Param("id"))
}

func (s *Handlers) webhookRotate(c echo.Context) error {
	e, err := s.DB.RotateWebhookSecret(c.Request().Context(), web.Actor(c), c.Param("id"), hooks.WebhookSecretOverlap)
	if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, adminpages.WebhookSecret(*e, true))
}

func (s *Handlers) webhookDelete(c echo.Context) error {
	if err := s.DB.DeleteWebhookEndpoint(c.Request().Context(), web.Actor(c), c.Param("id")); err != nil {
		return err
	}
	s.Flash(c, "Endpoint deleted.")
	return web.Redirect(c, "/webhooks")
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
func (s *Handlers) apiEvents(c echo.Context) error {
	tenant, err := s.TenantOf(c, c.QueryParam("customer"))
	if err != nil {
		return err
	}
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return &web.APIError{Status: http.StatusBadRequest, Msg: "limit must be a number from 1 to 500", Field: "limit"}
		}
	}
	page, err := s.DB.EventsFeed(c.Request().Context(), web.APIActor(c), tenant, c.QueryParam("after"), limit)
	if v, ok := errs.AsValidation(err); ok {
		// A cursor the feed did not give out is a malformed query.
		return &web.APIError{Status: http.StatusBadRequest, Msg: v.Error(), Field: v.Field}
	}
	if err != nil {
		return err
	}
	// Events carry contacts' identifiers: each page read is audited.
	if err := s.DB.Record(c.Request().Context(), web.APIActor(c), store.Audit{Action: "contact.feed_read", ObjectType: "contact",
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
