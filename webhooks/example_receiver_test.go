package webhooks_test

// The Go receiver of docs/INTEGRATIONS.md: standard library only, as a
// customer would copy it. The example below runs it on the signature
// fixture the Python and Node verifiers check too (docs/examples).

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// verifySendara checks a Sendara webhook per the Standard Webhooks
// specification: HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}"
// under the secret's bytes, any of the space-separated "v1,…" signatures
// (two while the secret rotates), and a timestamp within five minutes.
func verifySendara(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || id == "" {
		return errors.New("missing webhook-id or webhook-timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp too old or too new: a replay?")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if v, s, ok := strings.Cut(sig, ","); ok && v == "v1" && hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("no valid signature")
}

// signatureFixture is docs/examples/signature-fixture.json.
type signatureFixture struct {
	Secret    string            `json:"secret"`
	OldSecret string            `json:"old_secret"`
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"`
	Now       int64             `json:"now"`
}

func Example_verifySendara() {
	raw, err := os.ReadFile("../docs/examples/signature-fixture.json")
	if err != nil {
		panic(err)
	}
	var f signatureFixture
	if err := json.Unmarshal(raw, &f); err != nil {
		panic(err)
	}
	h := http.Header{}
	for k, v := range f.Headers {
		h.Set(k, v)
	}
	now := time.Unix(f.Now, 0)
	fmt.Println("new secret:", verifySendara(f.Secret, h, []byte(f.Body), now))
	fmt.Println("old secret:", verifySendara(f.OldSecret, h, []byte(f.Body), now))
	fmt.Println("edited body:", verifySendara(f.Secret, h, []byte(strings.Replace(f.Body, "opted_out", "opted_in", 1)), now))
	fmt.Println("an hour later:", verifySendara(f.Secret, h, []byte(f.Body), now.Add(time.Hour)))
	// Output:
	// new secret: <nil>
	// old secret: <nil>
	// edited body: no valid signature
	// an hour later: timestamp too old or too new: a replay?
}
