package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"
)

// evidenceChartsCells is a table's body as rows of trimmed cell texts.
func evidenceChartsCells(s *goquery.Selection) [][]string {
	var out [][]string
	s.Find("tbody tr").Each(func(_ int, tr *goquery.Selection) {
		var row []string
		tr.Find("th, td").Each(func(_ int, c *goquery.Selection) { row = append(row, strings.TrimSpace(c.Text())) })
		out = append(out, row)
	})
	return out
}

// The auditor reports open on the current year, draw a chart from the
// figures of their table, and ?year= picks another year for the page and
// its CSV link.
func TestEvidenceReportChartsAndYear(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	auditor := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	cs := evidenceSeedCase(t, app, acme, "officer@sendara.test")
	cl := app.client()
	cl.login(auditor)
	// Two downloads: report.export entries beside the case's request.export.
	for range 2 {
		if d := cl.get("/reports/audit/access-review/csv"); d.Status != http.StatusOK {
			t.Fatalf("csv: %d", d.Status)
		}
	}
	year := calendar.TodayIn(time.UTC).Year
	// On the current year by default: the picker shows it and the CSV link
	// covers it.
	p := cl.get("/reports/audit/exports")
	if p.Status != http.StatusOK {
		t.Fatalf("exports: %d\n%s", p.Status, p.Body)
	}
	if got := p.Doc.Find(`[data-testid="report-year"] option[selected]`).AttrOr("value", ""); got != strconv.Itoa(year) {
		t.Errorf("the picker opens on %q, want %d", got, year)
	}
	if href := p.Doc.Find(`[data-testid="report-csv"]`).AttrOr("href", ""); !strings.Contains(href, "from="+strconv.Itoa(year)+"-01-01") {
		t.Errorf("CSV link %q is not the current year's", href)
	}
	// The chart: exports by action, counted from the report's own rows.
	want := map[string]int{}
	actionCol := -1
	p.Doc.Find(`[data-testid="report-table"] thead th`).Each(func(i int, s *goquery.Selection) {
		if s.Text() == "action" {
			actionCol = i
		}
	})
	for _, row := range evidenceChartsCells(p.Doc.Find(`[data-testid="report-table"]`)) {
		want[row[actionCol]]++
	}
	if want["report.export"] != 2 || want["request.export"] == 0 {
		t.Fatalf("exports table by action: %v", want)
	}
	if p.Doc.Find(`[data-testid="chart-evidence-exports"] svg rect.bar`).Length() != len(want) {
		t.Errorf("the chart draws %d bars, want %d", p.Doc.Find(`[data-testid="chart-evidence-exports"] svg rect.bar`).Length(), len(want))
	}
	got := map[string]int{}
	for _, row := range evidenceChartsCells(p.Doc.Find(`[data-testid="chart-data-evidence-exports"]`)) {
		n, _ := strconv.Atoi(row[1])
		got[row[0]] = n
	}
	if len(got) != len(want) {
		t.Errorf("chart data %v, table %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("chart data %s = %d, the table has %d", k, got[k], v)
		}
	}

	// On-time: on time and late per regime and type, from the group rows.
	p = cl.get("/reports/audit/on-time")
	var groups [][]string
	for _, row := range evidenceChartsCells(p.Doc.Find(`[data-testid="report-table"]`)) {
		if row[2] == "" { // no reference: a group row
			groups = append(groups, row)
		}
	}
	data := evidenceChartsCells(p.Doc.Find(`[data-testid="chart-data-evidence-on-time"]`))
	if len(groups) == 0 || len(data) != len(groups) {
		t.Fatalf("on-time: %d group rows, %d chart rows\n%s", len(groups), len(data), p.text(`[data-testid="report-table"]`))
	}
	for i, g := range groups {
		answered, _ := strconv.Atoi(g[9])
		inTime, _ := strconv.Atoi(g[10])
		if want := []string{g[0] + " / " + g[1], strconv.Itoa(inTime), strconv.Itoa(answered - inTime)}; strings.Join(data[i], "|") != strings.Join(want, "|") {
			t.Errorf("on-time chart row %v, want %v", data[i], want)
		}
	}
	if !strings.Contains(p.text(`[data-testid="report-table"]`), cs.r.Reference) {
		t.Errorf("on-time report lacks %s", cs.r.Reference)
	}

	// Last year: nothing then, no chart; the CSV link is last year's too.
	last := strconv.Itoa(year - 1)
	p = cl.get("/reports/audit/exports?year=" + last)
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="report-empty"]`).Length() != 1 ||
		p.Doc.Find(`[data-testid="chart-evidence-exports"]`).Length() != 0 {
		t.Errorf("exports ?year=%s: %d, not empty\n%s", last, p.Status, p.text("main"))
	}
	if got := p.Doc.Find(`[data-testid="report-year"] option[selected]`).AttrOr("value", ""); got != last {
		t.Errorf("the picker shows %q, want %s", got, last)
	}
	if href := p.Doc.Find(`[data-testid="report-csv"]`).AttrOr("href", ""); !strings.Contains(href, "from="+last+"-01-01") || !strings.Contains(href, "to="+last+"-12-31") {
		t.Errorf("CSV link %q is not %s's", href, last)
	}
	if d := cl.get("/reports/audit/exports/csv?year=" + last); d.Status != http.StatusOK || strings.Count(strings.TrimSpace(d.Body), "\n") != 0 {
		t.Errorf("CSV of %s: %d, want the header only:\n%s", last, d.Status, d.Body)
	}
	// The access review of a year lists the role periods of that year:
	// every user here was made today, so last year's is empty.
	if p := cl.get("/reports/audit/access-review"); !strings.Contains(p.text(`[data-testid="report-table"]`), "auditor@sendara.test") ||
		p.Doc.Find(`[data-testid^="chart-"]`).Length() != 0 {
		t.Errorf("access review of %d lacks the auditor, or has a chart:\n%s", year, p.text("main"))
	}
	if p := cl.get("/reports/audit/access-review?year=" + last); p.Doc.Find(`[data-testid="report-empty"]`).Length() != 1 {
		t.Errorf("access review of %s is not empty:\n%s", last, p.text("main"))
	}
	if p := cl.get("/reports/audit/exports?year=soon"); p.Status != http.StatusBadRequest && p.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.Body, "year") {
		t.Errorf("?year=soon: %d", p.Status)
	}
}
