package web

import (
	"time"

	consent "github.com/sendara/console/models/consent"
	customers "github.com/sendara/console/models/customers"
	errs "github.com/sendara/console/models/errs"

	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/rbac"
	"github.com/sendara/console/static"
	"github.com/sendara/console/views"
)

// Render writes a component as the response. It renders into a buffer
// first, so a failed render is still a clean 500, and it gives the
// component the page context (CSRF token, user, navigation).
func (s *Server) Render(c echo.Context, status int, comp templ.Component) error {
	ctx := views.WithRequest(c.Request().Context(), s.pageContext(c))
	var buf bytes.Buffer
	if err := comp.Render(ctx, &buf); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

func (s *Server) pageContext(c echo.Context) *views.Request {
	st := State(c)
	r := &views.Request{CSRF: st.csrf, Flash: st.flash, Path: c.Request().URL.Path}
	u := st.User
	if u == nil || st.Session == nil || !st.Session.MFAPassed {
		return r
	}
	r.UserName, r.UserEmail, r.RoleLabel = u.Name, u.Email, u.Role().Label()
	if u.CustomerID != nil {
		if cust, err := s.DB.Customer(c.Request().Context(), Actor(c), *u.CustomerID); err == nil {
			r.Tenant = cust.Name
		}
	}
	domain := rbac.Domain(Actor(c))
	for _, n := range navigation {
		if s.authz.Allowed(u.ID, domain, n.Perm) {
			r.Nav = append(r.Nav, views.NavLink{Label: n.Label, Href: n.Href})
		}
	}
	return r
}

// Allowed reports whether the signed-in user holds perm, for showing or
// hiding actions on a page (the routes enforce it regardless).
func (s *Server) Allowed(c echo.Context, object, action string) bool {
	u := CurrentUser(c)
	return u != nil && s.authz.Allowed(u.ID, rbac.Domain(Actor(c)), Can(object, action))
}

// handleError turns any error into a response: JSON under /api, a page
// elsewhere. People see a clear message; logs see the cause.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg, field := classify(err)
	if a := notFoundActor(c); a != nil && errors.Is(err, store.ErrNotFound) && c.Param("id") != "" {
		// Another tenant's object answers 404 like an absent one; the
		// attempt is still on the log, in the user's (or key's) tenant.
		if rerr := s.DB.Record(c.Request().Context(), *a, store.Audit{Action: "access.not_found", ObjectType: "route",
			ObjectID: c.Param("id"), CustomerID: a.CustomerID,
			Details: map[string]any{"route": c.Request().Method + " " + c.Path()}}); rerr != nil {
			s.Log.Error("record a refused object", "request_id", RequestID(c), "err", rerr)
		}
	}
	api := strings.HasPrefix(c.Request().URL.Path, "/api/")
	if _, invalid := errs.AsValidation(err); invalid && api && field != "" && !identifierField(field) {
		// A malformed identifier is 400 (DESIGN §5); a well-formed request
		// that breaks a rule (an opt-in without evidence) is 422.
		status = http.StatusUnprocessableEntity
	}
	if errors.Is(err, consent.ErrSuppressionsUnavailable) {
		s.Log.Error("request failed", "request_id", RequestID(c), "route", c.Path(), "err", err)
		c.Response().Header().Set("Retry-After", "5")
	} else if status >= 500 {
		s.Log.Error("request failed", "request_id", RequestID(c), "route", c.Path(), "err", err)
		msg = "Something went wrong on our side. The error was logged with request id " + RequestID(c) + "."
	}
	if api {
		body := map[string]any{"error": msg, "code": apiErrorCode(status, field), "request_id": RequestID(c)}
		if field != "" {
			body["field"] = field
		}
		_ = c.JSON(status, body)
		return
	}
	signedIn := State(c).Session != nil && State(c).Session.MFAPassed
	if rerr := s.Render(c, status, views.ErrorPage(status, msg, signedIn)); rerr != nil {
		s.Log.Error("render error page", "err", rerr)
		_ = c.String(status, msg)
	}
}

// notFoundActor is whom a 404 for an object id is logged as: the
// signed-in user, or the API key that asked.
func notFoundActor(c echo.Context) *store.Actor {
	if CurrentUser(c) != nil {
		a := Actor(c)
		return &a
	}
	if k := APIKey(c); k != nil {
		a := APIActor(c)
		return &a
	}
	return nil
}

