package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	accounts "github.com/sendara/console/models/accounts"
	store "github.com/sendara/console/models/store"
	"golang.org/x/time/rate"
)

// apiKeyState is what the API guard learns about a request's key.
type apiKeyState struct {
	key   *accounts.APIKey
	actor store.Actor
}

type apiKeyCtx struct{}

func apiKey(c echo.Context) *apiKeyState {
	s, _ := c.Request().Context().Value(apiKeyCtx{}).(*apiKeyState)
	return s
}

// apiActor is the key acting from the request's address.
func apiActor(c echo.Context) store.Actor { return apiKey(c).actor }

// authenticateKey checks the bearer key, the route's permission for the
// key's role, and the key's rate limit (unless the route is exempt).
func (s *Server) authenticateKey(c echo.Context, r route) error {
	// The scheme is case-insensitive (RFC 9110 §11.1): "bearer KEY" is as
	// good as "Bearer KEY".
	scheme, secret, _ := strings.Cut(strings.TrimSpace(c.Request().Header.Get(echo.HeaderAuthorization)), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="console"`)
		return echo.NewHTTPError(http.StatusUnauthorized, "send the API key as Authorization: Bearer KEY")
	}
	key, err := s.db.AuthenticateKey(c.Request().Context(), strings.TrimSpace(secret))
	if errors.Is(err, accounts.ErrBadKey) {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="console", error="invalid_token"`)
		return echo.NewHTTPError(http.StatusUnauthorized, "invalid or revoked API key")
	} else if err != nil {
		return err
	}
	if !s.authz.RoleAllowed(key.Role(), r.Perm) {
		return echo.NewHTTPError(http.StatusForbidden, "this key may not do that: "+forbiddenReason(key))
	}
	if !key.Permits(r.Perm.Object, r.Perm.Action, r.Unlimited) {
		return echo.NewHTTPError(http.StatusForbidden, "this key's scope ("+key.Scope+") does not allow that")
	}
	if !r.Unlimited {
		s.usage.add(key.ID, accounts.UsageCall, 1) // suppression checks count their items themselves
	}
	if !r.Unlimited && s.cfg.APIRate > 0 {
		wait, remaining := s.limits.take(key.ID, s.cfg.APIRate)
		// RateLimit-* (IETF httpapi draft): the bucket's size, what is left
		// of it and the seconds until it is full again, so a client can pace
		// itself before it meets a 429.
		burst := max(1, int(s.cfg.APIRate))
		h := c.Response().Header()
		h.Set("RateLimit-Limit", fmt.Sprint(burst))
		h.Set("RateLimit-Remaining", fmt.Sprint(int(math.Max(0, math.Floor(remaining)))))
		h.Set("RateLimit-Reset", fmt.Sprint(int(math.Ceil(math.Max(0, float64(burst)-remaining)/s.cfg.APIRate))))
		if wait > 0 {
			h.Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
			return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf("rate limit of %g requests per second for this key exceeded", s.cfg.APIRate))
		}
	}
	st := &apiKeyState{key: key, actor: key.Actor(c.RealIP())}
	c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), apiKeyCtx{}, st)))
	return nil
}

func forbiddenReason(k *accounts.APIKey) string {
	if k.CustomerID == nil {
		return "staff keys handle privacy requests and lookups"
	}
	return "customer keys act on their own customer's contacts only"
}

