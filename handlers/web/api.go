package web

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

// apiKeyStore names the request's key in the Echo context's store. It is
// kept there rather than in the request's context.Context because nothing
// below the handlers needs it, and replacing the request (WithContext) on
// each of the suppression checks customers send before every message
// copies it.
const apiKeyStore = "web.apikey"

// APIKey is the request's authenticated API key; nil on a route that does
// not take keys.
func APIKey(c echo.Context) *accounts.APIKey {
	k, _ := c.Get(apiKeyStore).(*accounts.APIKey)
	return k
}

// APIActor is the key acting from the request's address.
func APIActor(c echo.Context) store.Actor { return APIKey(c).Actor(c.RealIP()) }

// authenticateKey checks the bearer key, the route's permission for the
// Key's role, and the key's rate limit (unless the route is exempt).
func (s *Server) authenticateKey(c echo.Context, r Route) error {
	// The scheme is case-insensitive (RFC 9110 §11.1): "bearer KEY" is as
	// good as "Bearer KEY".
	scheme, secret, _ := strings.Cut(strings.TrimSpace(c.Request().Header.Get(echo.HeaderAuthorization)), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="console"`)
		return echo.NewHTTPError(http.StatusUnauthorized, "send the API key as Authorization: Bearer KEY")
	}
	key, err := s.DB.AuthenticateKey(c.Request().Context(), strings.TrimSpace(secret))
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
		s.Usage.Add(key.ID, accounts.UsageCall, 1) // suppression checks count their items themselves
	}
	if !r.Unlimited && s.Cfg.APIRate > 0 {
		wait, remaining := s.Limits.take(key.ID, s.Cfg.APIRate)
		// RateLimit-* (IETF httpapi draft): the bucket's size, what is left
		// of it and the seconds until it is full again, so a client can pace
		// itself before it meets a 429.
		burst := max(1, int(s.Cfg.APIRate))
		h := c.Response().Header()
		h.Set("RateLimit-Limit", fmt.Sprint(burst))
		h.Set("RateLimit-Remaining", fmt.Sprint(int(math.Max(0, math.Floor(remaining)))))
		h.Set("RateLimit-Reset", fmt.Sprint(int(math.Ceil(math.Max(0, float64(burst)-remaining)/s.Cfg.APIRate))))
		if wait > 0 {
			h.Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
			return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf("rate limit of %g requests per second for this key exceeded", s.Cfg.APIRate))
		}
	}
	c.Set(apiKeyStore, key)
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

// WaitN takes a token from the key's bucket of rate r and size burst and
// returns zero, or how long until one is available when it is empty.
func (l *keyLimits) WaitN(keyID string, r rate.Limit, burst int) time.Duration {
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

func (u *usageCounter) Add(keyID, kind string, n int64) {
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
	counts := s.Usage.take()
	if len(counts) == 0 {
		return nil
	}
	if err := s.DB.AddUsage(ctx, counts); err != nil {
		// Put them back: a count is only lost if the process dies too.
		for k, n := range counts {
			s.Usage.Add(k.KeyID, k.Kind, n)
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
				s.Log.Error("flush API usage", "err", err)
			}
		}
	}
}

// BindJSON decodes the body strictly: unknown fields and trailing data are
// malformed requests (400), so a typo in a field name is not silently lost.
func BindJSON(c echo.Context, dst any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 2<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return &APIError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("%s must be a %s", typeErr.Field, typeErr.Type.String()), Field: typeErr.Field}
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			f = strings.Trim(f, `"`)
			return &APIError{Status: http.StatusBadRequest, Msg: "unknown field " + f, Field: f}
		}
		return &APIError{Status: http.StatusBadRequest, Msg: "the body is not valid JSON: " + err.Error()}
	}
	if dec.More() {
		return &APIError{Status: http.StatusBadRequest, Msg: "the body holds more than one JSON value"}
	}
	return nil
}

// APIError is an API answer with a status, message and field.
type APIError struct {
	Status int
	Msg    string
	Field  string
}

func (e *APIError) Error() string { return e.Msg }

// ParseTime reads an optional RFC 3339 time field.
func ParseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, &APIError{Status: http.StatusBadRequest, Msg: field + " must be an RFC 3339 time such as 2026-05-10T12:00:00-07:00", Field: field}
	}
	return t, nil
}

// TenantOf decides which customer an API call acts on: a customer key's
// own; a staff key must name one (slug or id) in customer. A customer key
// naming another customer gets 404, as for one that does not exist.
func (s *Server) TenantOf(c echo.Context, named string) (string, error) {
	k := APIKey(c)
	named = strings.TrimSpace(named)
	if k.CustomerID != nil {
		if named != "" && named != *k.CustomerID {
			cust, err := s.DB.CustomerBySlug(c.Request().Context(), named)
			if err != nil || cust.ID != *k.CustomerID {
				return "", echo.NewHTTPError(http.StatusNotFound, "no such customer")
			}
		}
		return *k.CustomerID, nil
	}
	if named == "" {
		return "", &APIError{Status: http.StatusBadRequest, Msg: "a staff key must name the customer (slug or id) in customer", Field: "customer"}
	}
	if cust, err := s.DB.Customer(c.Request().Context(), store.SystemActor(""), named); err == nil {
		return cust.ID, nil
	}
	cust, err := s.DB.CustomerBySlug(c.Request().Context(), named)
	if err != nil {
		return "", echo.NewHTTPError(http.StatusNotFound, "no such customer")
	}
	return cust.ID, nil
}

// isAPIWrite tells the API routes that write: every method but GET, except
// the suppression checks (POST for a batch, but a read).
func isAPIWrite(r Route) bool { return r.Method != http.MethodGet && !r.Unlimited }

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
