// Package handlers is the console's HTTP layer: the route table, the
// middleware stack and one thin handler per action. Handlers bind and
// validate input, make one model call and render a view or redirect.
package handlers

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/sendara/console/models"
	"github.com/sendara/console/rbac"
)

// Config is what the HTTP layer needs from the configuration.
type Config struct {
	// BaseURL is the console's public address; an https URL makes cookies Secure.
	BaseURL string
	Session models.SessionPolicy
	// Location is the business time zone pages show times in.
	Location *time.Location
	// Region reads phone numbers written without a country code.
	Region string
	// SMTPConfigured says whether outbound mail has a server; without one
	// the outbox page explains that mail is held there.
	SMTPConfigured bool
	// Business is the time zone, holiday calendar and deadline policy that
	// request deadlines are computed with.
	Business models.Business
	// APIRate is each API key's request budget per second; 0 turns the
	// limit off. Suppression checks are never limited.
	APIRate float64
	// TrustedProxies are the load balancers whose X-Forwarded-For is
	// believed; without any, the client is the connection's address.
	TrustedProxies []*net.IPNet
	Log            *slog.Logger
	// WebhookLoopback accepts http://127.0.0.1 webhook endpoints
	// (development and tests); otherwise endpoints must be https.
	WebhookLoopback bool
}

// Server holds the dependencies handlers share.
type Server struct {
	db     *models.DB
	authz  *rbac.Authorizer
	cfg    Config
	log    *slog.Logger
	secret []byte
	secure bool
	limits keyLimits
	usage  usageCounter
	echo   *echo.Echo
}

// New builds the Echo application with every route of the route table.
func New(ctx context.Context, db *models.DB, authz *rbac.Authorizer, cfg Config) (*echo.Echo, error) {
	s, err := NewServer(ctx, db, authz, cfg)
	if err != nil {
		return nil, err
	}
	return s.Handler(), nil
}

// Handler is the Echo application.
func (s *Server) Handler() *echo.Echo { return s.echo }

// NewServer builds the server; its background work (writing out API usage
// counts every minute) lasts as long as ctx. Call FlushUsage once more after
// the HTTP server has shut down.
func NewServer(ctx context.Context, db *models.DB, authz *rbac.Authorizer, cfg Config) (*Server, error) {
	secret, err := db.ServerSecret(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Business.Loc == nil {
		cfg.Business = models.DefaultBusiness()
		if cfg.Location != nil {
			cfg.Business.Loc = cfg.Location
		}
	}
	if cfg.Location == nil {
		cfg.Location = cfg.Business.Loc
	}
	if cfg.Region == "" {
		cfg.Region = "US"
	}
	s := &Server{db: db, authz: authz, cfg: cfg, log: cfg.Log, secret: secret,
		secure: strings.HasPrefix(strings.ToLower(cfg.BaseURL), "https://")}

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
	for _, r := range s.routes() {
		e.Add(r.Method, r.Path, r.Handler, s.guard(r))
	}
	s.echo = e
	go s.flushUsageEvery(ctx, time.Minute)
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
	s.log.Error("panic", "request_id", requestID(c), "path", c.Path(), "err", err, "stack", string(stack))
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
			"request_id", requestID(c), "method", c.Request().Method, "route", c.Path(),
			"status", c.Response().Status, "duration_ms", time.Since(start).Milliseconds(), "ip", c.RealIP(),
		}
		if u := currentUser(c); u != nil {
			attrs = append(attrs, "user", u.ID)
		}
		level := slog.LevelInfo
		if c.Response().Status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(c.Request().Context(), level, "request", attrs...)
		return nil
	}
}

func requestID(c echo.Context) string {
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

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", "err", err)
		return c.String(http.StatusServiceUnavailable, "database unavailable")
	}
	return c.String(http.StatusOK, "ready")
}
