// Package charts draws small charts as SVG on the server, from templ
// components: a time series (lines) and bars. There is no JavaScript and no
// charting library; the geometry is computed here, in plain functions that
// are tested against known data, and every chart carries a title, axis
// labels, a text alternative and its data as a table behind a disclosure.
package charts

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Point is one value of a series: a bar, or a point on a line. Href, when
// set, is the filtered list behind the figure.
type Point struct {
	Label string
	Value float64
	Href  string
	// NoData marks a label with no value (a month with nothing to rate):
	// the line breaks there and the table shows a dash, rather than a 0.
	NoData bool
}

// Series is a named run of values over the same labels as the chart's
// other series.
type Series struct {
	Name   string
	Points []Point
}

// Chart is what a chart shows.
type Chart struct {
	ID     string // unique on the page: the ids of the title and description derive from it
	Title  string
	XLabel string // what the horizontal axis counts (weeks, months, request types)
	YLabel string // what the vertical axis counts
	Unit   string // appended to values: "%" for rates, "" for counts
	// Max, when above 0, fixes the top of the scale (100 for a rate);
	// otherwise the top is the first nice number at or above the data.
	Max    float64
	Series []Series
}

// The drawing area, in SVG user units; the SVG scales to its container
// through its viewBox.
const (
	Width        = 640
	Height       = 260
	MarginLeft   = 56
	MarginRight  = 16
	MarginTop    = 16
	MarginBottom = 48
	// MaxXLabels is the most labels the horizontal axis prints; the data
	// table has every one.
	MaxXLabels = 8
)

// plot is the inner rectangle the data is drawn in.
func plot() (x0, x1, y0, y1 float64) {
	return MarginLeft, Width - MarginRight, Height - MarginBottom, MarginTop
}

// Ticks gives the values of the vertical axis' grid lines: from 0 up to a
// "nice" number (1, 2 or 5 times a power of ten steps) at or above max,
// with about n steps; whole (counts) keeps steps to whole numbers. A max
// of 0 or less (an empty or all-zero series) gives the scale 0 to 1, so
// the axis is still drawn.
func Ticks(max float64, n int, whole bool) []float64 {
	if n < 1 {
		n = 1
	}
	if !(max > 0) || math.IsInf(max, 0) {
		max = 1
	}
	step := niceStep(max / float64(n))
	if whole {
		step = math.Max(step, 1)
	}
	top := math.Ceil(max/step-1e-9) * step
	var ticks []float64
	for i := 0; ; i++ {
		v := float64(i) * step
		if v > top+step/2 {
			break
		}
		ticks = append(ticks, round(v, step))
	}
	return ticks
}

