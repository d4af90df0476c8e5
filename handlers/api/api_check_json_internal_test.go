package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// checkJSONMatchesEncoder fails t when appendSuppressionJSON and a
// json.Encoder (what c.JSON uses) write different bytes for out.
func checkJSONMatchesEncoder(t *testing.T, out suppressionJSON) {
	t.Helper()
	var want bytes.Buffer
	wantErr := json.NewEncoder(&want).Encode(out)
	got, err := appendSuppressionJSON([]byte("prefix"), out)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%+v: error %v, encoding/json's %v", out, err, wantErr)
	}
	if err == nil && string(got) != "prefix"+want.String() {
		t.Fatalf("%+v:\n got %s\nwant %s", out, got[len("prefix"):], want.Bytes())
	}
}

func TestSuppressionJSONIsEncodingJSONs(t *testing.T) {
	reason := "opt-out"
	odd := "a<b>&\"c\\ \x01 é \u2028 \xff"
	since := time.Date(2026, 12, 5, 23, 24, 0, 123456789, time.UTC)
	zone := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", -7*3600))
	farFuture := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) // encoding/json refuses it
	for _, out := range []suppressionJSON{
		{To: "+14155550123", Consent: consentNone},
		{To: "+14155550123", Suppressed: true, Reason: &reason, Since: &since, Consent: consentNone},
		{To: "jane@example.com", Consent: consentOptedIn, Since: &zone},
		{To: odd, Suppressed: true, Reason: &odd, Since: &since, Consent: odd},
		{To: "", Reason: new(string), Consent: ""},
		{To: "x", Since: &farFuture},
	} {
		checkJSONMatchesEncoder(t, out)
	}
}

func FuzzSuppressionJSON(f *testing.F) {
	f.Add("+14155550123", true, "opt-out", int64(1764977040123456789), "none")
	f.Add("jörg@bücher.example", false, "<&>", int64(-62135596800000000), "opted_in")
	f.Add("\x00\xff\u2029", true, "\"\\", int64(0), "")
	f.Fuzz(func(t *testing.T, to string, suppressed bool, reason string, sinceNs int64, consent string) {
		since := time.Unix(0, sinceNs).UTC()
		out := suppressionJSON{To: to, Suppressed: suppressed, Consent: consent}
		checkJSONMatchesEncoder(t, out)
		out.Reason, out.Since = &reason, &since
		checkJSONMatchesEncoder(t, out)
	})
}
