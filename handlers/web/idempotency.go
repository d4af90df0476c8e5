package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// idempotencyHeader names the client's key for a POST it may retry.
const idempotencyHeader = "Idempotency-Key"

// idempotent honours Idempotency-Key on the JSON API's POSTs for
// models.IdempotencyWindow: the first request with a key acts and its
// answer (status and body) is kept; the same key from the same API key
// with the same request replays that answer without acting again; the
// same key with another request is refused (422), so a client bug that
// reuses keys cannot silently drop an opt-out. Server errors and rate
// Limits give the key back: they are not answers, and the retry acts.
func (s *Server) idempotent(c echo.Context, next echo.HandlerFunc) error {
	key := c.Request().Header.Get(idempotencyHeader)
	if c.Request().Method != http.MethodPost || key == "" {
		return next(c)
	}
	if len(key) > 255 || !printableASCII(key) {
		return &APIError{Status: http.StatusBadRequest, Msg: "Idempotency-Key must be 1 to 255 printable ASCII characters", Field: idempotencyHeader}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, 2<<20))
	if err != nil {
		return &APIError{Status: http.StatusBadRequest, Msg: "the request body could not be read: " + err.Error()}
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(body))
	h := sha256.New()
	for _, part := range [][]byte{[]byte(c.Request().URL.Path), []byte(c.Request().URL.RawQuery), body} {
		h.Write(part)
		h.Write([]byte{0})
	}
	hash := hex.EncodeToString(h.Sum(nil))
	ctx, keyID := c.Request().Context(), APIKey(c).ID
	prior, claimed, err := s.DB.ClaimIdempotencyKey(ctx, keyID, key, hash)
	if err != nil {
		return err
	}
	if !claimed {
		switch {
		case prior.RequestHash != hash:
			return &APIError{Status: http.StatusUnprocessableEntity, Field: idempotencyHeader,
				Msg: "this Idempotency-Key was already used with a different request in the last 24 hours: send a new key for a new request"}
		case prior.Status == 0:
			return &APIError{Status: http.StatusConflict, Field: idempotencyHeader,
				Msg: "a request with this Idempotency-Key is still being answered: retry in a moment"}
		}
		c.Response().Header().Set("Idempotent-Replayed", "true")
		return c.Blob(prior.Status, echo.MIMEApplicationJSON, []byte(prior.Body))
	}
	rec := &teeWriter{ResponseWriter: c.Response().Writer}
	c.Response().Writer = rec
	if err := next(c); err != nil {
		c.Error(err) // answer now, so the answer can be kept
	}
	// The answer is given: keeping it must not depend on the client
	// still listening.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if status := c.Response().Status; status >= 500 || status == http.StatusTooManyRequests {
		err = s.DB.ReleaseIdempotencyKey(ctx, keyID, key)
	} else {
		err = s.DB.SaveIdempotentAnswer(ctx, keyID, key, status, rec.buf.String())
	}
	if err != nil {
		s.Log.Error("keep idempotent answer", "request_id", RequestID(c), "err", err)
	}
	return nil
}

// teeWriter keeps a copy of what the handler writes.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// sweepIdempotencyEvery deletes answers past their window until ctx ends.
func (s *Server) sweepIdempotencyEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.DB.SweepIdempotencyKeys(ctx); err != nil {
				s.Log.Error("sweep idempotency keys", "err", err)
			}
		}
	}
}
