// Package web is the core every area of the HTTP layer builds on: the
// server and its middleware (sessions, CSRF, the Casbin guard, API keys,
// rate limits, idempotency), rendering and error pages, and the shape of a
// route. It knows no area; the areas (admin, cases, contacts, api,
// lifecycle) import it, and package handlers puts them together.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/sendara/console/mailbox"
	"github.com/sendara/console/models"
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"
	"github.com/sendara/console/rbac"
)

// Config is what the HTTP layer needs from the configuration.
type Config struct {
	// BaseURL is the console's public address; an https URL makes cookies Secure.
	BaseURL string
	Session accounts.SessionPolicy
	// Location is the business time zone pages show times in.
	Location *time.Location
	// Region reads phone numbers written without a country code.
	Region string
	// SMTPConfigured says whether outbound mail has a server; without one
	// the outbox page explains that mail is held there.
	SMTPConfigured bool
	// Business is the time zone, holiday calendar and deadline policy that
	// request deadlines are computed with.
	Business calendar.Business
	// APIRate is each API key's request budget per second; 0 turns the
	// limit off. Suppression checks are never limited.
	APIRate float64
	// APIMaxWrites bounds the API writes in flight on this instance; a
	// write beyond it is answered 503 with Retry-After at once instead of
	// queueing for the database. 0: no bound.
	APIMaxWrites int
	// TrustedProxies are the load balancers whose X-Forwarded-For is
	// believed; without any, the client is the connection's address.
	TrustedProxies []*net.IPNet
	// MailLimits bound the .eml uploads per message sender and in all, as
	// the SMTP receiver does; zero fields take mailbox.DefaultLimits.
	MailLimits mailbox.Limits
	Log        *slog.Logger
	// ReadinessProbe replaces the write that /readyz tries (tests inject
	// a failing or a stalled writer); nil: models.DB.ProbeWrite.
	ReadinessProbe func(context.Context) error
	// WebhookLoopback accepts http://127.0.0.1 webhook endpoints
	// (development and tests); otherwise endpoints must be https.
	WebhookLoopback bool
}

// Server holds the dependencies handlers share.
type Server struct {
	DB     *models.DB // the store; areas call the models through it
	authz  *rbac.Authorizer
	Cfg    Config       // the configuration handlers read (zone, region, base URL)
	Log    *slog.Logger // structured log; never personal data
	secret []byte
	secure bool
	Limits keyLimits        // per-key API rate limits, and the throttles areas take (status page replies)
	Mail   *mailbox.Limiter // .eml uploads
	Usage  usageCounter     // API calls and checks per key, written out every minute
	ready  *readiness
	writes chan struct{} // one token per API write in flight; nil: unbounded
	echo   *echo.Echo
}

// Handler is the Echo application.
func (s *Server) Handler() *echo.Echo { return s.echo }

// Assemble builds the server with the route table that table returns; its
// background work (writing out API usage counts every minute) lasts as long
// as ctx. Call FlushUsage once more after the HTTP server has shut down.
func Assemble(ctx context.Context, db *models.DB, authz *rbac.Authorizer, cfg Config, table func(*Server) []Route) (*Server, error) {
	secret, err := db.ServerSecret(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Business.Loc == nil {
		cfg.Business = db.Business()
		if cfg.Location != nil {
			cfg.Business.Loc = cfg.Location
		}
	}
	if cfg.Location == nil {
		cfg.Location = cfg.Business.Loc
	}
	if cfg.Region == "" {
		cfg.Region = db.Region()
	}
	s := &Server{DB: db, authz: authz, Cfg: cfg, Log: cfg.Log, secret: secret, Mail: mailbox.NewLimiter(cfg.MailLimits),
		secure: strings.HasPrefix(strings.ToLower(cfg.BaseURL), "https://")}
	db.UseStatusLinks(s.statusLink)
	probe := cfg.ReadinessProbe
	if probe == nil {
		probe = db.ProbeWrite
	}
	if cfg.APIMaxWrites > 0 {
		s.writes = make(chan struct{}, cfg.APIMaxWrites)
	}
	s.ready = &readiness{probe: probe, timeout: readinessTimeout, cache: readinessCache, grace: readinessGrace}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = clientIP(cfg.TrustedProxies)
	e.Use(
		middleware.RecoverWithConfig(middleware.RecoverConfig{LogErrorFunc: s.logPanic}),
		middleware.RequestID(),
		s.logRequests,
		s.securityHeaders,
		// Forms and API calls are small; a CSV upload streams to the
		// database in chunks and may be large.
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "10M", Skipper: isImportUpload}),
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "1G", Skipper: func(c echo.Context) bool { return !isImportUpload(c) }}),
		s.loadSession,
		s.prepareCSRF,
	)
	for _, r := range table(s) {
		e.Add(r.Method, r.Path, r.Handler, s.guard(r))
	}
	s.echo = e
	go s.flushUsageEvery(ctx, time.Minute)
	go s.sweepIdempotencyEvery(ctx, time.Hour)
	return s, nil
}

