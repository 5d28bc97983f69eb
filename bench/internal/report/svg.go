package report

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartW   = 880
	chartH   = 280
	padLeft  = 64
	padRight = 16
	padTop   = 28
	padBot   = 40
)

// xy is one point of a series.
type xy struct {
	x, y float64
	tip  string // shown on hover
}

// series is one line of a chart.
type series struct {
	name  string
	color string
	pts   []xy
	bars  bool // drawn as bars from zero instead of a line
}

// chart is a line chart drawn as inline SVG, with no script needed to see
// it. It is a value built once per report.
type chart struct {
	id      string
	xLabel  string
	yLabel  string
	logY    bool
	xTicks  []tick // when nil, linear ticks are chosen
	series  []series
	minX    float64
	maxX    float64
	minY    float64
	maxY    float64
	noPoint bool // no hover markers (dense series)
	zeroX   bool // the x axis starts at 0 (time since the start of the run)
}

// tick is an axis label at a data coordinate.
type tick struct {
	at    float64
	label string
}

// svg renders the chart. An empty chart renders a note instead of axes.
func (c *chart) svg() string {
	c.bounds()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="%s" class="chart" xmlns="http://www.w3.org/2000/svg" `+
		`viewBox="0 0 %d %d" role="img" aria-label="%s">`, c.id, chartW, chartH, esc(c.yLabel))
	if c.maxX <= c.minX {
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="empty">no data</text></svg>`, chartW/2, chartH/2)
		return b.String()
	}
	c.axes(&b)
	for _, s := range c.series {
		c.draw(&b, s)
	}
	c.legend(&b)
	b.WriteString(`</svg>`)
	return b.String()
}

// bounds sets the data ranges from the series.
func (c *chart) bounds() {
	c.minX, c.maxX = math.Inf(1), math.Inf(-1)
	c.minY, c.maxY = math.Inf(1), 0
	for _, s := range c.series {
		for _, p := range s.pts {
			c.minX, c.maxX = math.Min(c.minX, p.x), math.Max(c.maxX, p.x)
			c.maxY = math.Max(c.maxY, p.y)
			if p.y > 0 {
				c.minY = math.Min(c.minY, p.y)
			}
		}
	}
	if c.zeroX && c.minX > 0 {
		c.minX = 0
	}
	if c.maxX == c.minX && !math.IsInf(c.maxX, 0) {
		c.minX, c.maxX = c.minX-0.5, c.maxX+0.5 // one point: centre it
	}
	if c.logY {
		if math.IsInf(c.minY, 1) {
			c.minY, c.maxY = 0.01, 1
		}
		c.minY = math.Pow(10, math.Floor(math.Log10(c.minY)))
		c.maxY = math.Pow(10, math.Ceil(math.Log10(math.Max(c.maxY, c.minY*10))))
		return
	}
	c.minY = 0
	c.maxY = niceCeil(c.maxY)
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (1 for v <= 0).
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func (c *chart) px(x float64) float64 {
	return padLeft + (x-c.minX)/(c.maxX-c.minX)*(chartW-padLeft-padRight)
}

func (c *chart) py(y float64) float64 {
	h := float64(chartH - padTop - padBot)
	if c.logY {
		y = math.Max(y, c.minY)
		f := (math.Log10(y) - math.Log10(c.minY)) / (math.Log10(c.maxY) - math.Log10(c.minY))
		return padTop + h*(1-f)
	}
	return padTop + h*(1-(y-c.minY)/(c.maxY-c.minY))
}

// axes draws the frame, grid lines, tick labels and axis titles.
func (c *chart) axes(b *strings.Builder) {
	x0, x1 := float64(padLeft), float64(chartW-padRight)
	y0, y1 := float64(padTop), float64(chartH-padBot)
	for _, t := range c.yTicks() {
		y := c.py(t.at)
		fmt.Fprintf(b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x0, y, x1, y)
		fmt.Fprintf(b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="end">%s</text>`,
			x0-6, y+4, esc(t.label))
	}
	xt := c.xTicks
	if xt == nil {
		xt = linearTicks(c.minX, c.maxX, 8)
	}
	for _, t := range xt {
		if t.at < c.minX || t.at > c.maxX {
			continue
		}
		x := c.px(t.at)
		fmt.Fprintf(b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x, y0, x, y1)
		fmt.Fprintf(b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`,
			x, y1+16, esc(t.label))
	}
	fmt.Fprintf(b, `<rect class="frame" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`,
		x0, y0, x1-x0, y1-y0)
	fmt.Fprintf(b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`,
		(x0+x1)/2, chartH-4, esc(c.xLabel))
	fmt.Fprintf(b, `<text class="axis" x="14" y="%.1f" text-anchor="middle" `+
		`transform="rotate(-90 14 %.1f)">%s</text>`, (y0+y1)/2, (y0+y1)/2, esc(c.yLabel))
}

func (c *chart) yTicks() []tick {
	if !c.logY {
		return linearTicks(c.minY, c.maxY, 5)
	}
	var out []tick
	for v := c.minY; v <= c.maxY*1.0001; v *= 10 {
		out = append(out, tick{at: v, label: num(v)})
	}
	return out
}

// linearTicks returns about n evenly spaced round ticks over [lo, hi].
func linearTicks(lo, hi float64, n int) []tick {
	step := niceCeil((hi - lo) / float64(n))
	var out []tick
	for v := math.Ceil(lo/step) * step; v <= hi+step/1e6; v += step {
		out = append(out, tick{at: v, label: num(v)})
	}
	return out
}

// num formats an axis value compactly.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return fmt.Sprintf("%gM", math.Round(v/1e5)/10)
	case a >= 1e4:
		return fmt.Sprintf("%gk", math.Round(v/100)/10)
	}
	return fmt.Sprintf("%g", math.Round(v*1000)/1000)
}

// draw renders one series, with a hover marker per point.
func (c *chart) draw(b *strings.Builder, s series) {
	if s.bars {
		w := math.Max(2, (chartW-padLeft-padRight)/float64(max(len(s.pts), 1))*0.6)
		for _, p := range s.pts {
			if p.y <= 0 {
				continue
			}
			y := c.py(p.y)
			fmt.Fprintf(b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" `+
				`fill="%s" data-tip="%s"/>`, c.px(p.x)-w/2, y, w, c.py(c.minY)-y, s.color, esc(p.tip))
		}
		return
	}
	var path strings.Builder
	for i, p := range s.pts {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, c.px(p.x), c.py(p.y))
	}
	fmt.Fprintf(b, `<path class="line" d="%s" stroke="%s"/>`,
		strings.TrimSpace(path.String()), s.color)
	if c.noPoint {
		return
	}
	for _, p := range s.pts {
		fmt.Fprintf(b, `<circle class="pt" cx="%.1f" cy="%.1f" r="3" fill="%s" data-tip="%s"/>`,
			c.px(p.x), c.py(p.y), s.color, esc(s.name+": "+p.tip))
	}
}

// legend draws the series names along the top edge.
func (c *chart) legend(b *strings.Builder) {
	x := float64(padLeft)
	for _, s := range c.series {
		fmt.Fprintf(b, `<rect x="%.1f" y="8" width="12" height="12" fill="%s"/>`, x, s.color)
		fmt.Fprintf(b, `<text class="legend" x="%.1f" y="18">%s</text>`, x+16, esc(s.name))
		x += 28 + 7.5*float64(len(s.name))
	}
}

func esc(s string) string { return html.EscapeString(s) }
