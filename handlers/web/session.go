package web

import (
	accounts "github.com/sendara/console/models/accounts"
	customers "github.com/sendara/console/models/customers"

	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/rbac"
)

// Cookie names. The session cookie's name is part of the interface contract.
const (
	SessionCookie = "console_session"
	csrfCookie    = "console_csrf"
	flashCookie   = "console_flash"
	csrfField     = "_csrf"
	csrfHeader    = "X-CSRF-Token"
)

// RequestState is what the middleware learns about a request: the session and
// its user, the CSRF token for forms, a flash message. It travels in the
// request's context so templ components can read it too.
type RequestState struct {
	Token    string // session cookie value
	Session  *accounts.Session
	User     *accounts.User
	csrf     string // the token this page's forms carry
	anonCSRF string // the token bound to the pre-session cookie
	flash    string
	// customer is the signed-in customer user's tenant, loaded for pages.
	customer *customers.Customer
}

type stateKey struct{}

func State(c echo.Context) *RequestState {
	if s, ok := c.Request().Context().Value(stateKey{}).(*RequestState); ok {
		return s
	}
	return &RequestState{}
}

// CurrentUser is the signed-in user, or nil.
func CurrentUser(c echo.Context) *accounts.User { return State(c).User }

// Actor is the signed-in user acting from the request's address.
func Actor(c echo.Context) store.Actor {
	if u := CurrentUser(c); u != nil {
		return u.Actor(c.RealIP())
	}
	return store.Public("", "not signed in", c.RealIP())
}

// loadSession reads the session cookie (if any) and the flash message and
// puts both in the request's context.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if skipsSession(c.Path()) {
			return next(c)
		}
		st := &RequestState{}
		if ck, err := c.Cookie(SessionCookie); err == nil && ck.Value != "" {
			sess, u, err := s.DB.LoadSession(c.Request().Context(), ck.Value, s.Cfg.Session)
			switch {
			case err == nil:
				st.Token, st.Session, st.User = ck.Value, sess, u
			case errors.Is(err, accounts.ErrNoSession):
				s.ClearCookie(c, SessionCookie)
			default:
				return err
			}
		}
		if ck, err := c.Cookie(flashCookie); err == nil {
			st.flash, _ = url.QueryUnescape(ck.Value)
			s.ClearCookie(c, flashCookie)
		}
		c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), stateKey{}, st)))
		return next(c)
	}
}

// prepareCSRF works out the request's CSRF tokens: one bound to the
// Session when there is one, and one bound to a random pre-session cookie
// (set on the first safe request) for the sign-in forms. The guard checks
// them; pages embed st.csrf in every form and in htmx's X-CSRF-Token header.
func (s *Server) prepareCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if skipsSession(c.Path()) {
			return next(c)
		}
		st := State(c)
		if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
			st.anonCSRF = s.csrfToken("a:" + ck.Value)
		} else if isSafe(c.Request().Method) {
			nonce := randomString()
			s.SetCookie(c, csrfCookie, nonce, 0)
			st.anonCSRF = s.csrfToken("a:" + nonce)
		}
		st.csrf = st.anonCSRF
		if st.Session != nil {
			st.csrf = s.csrfToken("s:" + st.Token)
		}
		return next(c)
	}
}

// verifyCSRF requires, on a state-changing request, the token sent as the
// _csrf form field or the X-CSRF-Token header. Signed-in routes accept only
// the session's token; public forms (sign-in, invitations) also accept the
// pre-session one, so a browser with an old session can still sign in.
func (s *Server) verifyCSRF(c echo.Context, publicRoute bool) error {
	if isSafe(c.Request().Method) {
		return nil
	}
	st := State(c)
	sent := c.Request().Header.Get(csrfHeader)
	if sent == "" {
		sent = c.FormValue(csrfField)
	}
	valid := st.Session != nil && hmac.Equal([]byte(sent), []byte(st.csrf))
	if !valid && (publicRoute || st.Session == nil) && st.anonCSRF != "" {
		valid = hmac.Equal([]byte(sent), []byte(st.anonCSRF))
	}
	if !valid {
		return echo.NewHTTPError(http.StatusForbidden, "This form has expired or was sent from another site. Reload the page and try again.")
	}
	return nil
}

