package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"
)

// parseQueryLookup is what Echo's c.QueryParam and c.QueryParams()[name]
// give: url.ParseQuery, errors ignored, then the map.
func parseQueryLookup(query, name string) (string, bool) {
	vs, _ := url.ParseQuery(query)
	v, ok := vs[name]
	if !ok || len(v) == 0 {
		return "", ok
	}
	return v[0], true
}

func TestLookupQueryIsParseQuerys(t *testing.T) {
	tests := []struct{ query, name string }{
		{"to=%2B14155550100", "to"},
		{"to=+14155550100", "to"},
		{"to=a&to=b", "to"},
		{"to=a;b&to=c", "to"},
		{"to=%zz&to=c", "to"},
		{"%74o=x", "to"},
		{"t%zz=1&to=2", "to"},
		{"pretty", "pretty"},
		{"pretty=", "pretty"},
		{"&&to=&", "to"},
		{"channel=imessage&customer=acme&to=x%40y.example", "customer"},
		{"to", "to"},
		{"", "to"},
		{"x=1", "to"},
		{"to=a+b%20c", "to"},
		{"to+x=1&to=2", "to x"},
		{"=1", ""},
	}
	for _, tt := range tests {
		gotV, gotOK := scanQuery(tt.query, tt.name)
		wantV, wantOK := parseQueryLookup(tt.query, tt.name)
		if gotV != wantV || gotOK != wantOK {
			t.Errorf("scanQuery(%q, %q) = %q, %v; ParseQuery gives %q, %v", tt.query, tt.name, gotV, gotOK, wantV, wantOK)
		}
	}
}

func TestScanQueryKeepsParseQuerysLimit(t *testing.T) {
	q := "to=1"
	for range defaultMaxQueryParams {
		q += "&x=1"
	}
	gotV, gotOK := scanQuery(q, "to")
	wantV, wantOK := parseQueryLookup(q, "to")
	if gotV != wantV || gotOK != wantOK {
		t.Errorf("over the limit: scanQuery = %q, %v; ParseQuery gives %q, %v", gotV, gotOK, wantV, wantOK)
	}
}

// TestLookupQueryGivesWayWhereGODEBUGSetsTheLimit: with urlmaxqueryparams
// set in GODEBUG the scan's own limit would be wrong, so QueryParam and
// HasQueryParam answer from Echo's parsed query instead, and still as
// ParseQuery would — on both paths.
func TestLookupQueryGivesWayWhereGODEBUGSetsTheLimit(t *testing.T) {
	saved := queryLimitSet
	t.Cleanup(func() { queryLimitSet = saved })
	e := echo.New()
	for _, set := range []bool{false, true} {
		queryLimitSet = set
		for _, q := range []string{"to=%2B1415&to=2", "pretty", "a=1;b&to=x", "%74o=y", "x=1"} {
			c := e.NewContext(httptest.NewRequest(http.MethodGet, "/api/v1/suppressions/check?"+q, nil), httptest.NewRecorder())
			wantV, wantOK := parseQueryLookup(q, "to")
			_, wantPretty := parseQueryLookup(q, "pretty")
			if got := QueryParam(c, "to"); got != wantV {
				t.Errorf("limit set %v: QueryParam(%q, to) = %q, want %q", set, q, got, wantV)
			}
			if got := HasQueryParam(c, "to"); got != wantOK {
				t.Errorf("limit set %v: HasQueryParam(%q, to) = %v, want %v", set, q, got, wantOK)
			}
			if got := HasQueryParam(c, "pretty"); got != wantPretty {
				t.Errorf("limit set %v: HasQueryParam(%q, pretty) = %v, want %v", set, q, got, wantPretty)
			}
		}
	}
}

func FuzzLookupQuery(f *testing.F) {
	for _, s := range []string{"to=%2B1415&to=2", "a=1;b&to=%zz", "%74o=x&pretty", "to=a+b"} {
		f.Add(s, "to")
	}
	f.Fuzz(func(t *testing.T, query, name string) {
		gotV, gotOK := scanQuery(query, name)
		wantV, wantOK := parseQueryLookup(query, name)
		if gotV != wantV || gotOK != wantOK {
			t.Fatalf("scanQuery(%q, %q) = %q, %v; ParseQuery gives %q, %v", query, name, gotV, gotOK, wantV, wantOK)
		}
	})
}
