package report

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/myelin-go/myelin/internal/atomicfile"
)

// ErrNoData is returned (wrapped) when a chart has no finite point to draw.
var ErrNoData = errors.New("report: no finite data to plot")

// Series is one line on a chart: Y[i] against X[i].
type Series struct {
	Name   string // legend entry; "" leaves it out of the legend
	X, Y   []float64
	Dashed bool // draw dashed, e.g. validation next to training in the same colour
	// Color picks the palette entry: 0 takes the next colour in order,
	// k > 0 takes entry k-1, so lines that belong together can share one.
	Color int
}

// Band is a shaded range with a line through it: for percentile bands, Lo,
// Mid and Hi are the 15th, 50th and 85th percentiles at X.
type Band struct {
	Name           string
	X, Lo, Mid, Hi []float64
	Color          int // as in Series
}

// Chart is a line chart with a title, axis labels and a legend. Bands are
// drawn first, under the series. The zero value of each field is usable.
//
// Points with a NaN or infinite coordinate are skipped, and on a
// logarithmic axis so are points that are not positive; a chart left with
// no point at all is an error wrapping ErrNoData.
type Chart struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Series                []Series
	Bands                 []Band
	// Name is the base of the file names Write gives the chart
	// ("" derives one from Title).
	Name string
}

// Size of every chart: 8 by 4.5 inches, rendered at 120 dots per inch
// for PNG (960 by 540 pixels).
const (
	chartWidth  = 8 * vg.Inch
	chartHeight = 4.5 * vg.Inch
	chartDPI    = 120
)

// palette is Tableau's ten colours: distinct from each other, readable on
// white, and still told apart by most colour-blind readers when paired with
// the dashes used after the tenth line.
var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, // blue
	{0xff, 0x7f, 0x0e, 0xff}, // orange
	{0x2c, 0xa0, 0x2c, 0xff}, // green
	{0xd6, 0x27, 0x28, 0xff}, // red
	{0x94, 0x67, 0xbd, 0xff}, // purple
	{0x8c, 0x56, 0x4b, 0xff}, // brown
	{0xe3, 0x77, 0xc2, 0xff}, // pink
	{0x7f, 0x7f, 0x7f, 0xff}, // grey
	{0xbc, 0xbd, 0x22, 0xff}, // olive
	{0x17, 0xbe, 0xcf, 0xff}, // cyan
}

var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(6), vg.Points(2), vg.Points(2), vg.Points(2)}}

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Save renders the chart to path, as PNG or SVG by the extension, and
// writes it atomically.
func (c Chart) Save(path string) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	b, err := c.Render(format)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// Render returns the chart as an image in format "png" or "svg".
func (c Chart) Render(format string) (b []byte, err error) {
	var cv vg.CanvasWriterTo
	switch strings.ToLower(format) {
	case "png":
		cv = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(chartWidth, chartHeight), vgimg.UseDPI(chartDPI))}
	case "svg":
		cv = vgsvg.New(chartWidth, chartHeight)
	default:
		return nil, fmt.Errorf("report: chart %q: format %q is not png or svg", c.Title, format)
	}
	p, legend, err := c.build()
	if err != nil {
		return nil, err
	}
	// gonum/plot panics on input it cannot draw; the checks in build are
	// meant to rule that out, and this keeps a miss from crashing a run.
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("report: chart %q: drawing: %v", c.Title, r)
		}
	}()
	drawWithLegend(draw.New(cv), p, legend)
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("report: chart %q: encoding %s: %w", c.Title, format, err)
	}
	return buf.Bytes(), nil
}

// drawWithLegend draws p on the left of dc and the legend in a column on
// the right, so that a legend of many lines never covers the data.
func drawWithLegend(dc draw.Canvas, p *plot.Plot, l *plot.Legend) {
	if l == nil {
		p.Draw(dc)
		return
	}
	pad := vg.Points(8)
	r := l.Rectangle(dc)
	w := r.Max.X - r.Min.X + 2*pad
	if max := (dc.Max.X - dc.Min.X) / 3; w > max {
		w = max
	}
	left, right := dc, dc
	left.Max.X -= w
	right.Min.X = left.Max.X + pad
	right.Max.Y -= pad + 24 // below the title, level with the top of the axes
	p.Draw(left)
	l.Draw(right)
}

// item is one thing to draw, Series or Band, after filtering.
type item struct {
	name   string
	xys    plotter.XYs // the line (Series, or a Band's Mid)
	lo, hi plotter.XYs // a Band's edges; nil for a Series
	col    color.RGBA
	dash   []vg.Length
}