// skipsSession lists the routes that never use a session or CSRF token:
// health checks, static assets, and the API (bearer keys, which browsers
// never attach on their own).
func skipsSession(path string) bool {
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/static/") || path == "/healthz" || path == "/readyz"
}

func (s *Server) csrfToken(binding string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("csrf|" + binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func isSafe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) SetCookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// ClearCookie removes the named cookie from the browser.
func (s *Server) ClearCookie(c echo.Context, name string) { s.SetCookie(c, name, "", -1) }

// Flash shows msg on the next page the browser loads.
func (s *Server) Flash(c echo.Context, msg string) {
	s.SetCookie(c, flashCookie, url.QueryEscape(msg), 60)
}

// Redirect answers 303 (after a POST) or, for an htmx fragment request,
// asks htmx to navigate. A boosted form gets the plain 303: htmx follows it
// and swaps the new page in without a full reload.
func Redirect(c echo.Context, to string) error {
	h := c.Request().Header
	if h.Get("HX-Request") == "true" && h.Get("HX-Boosted") != "true" {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// access says who may reach a route.
type access int

const (
	// Public routes need nothing: health checks, static files, sign-in.
	Public access = iota
	// PartialSession routes need a session that may still owe its second
	// factor: the TOTP steps and sign-out.
	PartialSession
	// Permitted routes need a full session and the route's permission.
	Permitted
	// APIKeyAccess routes need a bearer API key whose role holds the
	// Route's permission.
	APIKeyAccess
)

// guard enforces a route's access: deny by default, Casbin for everything
// that is not public.
func (s *Server) guard(r Route) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !skipsSession(r.Path) {
				if err := s.verifyCSRF(c, r.Access == Public); err != nil {
					return err
				}
			}
			switch r.Access {
			case Public:
				return next(c)
			case APIKeyAccess:
				if isAPIWrite(r) {
					release, err := s.admitWrite(c)
					if err != nil {
						return err
					}
					defer release()
				}
				if err := s.authenticateKey(c, r); err != nil {
					return err
				}
				return s.idempotent(c, next)
			}
			st := State(c)
			if st.Session == nil {
				return Redirect(c, "/login?next="+url.QueryEscape(LocalPath(c.Request().URL.RequestURI())))
			}
			if r.Access == PartialSession {
				return next(c)
			}
			if !st.Session.MFAPassed {
				return Redirect(c, SecondFactorPath(st.User))
			}
			if err := s.authz.Sync(st.User.ID, st.User.Roles); err != nil {
				return err
			}
			if !s.authz.Allowed(st.User.ID, rbac.Domain(Actor(c)), r.Perm) {
				// A refused attempt is evidence too (a denied export, a
				// page beyond the role): on the log, in the user's tenant.
				a := Actor(c)
				if err := s.DB.Record(c.Request().Context(), a, store.Audit{Action: "access.denied", ObjectType: "route",
					ObjectID: r.Method + " " + r.Path, CustomerID: a.CustomerID,
					Details: map[string]any{"permission": r.Perm.Object + ":" + r.Perm.Action}}); err != nil {
					return err
				}
				return echo.NewHTTPError(http.StatusForbidden, "Your role does not allow this.")
			}
			return next(c)
		}
	}
}

// SecondFactorPath is where a session that owes its second factor goes.
func SecondFactorPath(u *accounts.User) string {
	if u.HasTOTP() {
		return "/login/totp"
	}
	return "/login/totp/enrol"
}

// LocalPath keeps a redirect target on this site. It accepts only what
// parses as a path on this origin, with no scheme, host or user, written in
// printable ASCII without backslashes: browsers drop a tab or newline (so
// "/\t/evil" becomes "//evil") and read a backslash as a slash. The same
// characters percent-encoded are refused too, at any depth of encoding,
// since a proxy or a later hop may decode them. Anything else is "/".
func LocalPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "/"
	}
	for i := 0; i < len(p); i++ {
		if b := p[i]; b < 0x21 || b > 0x7e || b == '\\' {
			return "/"
		}
	}
	if u, err := url.Parse(p); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	for dec := p; ; {
		next, err := url.PathUnescape(dec)
		if err != nil || strings.HasPrefix(next, "//") || strings.ContainsFunc(next, func(r rune) bool {
			return r < 0x20 || r == 0x7f || r == '\\'
		}) {
			return "/"
		}
		if next == dec {
			return p
		}
		dec = next
	}
}
