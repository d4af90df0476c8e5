package handlers_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	accounts "github.com/sendara/console/models/accounts"
)

// TestBadRowsTablePagesByLine: an import with 1,000 bad rows shows them
// 500 at a time, in file order, each exactly once, and the last page
// offers no further page.
func TestBadRowsTablePagesByLine(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	c, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	c.get("/imports")
	var csv strings.Builder
	csv.WriteString("Email\r\n")
	for i := range 1000 {
		fmt.Fprintf(&csv, "not-an-address-%d\r\n", i)
	}
	csv.WriteString("ann@example.com\r\n")
	path := c.uploadCSV(nil, "bad.csv", csv.String(), false).Location()
	if path == "" {
		t.Fatal("upload did not lead to the import's page")
	}
	var lines []int
	pages := 0
	for path != "" {
		p := c.get(path)
		if p.Status != 200 {
			t.Fatalf("GET %s: %d", path, p.Status)
		}
		pages++
		n := 0
		p.Doc.Find(`table[data-testid="bad-rows"] tbody tr`).Each(func(_ int, tr *goquery.Selection) {
			l, err := strconv.Atoi(tr.AttrOr("data-line", ""))
			if err != nil {
				t.Fatalf("row without a line: %v", err)
			}
			lines = append(lines, l)
			n++
		})
		if n != 500 {
			t.Errorf("page %d shows %d bad rows, want 500", pages, n)
		}
		path, _ = p.Doc.Find(`[data-testid="more-bad-rows"]`).Attr("href")
		if pages > 3 {
			t.Fatal("paging does not end")
		}
	}
	if pages != 2 {
		t.Errorf("%d pages for 1,000 bad rows, want 2 (no empty last page)", pages)
	}
	if len(lines) != 1000 {
		t.Fatalf("%d bad rows shown, want 1000", len(lines))
	}
	for i, l := range lines {
		if l != i+2 { // line 1 is the header
			t.Fatalf("bad row %d shown as line %d, want %d (file order, each once)", i, l, i+2)
		}
	}
}