// build turns the chart into a gonum plot and its legend, skipping points
// that cannot be drawn.
func (c Chart) build() (*plot.Plot, *plot.Legend, error) {
	usable := func(x, y float64) bool {
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			return false
		}
		return (!c.LogX || x > 0) && (!c.LogY || y > 0)
	}
	next := 0
	pick := func(k int) (color.RGBA, []vg.Length) {
		i := k - 1
		if k <= 0 {
			i = next
			next++
		}
		return palette[i%len(palette)], dashes[(i/len(palette))%len(dashes)]
	}
	var items []item
	for _, b := range c.Bands {
		if len(b.Lo) != len(b.X) || len(b.Mid) != len(b.X) || len(b.Hi) != len(b.X) {
			return nil, nil, fmt.Errorf("report: chart %q: band %q: %d x values but %d, %d, %d lo, mid, hi values",
				c.Title, b.Name, len(b.X), len(b.Lo), len(b.Mid), len(b.Hi))
		}
		it := item{name: b.Name}
		it.col, it.dash = pick(b.Color)
		for i, x := range b.X {
			if usable(x, b.Lo[i]) && usable(x, b.Mid[i]) && usable(x, b.Hi[i]) {
				it.lo = append(it.lo, plotter.XY{X: x, Y: b.Lo[i]})
				it.xys = append(it.xys, plotter.XY{X: x, Y: b.Mid[i]})
				it.hi = append(it.hi, plotter.XY{X: x, Y: b.Hi[i]})
			}
		}
		if len(it.xys) > 0 {
			items = append(items, it)
		}
	}
	for _, s := range c.Series {
		if len(s.Y) != len(s.X) {
			return nil, nil, fmt.Errorf("report: chart %q: series %q: %d x values but %d y values", c.Title, s.Name, len(s.X), len(s.Y))
		}
		it := item{name: s.Name}
		it.col, it.dash = pick(s.Color)
		if s.Dashed {
			it.dash = dashes[1]
		}
		for i, x := range s.X {
			if usable(x, s.Y[i]) {
				it.xys = append(it.xys, plotter.XY{X: x, Y: s.Y[i]})
			}
		}
		if len(it.xys) > 0 {
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return nil, nil, fmt.Errorf("%w: chart %q", ErrNoData, c.Title)
	}

	p := plot.New()
	p.Title.Text = c.Title
	p.Title.TextStyle.Font = font.From(sans, 13)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 11)
		a.Tick.Label.Font = font.From(sans, 9)
		a.Padding = vg.Points(2)
	}
	p.X.Label.Text, p.Y.Label.Text = c.XLabel, c.YLabel
	p.X.Tick.Marker, p.Y.Tick.Marker = linearTicks{integer: wholeX(items)}, linearTicks{}
	if c.LogX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	if c.LogY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 0xe0}
	grid.Horizontal.Color = color.Gray{Y: 0xe0}
	p.Add(grid)

	legend := plot.NewLegend()
	legend.TextStyle.Font = font.From(sans, 9)
	if n := countNamed(items); n > 20 { // keep a long legend within the height
		legend.TextStyle.Font = font.From(sans, vg.Length(max(5, 9*20/float64(n))))
	}
	legend.Top, legend.Left = true, true
	legend.ThumbnailWidth = vg.Points(24)
	legend.Padding = vg.Points(3)
	named := 0
	for _, it := range items {
		var thumbs []plot.Thumbnailer
		if it.lo != nil {
			poly, err := plotter.NewPolygon(band(it.lo, it.hi))
			if err != nil {
				return nil, nil, fmt.Errorf("report: chart %q: band %q: %w", c.Title, it.name, err)
			}
			fill := it.col
			fill.A = 0x50
			poly.Color = premultiply(fill)
			poly.LineStyle.Width = 0
			p.Add(poly)
			thumbs = append(thumbs, poly)
		}
		line, err := plotter.NewLine(it.xys)
		if err != nil {
			return nil, nil, fmt.Errorf("report: chart %q: %q: %w", c.Title, it.name, err)
		}
		line.LineStyle.Color = it.col
		line.LineStyle.Width = vg.Points(1.5)
		line.LineStyle.Dashes = it.dash
		p.Add(line)
		thumbs = append(thumbs, line)
		// Marks show where the points are when there are few of them
		// (one point per epoch), and make a single point visible at all.
		if len(it.xys) <= 40 {
			sc, err := plotter.NewScatter(it.xys)
			if err != nil {
				return nil, nil, fmt.Errorf("report: chart %q: %q: %w", c.Title, it.name, err)
			}
			sc.GlyphStyle.Color = it.col
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			sc.GlyphStyle.Radius = vg.Points(2.2)
			p.Add(sc)
		}
		if it.name != "" {
			legend.Add(it.name, thumbs...)
			named++
		}
	}
	fixRange(&p.X, c.LogX)
	fixRange(&p.Y, c.LogY)
	if named == 0 {
		return p, nil, nil
	}
	return p, &legend, nil
}

func countNamed(items []item) int {
	n := 0
	for _, it := range items {
		if it.name != "" {
			n++
		}
	}
	return n
}

// wholeX reports whether every x is a whole number.
func wholeX(items []item) bool {
	for _, it := range items {
		for _, p := range it.xys {
			if p.X != math.Trunc(p.X) {
				return false
			}
		}
	}
	return true
}

// band is the closed outline of the area between lo and hi.
func band(lo, hi plotter.XYs) plotter.XYs {
	out := make(plotter.XYs, 0, len(lo)+len(hi))
	out = append(out, lo...)
	for i := len(hi) - 1; i >= 0; i-- {
		out = append(out, hi[i])
	}
	return out
}

// premultiply returns c with its colour channels scaled by alpha, as
// color.RGBA requires.
func premultiply(c color.RGBA) color.RGBA {
	a := uint16(c.A)
	return color.RGBA{uint8(uint16(c.R) * a / 0xff), uint8(uint16(c.G) * a / 0xff), uint8(uint16(c.B) * a / 0xff), c.A}
}

// fixRange widens an axis whose data is a single value. gonum/plot does
// that by ±1, which is wrong on a log scale (it can reach zero).
func fixRange(a *plot.Axis, log bool) {
	if a.Min != a.Max {
		return
	}
	switch {
	case log:
		a.Min, a.Max = a.Min/2, a.Max*2
	case a.Min == 0:
		a.Min, a.Max = -1, 1
	default:
		d := math.Abs(a.Min) / 10
		a.Min, a.Max = a.Min-d, a.Max+d
	}
}
