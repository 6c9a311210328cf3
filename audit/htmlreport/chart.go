package htmlreport

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Chart geometry, in SVG user units; the page scales charts to their
// column's width through the viewBox.
const (
	chartWidth   = 560
	chartHeight  = 240
	plotLeft     = 56
	plotRight    = 12
	plotTop      = 12
	plotBottom   = 28
	maxXLabels   = 12
	targetYTicks = 4
)

// series is one named row of values, one per cycle.
type series struct {
	Name   string
	Color  string
	Values []float64
}

// chart is one SVG chart as the page's template draws it: every shape is
// computed here, so the template only places numbers and escaped text.
type chart struct {
	// Kind names what the chart shows, for the page's tests and styles.
	Kind  string
	Title string
	// Desc says what the chart shows, for screen readers.
	Desc   string
	Width  int
	Height int
	Bars   []bar
	Lines  []line
	YTicks []tick
	XTicks []tick
	Legend []legendItem
	// PlotX, PlotY, PlotW and PlotH are the plot area, for its axes.
	PlotX, PlotY, PlotW, PlotH float64
	// perUnit is the height of one unit of value.
	perUnit float64
}

// height is the height of a value on the chart's scale.
func (c chart) height(v float64) float64 { return v * c.perUnit }

type bar struct {
	X, Y, W, H float64
	Color      string
	// Tip is shown when the pointer rests on the bar.
	Tip string
}

type line struct {
	Color  string
	Points string
	Dots   []dot
}

type dot struct {
	X, Y float64
	Tip  string
}

type tick struct {
	At    float64
	Label string
}

type legendItem struct {
	Name  string
	Color string
}

// stackedBars draws one bar per label, its series stacked from the axis
// up in the order given; series whose values are all zero are left out of
// the legend.
func stackedBars(kind, title, desc, unit string, labels []string, ss []series) chart {
	totals := make([]float64, len(labels))
	for _, s := range ss {
		for i, v := range s.Values {
			totals[i] += v
		}
	}
	c := newChart(kind, title, desc, labels, maxOf(totals), unit)
	slot := c.PlotW / float64(len(labels))
	width := math.Max(1, math.Min(slot*0.7, 40))
	base := make([]float64, len(labels))
	for _, s := range ss {
		used := false
		for i, v := range s.Values {
			if v <= 0 {
				continue
			}
			used = true
			h := c.height(v)
			x := c.PlotX + slot*float64(i) + (slot-width)/2
			c.Bars = append(c.Bars, bar{X: x, Y: c.PlotY + c.PlotH - base[i] - h, W: width, H: h, Color: s.Color,
				Tip: fmt.Sprintf("cycle %s — %s: %s", labels[i], s.Name, formatValue(v, unit))})
			base[i] += h
		}
		if used {
			c.Legend = append(c.Legend, legendItem{Name: s.Name, Color: s.Color})
		}
	}
	return c
}

// lines draws each series as a line with a dot per label.
func lines(kind, title, desc, unit string, labels []string, ss []series) chart {
	var top float64
	for _, s := range ss {
		top = math.Max(top, maxOf(s.Values))
	}
	c := newChart(kind, title, desc, labels, top, unit)
	slot := c.PlotW / float64(len(labels))
	for _, s := range ss {
		l := line{Color: s.Color}
		var pts []string
		for i, v := range s.Values {
			x, y := c.PlotX+slot*(float64(i)+0.5), c.PlotY+c.PlotH-c.height(v)
			pts = append(pts, strconv.FormatFloat(x, 'f', 1, 64)+","+strconv.FormatFloat(y, 'f', 1, 64))
			l.Dots = append(l.Dots, dot{X: x, Y: y, Tip: fmt.Sprintf("cycle %s — %s: %s", labels[i], s.Name, formatValue(v, unit))})
		}
		l.Points = strings.Join(pts, " ")
		c.Lines = append(c.Lines, l)
		c.Legend = append(c.Legend, legendItem{Name: s.Name, Color: s.Color})
	}
	return c
}

// newChart lays out the plot area and its axes for values up to top.
func newChart(kind, title, desc string, labels []string, top float64, unit string) chart {
	c := chart{Kind: kind, Title: title, Desc: desc, Width: chartWidth, Height: chartHeight,
		PlotX: plotLeft, PlotY: plotTop, PlotW: chartWidth - plotLeft - plotRight, PlotH: chartHeight - plotTop - plotBottom}
	step := niceStep(top)
	if unit == "" {
		step = math.Max(step, 1) // counts are whole
	}
	n := max(1, int(math.Ceil(top/step-1e-9)))
	for i := 0; i <= n; i++ {
		c.YTicks = append(c.YTicks, tick{At: c.PlotY + c.PlotH - c.PlotH*float64(i)/float64(n), Label: formatValue(step*float64(i), unit)})
	}
	c.perUnit = c.PlotH / (step * float64(n))
	slot := c.PlotW / float64(len(labels))
	every := (len(labels) + maxXLabels - 1) / maxXLabels
	for i, l := range labels {
		// The newest cycle is always labelled; the others every few.
		if (len(labels)-1-i)%every == 0 {
			c.XTicks = append(c.XTicks, tick{At: c.PlotX + slot*(float64(i)+0.5), Label: l})
		}
	}
	return c
}

// niceStep is the step between y-axis ticks for values up to top: 1, 2
// or 5 times a power of ten, giving about targetYTicks ticks.
func niceStep(top float64) float64 {
	if top <= 0 {
		return 1
	}
	raw := top / targetYTicks
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= raw {
			return m * pow
		}
	}
	return 10 * pow
}

func maxOf(vs []float64) float64 {
	var m float64
	for _, v := range vs {
		m = math.Max(m, v)
	}
	return m
}
