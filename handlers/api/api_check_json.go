package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"
	"github.com/sendara/console/handlers/web"
)

// The suppression check is called before every message a customer sends
// (DESIGN §7: nearly the cost of /healthz), so its answer is written
// without encoding/json's reflection: appendSuppressionJSON produces the
// very bytes c.JSON would (held to it by TestSuppressionJSONIsEncodingJSONs
// and FuzzSuppressionJSON), into a pooled buffer.

var suppressionJSONBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// writeSuppressionJSON answers 200 with out, as c.JSON(http.StatusOK, out)
// does, pretty-printed ones (?pretty, Echo's debug mode) included.
func writeSuppressionJSON(c echo.Context, out suppressionJSON) error {
	if web.HasQueryParam(c, "pretty") || c.Echo().Debug {
		return c.JSON(http.StatusOK, out)
	}
	bp := suppressionJSONBufs.Get().(*[]byte)
	b, err := appendSuppressionJSON((*bp)[:0], out)
	if err != nil {
		suppressionJSONBufs.Put(bp)
		return c.JSON(http.StatusOK, out) // encoding/json's own answer, or its error
	}
	err = c.JSONBlob(http.StatusOK, b)
	if cap(b) <= 4096 {
		*bp = b
		suppressionJSONBufs.Put(bp)
	}
	return err
}

// appendSuppressionJSON appends what a json.Encoder writes for out: the
// object in field order and a newline.
func appendSuppressionJSON(b []byte, out suppressionJSON) ([]byte, error) {
	b = append(b, `{"to":`...)
	b = appendJSONString(b, out.To)
	b = append(b, `,"suppressed":`...)
	b = strconv.AppendBool(b, out.Suppressed)
	b = append(b, `,"reason":`...)
	if out.Reason == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *out.Reason)
	}
	b = append(b, `,"since":`...)
	if out.Since == nil {
		b = append(b, "null"...)
	} else {
		t, err := out.Since.MarshalJSON() // what encoding/json calls
		if err != nil {
			return b, err
		}
		b = append(b, t...)
	}
	b = append(b, `,"consent":`...)
	b = appendJSONString(b, out.Consent)
	return append(b, "}\n"...), nil
}

// appendJSONString appends s as encoding/json writes it with HTML escaping
// (an Encoder's default). Printable ASCII other than the characters it
// escapes is copied; anything else goes through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