func isImportUpload(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && c.Path() == "/imports"
}

// clientIP decides where a request's client address comes from: the
// connection, or X-Forwarded-For as far back as the trusted proxies go.
// Sign-in throttling and the audit log depend on it.
func clientIP(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func (s *Server) logPanic(c echo.Context, err error, stack []byte) error {
	s.Log.Error("panic", "request_id", RequestID(c), "path", c.Path(), "err", err, "stack", string(stack))
	return err
}

// logRequests writes one structured line per request. It logs the route
// pattern, not the raw URL, so identifiers in paths and query strings
// (emails, phone numbers, tokens) stay out of the logs.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		attrs := []any{
			"request_id", RequestID(c), "method", c.Request().Method, "route", c.Path(),
			"status", c.Response().Status, "duration_ms", time.Since(start).Milliseconds(), "ip", c.RealIP(),
		}
		if u := CurrentUser(c); u != nil {
			attrs = append(attrs, "user", u.ID)
		}
		level := slog.LevelInfo
		if c.Response().Status >= 500 {
			level = slog.LevelError
		}
		s.Log.Log(c.Request().Context(), level, "request", attrs...)
		return nil
	}
}

// RequestID is the request's id, as logged and returned in API errors.
func RequestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// contentSecurityPolicy forbids inline scripts and styles and framing; all
// assets are served from the console itself.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		return next(c)
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}

// Readiness: /readyz answers whether a write can succeed now. The probe
// is one small write with a short timeout; its verdict is cached briefly so
// a load balancer polling every instance often costs little. A probe that
// merely timed out (every connection busy, a writer holding SQLite's lock)
// keeps the instance ready while a write succeeded within the grace period:
// a busy instance is working, and taking it out would move its load onto the
// others. A probe that failed (disk full, read-only database, database
// gone) makes it unready at once.
const (
	readinessTimeout = time.Second
	readinessCache   = time.Second
	readinessGrace   = 15 * time.Second
)

type readiness struct {
	probe                 func(context.Context) error
	timeout, cache, grace time.Duration

	mu      sync.Mutex // one probe at a time; callers meanwhile wait for its verdict
	checked time.Time
	lastOK  time.Time
	err     error // the verdict: nil when ready
}

func (r *readiness) check(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.checked.IsZero() && time.Since(r.checked) < r.cache {
		return r.err
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
	defer cancel()
	err := r.probe(pctx)
	now := time.Now()
	switch {
	case err == nil:
		r.lastOK, r.err = now, nil
	case pctx.Err() != nil && !r.lastOK.IsZero() && now.Sub(r.lastOK) < r.grace:
		r.err = nil
	case pctx.Err() != nil:
		r.err = fmt.Errorf("no write succeeded for %s: %w", r.grace, err)
	default:
		r.err = err
	}
	r.checked = now
	return r.err
}

func (s *Server) readyz(c echo.Context) error {
	if err := s.ready.check(c.Request().Context()); err != nil {
		s.Log.Warn("readiness check failed", "err", err)
		return c.String(http.StatusServiceUnavailable, "database unavailable")
	}
	return c.String(http.StatusOK, "ready")
}

// statusLink is the URL of a requester's status page.
func (s *Server) statusLink(token string) string { return s.AbsURL("/my-request/" + token) }
