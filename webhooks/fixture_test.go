package webhooks_test

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/sendara/console/webhooks"
)

// fixturePath is the signature fixture the Go, Python and Node verifiers
// of docs/INTEGRATIONS.md check (.ci/run runs the last two on it).
const fixturePath = "../docs/examples/signature-fixture.json"

// TestTheSignatureFixtureIsWhatTheSenderSigns regenerates the fixture with
// Sign and fails if the committed file differs: the examples are checked
// against what the console really sends. Run with CONSOLE_UPDATE_FIXTURE=1
// to rewrite it.
func TestTheSignatureFixtureIsWhatTheSenderSigns(t *testing.T) {
	const (
		secret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		oldSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
		id        = "msg_01939f4c2e0a7c1e9d3b5a7f00c0ffee"
	)
	ts := time.Unix(1767225600, 0) // 2026-01-01T00:00:00Z
	body := `{"data":{"channel":"all","contact_id":"01939f4c-2e0a-7c1e-9d3b-5a7f00c0ffee","crm_id":"hubspot-4711","identifiers":["+14155550123"],"occurred_at":"2026-01-01T00:00:00Z","reason":"opt_out","source":"inbound_reply"},"timestamp":"2026-01-01T00:00:00Z","type":"consent.opted_out"}`
	sig, err := webhooks.Sign([]string{secret, oldSecret}, id, ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	f := signatureFixture{Secret: secret, OldSecret: oldSecret, Body: body, Now: ts.Unix() + 30, Headers: map[string]string{
		webhooks.HeaderID: id, webhooks.HeaderTimestamp: "1767225600", webhooks.HeaderSignature: sig}}
	want, _ := json.MarshalIndent(f, "", "  ")
	want = append(want, '\n')
	if os.Getenv("CONSOLE_UPDATE_FIXTURE") == "1" {
		if err := os.WriteFile(fixturePath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(fixturePath)
	if err != nil || string(got) != string(want) {
		t.Fatalf("%s is not what Sign produces (CONSOLE_UPDATE_FIXTURE=1 rewrites it):\n%s", fixturePath, want)
	}
}