// classify maps an error to a status, a message for people and the field
// it concerns.
func classify(err error) (int, string, string) {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status, ae.Msg, ae.Field
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg, ok := he.Message.(string)
		if !ok || he.Code == http.StatusNotFound {
			msg = http.StatusText(he.Code)
		}
		if he.Code == http.StatusNotFound {
			msg = "There is nothing at this address, or you may not see it."
		}
		return he.Code, msg, ""
	}
	if v, ok := errs.AsValidation(err); ok {
		return http.StatusBadRequest, v.Error(), v.Field
	}
	if cf, ok := errs.AsConflict(err); ok {
		return http.StatusConflict, cf.Message, cf.Field
	}
	var rl *store.RateLimitError
	if errors.As(err, &rl) {
		return http.StatusTooManyRequests, rl.Error(), ""
	}
	if errors.Is(err, store.ErrNotFound) {
		return http.StatusNotFound, "There is nothing at this address, or you may not see it.", ""
	}
	if errors.Is(err, context.Canceled) {
		return 499, "request cancelled", ""
	}
	if errors.Is(err, consent.ErrSuppressionsUnavailable) {
		return http.StatusServiceUnavailable, "suppression checks are unavailable: the database has been unreachable for longer than the in-memory answers may be trusted; do not send, retry shortly", ""
	}
	return http.StatusInternalServerError, "internal error", ""
}

// apiErrorCode is the stable code of an API error's kind, for callers to
// branch on (the message is for people and may be reworded).
func apiErrorCode(status int, field string) string {
	base, _, _ := strings.Cut(field, "[")
	switch {
	case status == http.StatusBadRequest && (base == "to" || base == "from" || base == "identifiers"):
		return "invalid_identifier"
	case status == http.StatusBadRequest:
		return "malformed_request"
	case status == http.StatusUnauthorized:
		return "unauthenticated"
	case status == http.StatusForbidden:
		return "forbidden"
	case status == http.StatusNotFound:
		return "not_found"
	case status == http.StatusConflict:
		return "conflict"
	case status == http.StatusUnprocessableEntity:
		return "rule_violated"
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status == http.StatusRequestEntityTooLarge:
		return "too_large"
	case status >= 500:
		return "internal"
	}
	return "error"
}

// identifierField reports whether a field carries identifiers (to,
// to[3], from, identifiers[0]) or is a malformed-request field.
func identifierField(field string) bool {
	base, _, _ := strings.Cut(field, "[")
	switch base {
	case "to", "from", "identifiers", "at", "occurred_at", "received_at", "channel", "customer":
		return true
	}
	return false
}

// FormErrors turns a model error into messages beside form fields. Errors
// that are not about input are returned for handleError.
func FormErrors(err error) (views.Errors, error) {
	if v, ok := errs.AsValidation(err); ok {
		// A list field's item (identifiers[1]) is shown beside the list,
		// counting entries from one as people do.
		if base, idx, ok := strings.Cut(v.Field, "["); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			return views.Errors{base: fmt.Sprintf("entry %d: %s", n+1, v.Message)}, nil
		}
		return views.Errors{v.Field: v.Message}, nil
	}
	if cf, ok := errs.AsConflict(err); ok {
		return views.Errors{cf.Field: cf.Message}, nil
	}
	return nil, err
}

func (s *Server) staticFiles() echo.HandlerFunc {
	sub, _ := fs.Sub(static.FS, ".")
	files := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return func(c echo.Context) error {
		if strings.HasSuffix(c.Request().URL.Path, "/") {
			return echo.ErrNotFound
		}
		c.Response().Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// CustomerChoices lists customers for staff forms: every customer by id for
// labels, and the active ones to choose from.
func (s *Server) CustomerChoices(c echo.Context) (map[string]string, []customers.Customer, error) {
	cs, err := s.DB.Customers(c.Request().Context(), Actor(c))
	if err != nil {
		return nil, nil, err
	}
	names := make(map[string]string, len(cs))
	var active []customers.Customer
	for _, cust := range cs {
		names[cust.ID] = cust.Name
		if cust.Status == customers.CustomerActive {
			active = append(active, cust)
		}
	}
	return names, active, nil
}

// AbsURL makes a link for people to follow from outside the console.
func (s *Server) AbsURL(path string) string {
	return strings.TrimRight(s.Cfg.BaseURL, "/") + path
}

// LocalTime reads a datetime-local value in the business time zone.
func (s *Server) LocalTime(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, v, s.Cfg.Location); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errs.Invalid(field, "must be a date and time like 2026-03-31T14:30")
}
