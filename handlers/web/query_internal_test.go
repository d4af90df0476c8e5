package web

import (
	"net/url"
	"testing"
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