// niceStep rounds a raw step up to 1, 2, 5 or 10 times a power of ten.
func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// round removes float noise from a multiple of step (0.30000000000000004).
func round(v, step float64) float64 {
	decimals := max(0, -int(math.Floor(math.Log10(step))))
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

// Scale maps values of a domain linearly onto a range of SVG coordinates.
type Scale struct {
	D0, D1 float64 // domain
	R0, R1 float64 // range
}

// At is the coordinate of v. A domain of one value maps everything to the
// middle of the range.
func (s Scale) At(v float64) float64 {
	if s.D1 == s.D0 {
		return (s.R0 + s.R1) / 2
	}
	return s.R0 + (v-s.D0)*(s.R1-s.R0)/(s.D1-s.D0)
}

// top is the highest value of the chart's vertical scale.
func (c Chart) top() float64 {
	if c.Max > 0 {
		return c.Max
	}
	m := 0.0
	for _, s := range c.Series {
		for _, p := range s.Points {
			m = max(m, p.Value)
		}
	}
	return m
}

// YTicks are the chart's grid lines with their coordinates.
func (c Chart) YTicks() []Tick {
	ticks := Ticks(c.top(), 4, c.Unit == "")
	y := c.yScale(ticks)
	out := make([]Tick, len(ticks))
	for i, v := range ticks {
		out[i] = Tick{Pos: y.At(v), Label: Format(v, c.Unit)}
	}
	return out
}

func (c Chart) yScale(ticks []float64) Scale {
	_, _, y0, y1 := plot()
	return Scale{D0: 0, D1: ticks[len(ticks)-1], R0: y0, R1: y1}
}

// Tick is one labelled position on an axis.
type Tick struct {
	Pos   float64
	Label string
}

// Labels are the labels of the chart's first series (all series share
// them).
func (c Chart) Labels() []string {
	if len(c.Series) == 0 {
		return nil
	}
	out := make([]string, len(c.Series[0].Points))
	for i, p := range c.Series[0].Points {
		out[i] = p.Label
	}
	return out
}

// Empty reports whether there is nothing to draw.
func (c Chart) Empty() bool { return len(c.Labels()) == 0 }

// Bar is one drawn bar.
type Bar struct {
	X, Y, W, H float64
	Point      Point
	Series     int
}

// Bars lays out the chart as grouped bars: one group per label, one bar
// per series in each group. A value of 0 has no height.
func (c Chart) Bars() []Bar {
	labels := c.Labels()
	if len(labels) == 0 {
		return nil
	}
	x0, x1, _, _ := plot()
	y := c.yScale(Ticks(c.top(), 4, c.Unit == ""))
	band := (x1 - x0) / float64(len(labels))
	gap := band * 0.2
	w := (band - gap) / float64(len(c.Series))
	var bars []Bar
	for si, s := range c.Series {
		for i, p := range s.Points {
			v := max(p.Value, 0)
			top := y.At(v)
			bars = append(bars, Bar{X: x0 + float64(i)*band + gap/2 + float64(si)*w, Y: top, W: w, H: y.At(0) - top,
				Point: p, Series: si})
		}
	}
	return bars
}

// XTicks are the horizontal axis' labels with their positions: the middle
// of each bar group or each line point, thinned to at most MaxXLabels
// (the first and every k-th after it).
func (c Chart) XTicks(bars bool) []Tick {
	labels := c.Labels()
	step := LabelStep(len(labels), MaxXLabels)
	var out []Tick
	for i := 0; i < len(labels); i += step {
		out = append(out, Tick{Pos: c.xAt(i, bars), Label: labels[i]})
	}
	return out
}

// LabelStep is the k in "label every k-th of n so at most most are shown".
func LabelStep(n, most int) int {
	if n <= most || most < 1 {
		return 1
	}
	return (n + most - 1) / most
}

// xAt is the horizontal position of the i-th label.
func (c Chart) xAt(i int, bars bool) float64 {
	x0, x1, _, _ := plot()
	n := len(c.Labels())
	if bars {
		band := (x1 - x0) / float64(n)
		return x0 + (float64(i)+0.5)*band
	}
	if n == 1 {
		return (x0 + x1) / 2
	}
	return Scale{D0: 0, D1: float64(n - 1), R0: x0, R1: x1}.At(float64(i))
}

// LinePoint is one drawn point of a line.
type LinePoint struct {
	X, Y  float64
	Point Point
	index int // the label's position: a gap between two indexes breaks the line
}

// Line gives the coordinates of series si as a line: evenly spaced from
// the left edge to the right one (a single point in the middle).
func (c Chart) Line(si int) []LinePoint {
	y := c.yScale(Ticks(c.top(), 4, c.Unit == ""))
	var out []LinePoint
	for i, p := range c.Series[si].Points {
		if p.NoData {
			continue
		}
		out = append(out, LinePoint{X: c.xAt(i, false), Y: y.At(max(p.Value, 0)), Point: p, index: i})
	}
	return out
}

// Path is the SVG path data of a line through the points.
func Path(pts []LinePoint) string {
	var b strings.Builder
	for i, p := range pts {
		switch {
		case i == 0:
			b.WriteString("M")
		case p.index != pts[i-1].index+1:
			b.WriteString(" M") // a label without data between: the line breaks
		default:
			b.WriteString(" L")
		}
		b.WriteString(Num(p.X) + " " + Num(p.Y))
	}
	return b.String()
}

// Num writes a coordinate with at most two decimals.
func Num(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

// Format writes a value with its unit: whole numbers as such, others with
// one decimal.
func Format(v float64, unit string) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64) + unit
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + unit
}

// Description is the chart's text alternative: what it shows, in a
// sentence or two a screen reader reads in place of the picture.
func (c Chart) Description() string {
	labels := c.Labels()
	if len(labels) == 0 {
		return c.Title + ": no data."
	}
	var parts []string
	for _, s := range c.Series {
		total, hi, last := 0.0, -1, -1
		for i, p := range s.Points {
			if p.NoData {
				continue
			}
			total += p.Value
			if hi < 0 || p.Value > s.Points[hi].Value {
				hi = i
			}
			last = i
		}
		if hi < 0 {
			parts = append(parts, s.Name+": no data")
			continue
		}
		part := fmt.Sprintf("%s: highest %s (%s), last %s (%s)", s.Name, Format(s.Points[hi].Value, c.Unit), s.Points[hi].Label,
			Format(s.Points[last].Value, c.Unit), s.Points[last].Label)
		if c.Unit == "" {
			part += ", total " + Format(total, "")
		}
		parts = append(parts, part)
	}
	span := labels[0]
	if len(labels) > 1 {
		span += " to " + labels[len(labels)-1]
	}
	return fmt.Sprintf("%s by %s, %s (%d values). %s.", c.YLabel, strings.ToLower(c.XLabel), span, len(labels), strings.Join(parts, "; "))
}
