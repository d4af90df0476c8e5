package web

import (
	"net/url"
	"os"
	"strings"

	"github.com/labstack/echo/v4"
)

// The suppression check runs before every message a customer sends, and
// Echo's c.QueryParam parses the whole query string into a map of slices
// on first use (url.ParseQuery). QueryParam and HasQueryParam find one
// parameter by scanning the raw query instead, with ParseQuery's rules
// exactly (held to them by TestLookupQueryIsParseQuerys and
// FuzzLookupQuery): pairs split on '&', a pair holding ';' skipped, key
// and value unescaped as query components, a pair that does not unescape
// skipped, the first value of a repeated key wins.

// QueryParam is c.QueryParam(name), without building the map.
func QueryParam(c echo.Context, name string) string {
	v, _ := lookupQuery(c, name)
	return v
}

// HasQueryParam reports whether the query names the parameter at all, as
// _, ok := c.QueryParams()[name] does (?pretty with no value counts).
func HasQueryParam(c echo.Context, name string) bool {
	_, ok := lookupQuery(c, name)
	return ok
}

func lookupQuery(c echo.Context, name string) (string, bool) {
	if queryLimitSet {
		vs, ok := c.QueryParams()[name]
		if !ok || len(vs) == 0 {
			return "", ok
		}
		return vs[0], true
	}
	return scanQuery(c.QueryString(), name)
}

// queryLimitSet: url.ParseQuery refuses a query of more pairs than
// GODEBUG=urlmaxqueryparams allows (10,000 unless set) and yields no
// values at all. Where the setting is changed, the scan gives way to
// ParseQuery itself; at the default, scanQuery applies the same limit.
var queryLimitSet = strings.Contains(os.Getenv("GODEBUG"), "urlmaxqueryparams")

// defaultMaxQueryParams is url.ParseQuery's limit when GODEBUG does not
// set urlmaxqueryparams.
const defaultMaxQueryParams = 10000

// scanQuery returns the first value of name in the raw query string and
// whether name occurs, as url.ParseQuery followed by a map lookup would.
func scanQuery(query, name string) (string, bool) {
	if strings.Count(query, "&")+1 > defaultMaxQueryParams {
		return "", false
	}
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key := rawKey
		if strings.ContainsAny(rawKey, "%+") {
			var err error
			if key, err = url.QueryUnescape(rawKey); err != nil {
				continue
			}
		}
		if key != name {
			continue
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			continue
		}
		return value, true
	}
	return "", false
}
