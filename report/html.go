package report

import (
	_ "embed"
	"encoding/base64"
	"html/template"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/myelin-go/myelin/internal/atomicfile"
)

//go:embed index.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("index.html").Parse(pageSource))

// page is what the template sees.
type page struct {
	Title, Created, Stopped string
	Config                  []Field
	Final, Test             bool // whether the Metrics rows have these columns
	Metrics                 []metricRow
	Notes                   []string
	Figures                 []figure
	Epochs                  Table
	Tables                  []Table
	Files                   []string
}

type metricRow struct{ Name, Final, Test string }

type figure struct {
	Title, Name string
	PNG         []byte
	NoData      bool
}

// Src is the src attribute holding the PNG as a data: URI. html/template
// refuses data: URIs made of strings, as it should for input, and would
// escape every "+"; this one is base64 of bytes we drew, safe as it is.
func (f figure) Src() template.HTMLAttr {
	return template.HTMLAttr(`src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(f.PNG) + `"`)
}

func newPage(r Run) *page {
	p := &page{Title: r.Title, Config: r.Config, Notes: r.Notes, Stopped: r.History.Stopped}
	if p.Title == "" {
		p.Title = "myelin run"
	}
	if !r.Created.IsZero() {
		p.Created = r.Created.Format(time.RFC3339)
	}
	last := map[string]float64{}
	for k, v := range r.History.Metrics {
		if len(v) > 0 && len(v) == len(r.History.Epochs) {
			last[k] = v[len(v)-1]
		}
	}
	all := map[string]bool{}
	for k := range last {
		all[k] = true
	}
	for k := range r.Test {
		all[k] = true
	}
	p.Final, p.Test = len(last) > 0, len(r.Test) > 0
	for _, k := range metricNames(all) {
		row := metricRow{Name: k}
		if v, ok := last[k]; ok {
			row.Final = showFloat(v)
		}
		if v, ok := r.Test[k]; ok {
			row.Test = showFloat(v)
		}
		p.Metrics = append(p.Metrics, row)
	}
	h := historyTable(r.History)
	p.Epochs.Header = h[0]
	for _, row := range h[1:] {
		out := make([]string, len(row))
		out[0] = row[0]
		for j, cell := range row[1:] {
			if v, err := strconv.ParseFloat(cell, 64); err == nil {
				cell = showFloat(v)
			}
			out[j+1] = cell
		}
		p.Epochs.Rows = append(p.Epochs.Rows, out)
	}
	p.Tables = r.Tables
	return p
}

// showFloat is a number for reading: five significant digits.
func showFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 5, 64)
}

func writeHTML(path string, p *page) error {
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		return pageTemplate.Execute(w, p)
	})
}
