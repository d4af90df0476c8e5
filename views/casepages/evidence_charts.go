package casepages

import (
	"slices"
	"strconv"

	casework "github.com/sendara/console/models/casework"
	"github.com/sendara/console/views/charts"
)

// EvidenceChart is the chart of one auditor report, drawn from the very
// cells of the report's table (so the chart, its data table, the HTML
// table and the CSV show the same figures). ok is false for a report
// with no chart: the access review is a list of role periods per user,
// with no quantity to compare, so a chart would add nothing to the table.
func EvidenceChart(name string, t casework.EvidenceTable) (charts.Chart, bool) {
	col := func(n string) int { return slices.Index(t.Columns, n) }
	num := func(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }
	switch name {
	case "opt-out-latency":
		// The group rows (no contact) by customer and source.
		c := charts.Chart{ID: "evidence-opt-out-latency", Title: "Business days from opt-out to in effect, by customer and source (the limit is " +
			strconv.Itoa(casework.OptOutLatencyLimit) + " business days)",
			XLabel: "Customer / source", YLabel: "Business days", Series: []charts.Series{{Name: "Median"}, {Name: "Longest"}}}
		cu, so, med, mx, contact := col("customer"), col("source"), col("median_business_days"), col("max_business_days"), col("contact")
		for _, r := range t.Rows {
			if r[contact] != "" {
				continue
			}
			l := r[cu] + " / " + r[so]
			c.Series[0].Points = append(c.Series[0].Points, charts.Point{Label: l, Value: num(r[med])})
			c.Series[1].Points = append(c.Series[1].Points, charts.Point{Label: l, Value: num(r[mx])})
		}
		return c, true
	case "reply-queue":
		c := charts.Chart{ID: "evidence-reply-queue", Title: "Replies awaiting review, by customer", XLabel: "Customer", YLabel: "Replies",
			Series: []charts.Series{{Name: "Awaiting review"}, {Name: "Overdue"}}}
		cu, w, o := col("customer"), col("awaiting_review"), col("overdue")
		for _, r := range t.Rows {
			c.Series[0].Points = append(c.Series[0].Points, charts.Point{Label: r[cu], Value: num(r[w])})
			c.Series[1].Points = append(c.Series[1].Points, charts.Point{Label: r[cu], Value: num(r[o])})
		}
		return c, true
	case "on-time":
		// The group rows (no reference): answered on time and late.
		c := charts.Chart{ID: "evidence-on-time", Title: "Requests answered on time and late, by regime and type", XLabel: "Regime / type",
			YLabel: "Requests", Series: []charts.Series{{Name: "On time"}, {Name: "Late"}}}
		re, ty, ref, ans, in := col("regime"), col("type"), col("reference"), col("answered"), col("in_time")
		for _, r := range t.Rows {
			if r[ref] != "" {
				continue
			}
			l := r[re] + " / " + r[ty]
			c.Series[0].Points = append(c.Series[0].Points, charts.Point{Label: l, Value: num(r[in])})
			c.Series[1].Points = append(c.Series[1].Points, charts.Point{Label: l, Value: num(r[ans]) - num(r[in])})
		}
		return c, true
	case "erasure":
		c := charts.Chart{ID: "evidence-erasure", Title: "Completed erasure requests: complete and with identifiers left", XLabel: "Outcome",
			YLabel: "Requests", Series: []charts.Series{{Name: "Requests"}}}
		if len(t.Rows) == 0 {
			return c, true
		}
		cp := col("complete")
		var yes, no float64
		for _, r := range t.Rows {
			if r[cp] == "yes" {
				yes++
			} else {
				no++
			}
		}
		c.Series[0].Points = []charts.Point{{Label: "Complete", Value: yes}, {Label: "Identifiers left", Value: no}}
		return c, true
	case "exports":
		c := charts.Chart{ID: "evidence-exports", Title: "Exports of personal data, by action", XLabel: "Action", YLabel: "Exports",
			Series: []charts.Series{{Name: "Exports"}}}
		ac := col("action")
		at := map[string]int{}
		for _, r := range t.Rows {
			if _, ok := at[r[ac]]; !ok {
				at[r[ac]] = len(c.Series[0].Points)
				c.Series[0].Points = append(c.Series[0].Points, charts.Point{Label: r[ac]})
			}
			c.Series[0].Points[at[r[ac]]].Value++
		}
		slices.SortStableFunc(c.Series[0].Points, func(a, b charts.Point) int {
			if a.Label < b.Label {
				return -1
			}
			if a.Label > b.Label {
				return 1
			}
			return 0
		})
		return c, true
	}
	return charts.Chart{}, false
}
