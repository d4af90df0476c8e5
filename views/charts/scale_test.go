package charts

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestTicksAreNiceAndCoverTheData(t *testing.T) {
	for _, tc := range []struct {
		max   float64
		whole bool
		want  []float64
	}{
		{0, true, []float64{0, 1}}, // all zeros or empty: still an axis
		{-3, true, []float64{0, 1}},
		{0, false, []float64{0, 0.5, 1}},
		{1, true, []float64{0, 1}},
		{3, true, []float64{0, 1, 2, 3}},
		{7, true, []float64{0, 2, 4, 6, 8}},
		{10, true, []float64{0, 5, 10}},
		{17, true, []float64{0, 5, 10, 15, 20}},
		{100, false, []float64{0, 50, 100}},
		{0.3, false, []float64{0, 0.1, 0.2, 0.3}},
		{0.3, true, []float64{0, 1}},
		{1234, true, []float64{0, 500, 1000, 1500}},
	} {
		got := Ticks(tc.max, 4, tc.whole)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Ticks(%v, 4, %v) = %v, want %v", tc.max, tc.whole, got, tc.want)
		}
		if top := got[len(got)-1]; top < tc.max {
			t.Errorf("Ticks(%v): top %v is below the data", tc.max, top)
		}
	}
}

func TestScaleMapsDomainOntoRange(t *testing.T) {
	s := Scale{D0: 0, D1: 20, R0: 212, R1: 16} // SVG y grows downwards
	for _, tc := range []struct{ v, want float64 }{{0, 212}, {20, 16}, {10, 114}, {5, 163}} {
		if got := s.At(tc.v); got != tc.want {
			t.Errorf("At(%v) = %v, want %v", tc.v, got, tc.want)
		}
	}
	if got := (Scale{D0: 3, D1: 3, R0: 0, R1: 10}).At(3); got != 5 {
		t.Errorf("a one-value domain maps to %v, want the middle 5", got)
	}
}

func TestBarHeightsAreProportionalToTheValues(t *testing.T) {
	base := float64(Height - MarginBottom) // 212
	plotH := base - MarginTop              // 196
	c := Chart{ID: "t", Series: []Series{{Name: "Requests", Points: []Point{{Label: "know", Value: 10}, {Label: "delete", Value: 20}, {Label: "correct", Value: 0}, {Label: "opt-out", Value: 5}}}}}
	bars := c.Bars()
	if len(bars) != 4 {
		t.Fatalf("%d bars, want 4", len(bars))
	}
	// The scale tops at 20 (ticks 0, 5, 10, 15, 20).
	for i, want := range []float64{plotH / 2, plotH, 0, plotH / 4} {
		if bars[i].H != want {
			t.Errorf("bar %d (%s) height %v, want %v", i, bars[i].Point.Label, bars[i].H, want)
		}
		if bars[i].Y+bars[i].H != base {
			t.Errorf("bar %d does not stand on the baseline: y %v + h %v", i, bars[i].Y, bars[i].H)
		}
	}
	band := float64(Width-MarginLeft-MarginRight) / 4
	if math.Abs(bars[0].W-band*0.8) > 1e-9 || bars[1].X-bars[0].X != band {
		t.Errorf("bars are %v wide, %v apart; want %v wide, %v apart", bars[0].W, bars[1].X-bars[0].X, band*0.8, band)
	}
	// Two series share each group.
	two := Chart{Series: []Series{{Name: "a", Points: []Point{{Label: "x", Value: 1}}}, {Name: "b", Points: []Point{{Label: "x", Value: 2}}}}}
	b2 := two.Bars()
	if len(b2) != 2 || b2[0].W != b2[1].W || b2[1].X != b2[0].X+b2[0].W || b2[1].H != 2*b2[0].H {
		t.Errorf("grouped bars: %+v", b2)
	}
}

func TestAllZerosAndEmptySeriesStillDrawAnAxis(t *testing.T) {
	zeros := Chart{ID: "z", Title: "Opt-outs", XLabel: "Week", YLabel: "Opt-outs",
		Series: []Series{{Name: "SMS", Points: []Point{{Label: "W1", Value: 0}, {Label: "W2", Value: 0}}}}}
	for _, b := range zeros.Bars() {
		if b.H != 0 {
			t.Errorf("a zero bar has height %v", b.H)
		}
	}
	if ticks := zeros.YTicks(); len(ticks) < 2 || ticks[0].Label != "0" {
		t.Errorf("y ticks of all zeros: %+v", ticks)
	}
	empty := Chart{ID: "e", Title: "Nothing", Series: []Series{{Name: "SMS"}}}
	if !empty.Empty() || empty.Bars() != nil || len(empty.XTicks(true)) != 0 {
		t.Errorf("an empty series drew something")
	}
	if got := empty.Description(); got != "Nothing: no data." {
		t.Errorf("description of an empty chart: %q", got)
	}
	var buf bytes.Buffer
	if err := LineChart(empty).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "No data") || strings.Contains(buf.String(), "<path") {
		t.Errorf("empty line chart: %s", buf.String())
	}
}

