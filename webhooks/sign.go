// Package webhooks delivers the console's events to customers' endpoints:
// a Sender claims due deliveries from the database (several instances may
// share it), posts each one signed per the Standard Webhooks specification
// (https://www.standardwebhooks.com), and records every attempt. What to
// send, the retry schedule and when to give up are the models' rules;
// this package does the HTTP.
//
// webhooks imports models only; cmd/console starts a Sender beside the web
// server.
package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

const secretPrefix = "whsec_"

func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errors.New("webhook secret is not whsec_ followed by base64")
	}
	return key, nil
}

// Sign returns the webhook-signature header for a message: "v1," and the
// base64 HMAC-SHA256 of "{id}.{timestamp}.{body}" under each secret,
// separated by spaces (two during a secret's rotation).
func Sign(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, "v1,"+mac(key, id, ts.Unix(), body))
	}
	return strings.Join(sigs, " "), nil
}

func mac(key []byte, id string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%d.", id, ts)
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ErrSignature is a message whose signature, headers or age do not verify.
var ErrSignature = errors.New("webhook signature does not verify")

// Verify checks a received message against secret as a receiver would:
// the headers are present, the timestamp is within tolerance of now, and
// one of the signatures is the message's under secret.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := secretKey(secret)
	if err != nil {
		return err
	}
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if id == "" || sigs == "" || err != nil {
		return fmt.Errorf("%w: missing or malformed headers", ErrSignature)
	}
	if math.Abs(float64(now.Unix()-ts)) > tolerance.Seconds() {
		return fmt.Errorf("%w: timestamp outside the tolerance", ErrSignature)
	}
	want := mac(key, id, ts, body)
	for _, s := range strings.Fields(sigs) {
		v, sig, ok := strings.Cut(s, ",")
		if ok && v == "v1" && hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return ErrSignature
}