// keyLimits holds one token bucket per API key. The limit is per instance;
// behind a load balancer each instance allows the configured rate.
type keyLimits struct {
	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// take takes a token for the key (perSecond > 0) and returns zero, or how
// long until one is available when the bucket is empty, and the tokens
// left.
func (l *keyLimits) take(keyID string, perSecond float64) (time.Duration, float64) {
	lim := l.limiter(keyID, rate.Limit(perSecond), max(1, int(perSecond)))
	now := time.Now()
	return reserve(lim, now), lim.TokensAt(now)
}

// waitN takes a token from the key's bucket of rate r and size burst and
// returns zero, or how long until one is available when it is empty.
func (l *keyLimits) waitN(keyID string, r rate.Limit, burst int) time.Duration {
	return reserve(l.limiter(keyID, r, burst), time.Now())
}

func (l *keyLimits) limiter(keyID string, r rate.Limit, burst int) *rate.Limiter {
	l.mu.Lock()
	lim, ok := l.limiters[keyID]
	if !ok {
		if l.limiters == nil {
			l.limiters = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(r, burst)
		l.limiters[keyID] = lim
	}
	l.mu.Unlock()
	return lim
}

func reserve(lim *rate.Limiter, now time.Time) time.Duration {
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}

// usageCounter counts suppression checks per key and hour in memory and
// writes them out every minute: the checks are not audited one by one.
type usageCounter struct {
	// mu is held shared by add and exclusively by take: counting never
	// waits for another count (the check runs on every core at once), only
	// for the minute's flush swapping the map out.
	mu     sync.RWMutex
	counts atomic.Pointer[sync.Map] // accounts.UsageKey → *atomic.Int64
}

func (u *usageCounter) add(keyID, kind string, n int64) {
	k := accounts.UsageKey{KeyID: keyID, Hour: time.Now().UTC().Truncate(time.Hour), Kind: kind}
	u.mu.RLock()
	m := u.counts.Load()
	if m == nil {
		u.counts.CompareAndSwap(nil, new(sync.Map))
		m = u.counts.Load()
	}
	v, ok := m.Load(k)
	if !ok {
		v, _ = m.LoadOrStore(k, new(atomic.Int64))
	}
	v.(*atomic.Int64).Add(n)
	u.mu.RUnlock()
}

func (u *usageCounter) take() map[accounts.UsageKey]int64 {
	u.mu.Lock()
	m := u.counts.Swap(nil)
	u.mu.Unlock()
	if m == nil {
		return nil
	}
	out := map[accounts.UsageKey]int64{}
	m.Range(func(k, v any) bool {
		out[k.(accounts.UsageKey)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// FlushUsage writes the counted API usage to the database. serve calls it
// every minute and once more at shutdown.
func (s *Server) FlushUsage(ctx context.Context) error {
	counts := s.usage.take()
	if len(counts) == 0 {
		return nil
	}
	if err := s.db.AddUsage(ctx, counts); err != nil {
		// Put them back: a count is only lost if the process dies too.
		for k, n := range counts {
			s.usage.add(k.KeyID, k.Kind, n)
		}
		return err
	}
	return nil
}

// flushUsageEvery runs FlushUsage until ctx ends.
func (s *Server) flushUsageEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.FlushUsage(ctx); err != nil {
				s.log.Error("flush API usage", "err", err)
			}
		}
	}
}

// bindJSON decodes the body strictly: unknown fields and trailing data are
// malformed requests (400), so a typo in a field name is not silently lost.
func bindJSON(c echo.Context, dst any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 2<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf("%s must be a %s", typeErr.Field, typeErr.Type.String()), field: typeErr.Field}
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			f = strings.Trim(f, `"`)
			return &apiError{status: http.StatusBadRequest, msg: "unknown field " + f, field: f}
		}
		return &apiError{status: http.StatusBadRequest, msg: "the body is not valid JSON: " + err.Error()}
	}
	if dec.More() {
		return &apiError{status: http.StatusBadRequest, msg: "the body holds more than one JSON value"}
	}
	return nil
}

// apiError is an API answer with a status, message and field.
type apiError struct {
	status int
	msg    string
	field  string
}

func (e *apiError) Error() string { return e.msg }

// parseTime reads an optional RFC 3339 time field.
func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, &apiError{status: http.StatusBadRequest, msg: field + " must be an RFC 3339 time such as 2026-05-10T12:00:00-07:00", field: field}
	}
	return t, nil
}

// tenantOf decides which customer an API call acts on: a customer key's
// own; a staff key must name one (slug or id) in customer. A customer key
// naming another customer gets 404, as for one that does not exist.
func (s *Server) tenantOf(c echo.Context, named string) (string, error) {
	k := apiKey(c).key
	named = strings.TrimSpace(named)
	if k.CustomerID != nil {
		if named != "" && named != *k.CustomerID {
			cust, err := s.db.CustomerBySlug(c.Request().Context(), named)
			if err != nil || cust.ID != *k.CustomerID {
				return "", echo.NewHTTPError(http.StatusNotFound, "no such customer")
			}
		}
		return *k.CustomerID, nil
	}
	if named == "" {
		return "", &apiError{status: http.StatusBadRequest, msg: "a staff key must name the customer (slug or id) in customer", field: "customer"}
	}
	if cust, err := s.db.Customer(c.Request().Context(), store.SystemActor(""), named); err == nil {
		return cust.ID, nil
	}
	cust, err := s.db.CustomerBySlug(c.Request().Context(), named)
	if err != nil {
		return "", echo.NewHTTPError(http.StatusNotFound, "no such customer")
	}
	return cust.ID, nil
}

// isAPIWrite tells the API routes that write: every method but GET, except
// the suppression checks (POST for a batch, but a read).
func isAPIWrite(r route) bool { return r.Method != http.MethodGet && !r.Unlimited }

// admitWrite takes one of the instance's write slots (Config.APIMaxWrites)
// or answers 503 with Retry-After at once. Beyond the bound, more writes in
// flight only lengthen the database's queue: each would wait longer, time
// out in the caller's CRM and be retried on top. A quick 503 tells the
// caller to come back while the writes in flight finish. The slot is taken
// before the key is checked, since checking it may need the database too.
func (s *Server) admitWrite(c echo.Context) (func(), error) {
	if s.writes == nil {
		return func() {}, nil
	}
	select {
	case s.writes <- struct{}{}:
		return func() { <-s.writes }, nil
	default:
		c.Response().Header().Set("Retry-After", "1")
		return nil, echo.NewHTTPError(http.StatusServiceUnavailable,
			fmt.Sprintf("this instance has %d writes in flight, its limit; retry in a second", cap(s.writes)))
	}
}