func TestASinglePointIsDrawnInTheMiddle(t *testing.T) {
	c := Chart{Unit: "%", Max: 100, Series: []Series{{Name: "On time", Points: []Point{{Label: "2026-01", Value: 50}}}}}
	pts := c.Line(0)
	if len(pts) != 1 {
		t.Fatalf("%d points", len(pts))
	}
	midX := float64(MarginLeft+Width-MarginRight) / 2
	midY := float64(Height-MarginBottom+MarginTop) / 2
	if pts[0].X != midX || pts[0].Y != midY {
		t.Errorf("single point at (%v, %v), want (%v, %v)", pts[0].X, pts[0].Y, midX, midY)
	}
	var buf bytes.Buffer
	if err := LineChart(c).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `class="line"`) {
		t.Error("a single point drew a line")
	}
	if !strings.Contains(buf.String(), `data-value="50%"`) {
		t.Errorf("the point's value is not shown: %s", buf.String())
	}
}

func TestLinePointsAreSpreadAcrossThePlot(t *testing.T) {
	c := Chart{Series: []Series{{Name: "Received", Points: []Point{{Label: "a", Value: 0}, {Label: "b", Value: 4}, {Label: "c", Value: 2}}}}}
	pts := c.Line(0)
	want := [][2]float64{{MarginLeft, Height - MarginBottom}, {(MarginLeft + Width - MarginRight) / 2, MarginTop}, {Width - MarginRight, (Height - MarginBottom + MarginTop) / 2}}
	for i, w := range want {
		if pts[i].X != w[0] || pts[i].Y != w[1] {
			t.Errorf("point %d at (%v, %v), want (%v, %v)", i, pts[i].X, pts[i].Y, w[0], w[1])
		}
	}
	if got := Path(pts); got != "M56 212 L340 16 L624 114" {
		t.Errorf("path %q", got)
	}
}

func TestXLabelsAreThinnedButTheTableHasThemAll(t *testing.T) {
	var pts []Point
	for i := range 52 {
		pts = append(pts, Point{Label: "W" + Format(float64(i+1), ""), Value: float64(i % 5), Href: "/x?w=" + Format(float64(i), "")})
	}
	c := Chart{ID: "w", Title: "Opt-outs per week", XLabel: "Week", YLabel: "Opt-outs", Series: []Series{{Name: "SMS", Points: pts}}}
	if got := LabelStep(52, MaxXLabels); got != 7 {
		t.Errorf("LabelStep(52, 8) = %d, want 7", got)
	}
	if n := len(c.XTicks(true)); n > MaxXLabels {
		t.Errorf("%d x labels, want at most %d", n, MaxXLabels)
	}
	var buf bytes.Buffer
	if err := BarChart(c).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{`<title id="w-svg-title">Opt-outs per week</title>`, `aria-labelledby="w-svg-title w-desc"`,
		`<summary>Data table: Opt-outs per week</summary>`, `<th scope="row">W52</th>`, `href="/x?w=51"`, `>Week</text>`, `>Opt-outs</text>`} {
		if !strings.Contains(html, want) {
			t.Errorf("bar chart lacks %s", want)
		}
	}
	if got := c.Description(); got != "Opt-outs by week, W1 to W52 (52 values). SMS: highest 4 (W5), last 1 (W52), total 101." {
		t.Errorf("description %q", got)
	}
}

func TestLabelsWithoutDataBreakTheLineAndShowADash(t *testing.T) {
	c := Chart{ID: "r", Title: "On-time rate", XLabel: "Month", YLabel: "On time", Unit: "%", Max: 100,
		Series: []Series{{Name: "On time", Points: []Point{{Label: "Jan", Value: 100}, {Label: "Feb", NoData: true},
			{Label: "Mar", Value: 50}, {Label: "Apr", Value: 0}}}}}
	pts := c.Line(0)
	if len(pts) != 3 {
		t.Fatalf("%d points drawn, want 3 (Feb has no data)", len(pts))
	}
	if got := Path(pts); got != "M56 16 M434.67 114 L624 212" {
		t.Errorf("path %q: the line must break at Feb", got)
	}
	if got := c.Description(); got != "On time by month, Jan to Apr (4 values). On time: highest 100% (Jan), last 0% (Apr)." {
		t.Errorf("description %q", got)
	}
	var buf bytes.Buffer
	if err := LineChart(c).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<th scope="row">Feb</th><td>—</td>`) {
		t.Errorf("Feb's row does not show a dash: %s", buf.String())
	}
	none := Chart{Title: "Empty months", XLabel: "Month", YLabel: "On time", Series: []Series{{Name: "On time", Points: []Point{{Label: "Jan", NoData: true}}}}}
	if got := none.Description(); got != "On time by month, Jan (1 values). On time: no data." {
		t.Errorf("description %q", got)
	}
}
