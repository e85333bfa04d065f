// Package report draws training charts and writes a self-contained report
// of a run: PNG and SVG charts, CSV files of the metrics, and an index.html
// that opens from disk with no server and no network.
//
// Charts are plain data (Series, Band, Chart) drawn with gonum.org/v1/plot,
// so anything that can be put as numbers against a step or an epoch can be
// plotted, and a comparison of runs is several Series on one Chart.
// Monitors turns what package monitor records during Fit (curves, gradient
// health, batch norm, activation percentiles) into charts, tables and CSV
// data for a Run; it is what "myelin train --report" uses.
//
// Write lays out a report directory:
//
//	index.html   the page: configuration, final metrics, notes, every chart
//	             (embedded as PNG data: URIs), the per-epoch table, the tables
//	metrics.csv  one row per epoch, a column per metric (History)
//	steps.csv    one row per recorded step, when Run.Steps is set
//	NAME.png     each chart, 960 by 540 pixels
//	NAME.svg     each chart as vector graphics
//	*.csv        each Table that names a File
//
// The page has no script and a Content-Security-Policy that allows only
// inline styles and data: images, so a browser loads nothing else; every
// string in it is escaped by html/template.
package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/myelin-go/myelin/model"
)

// Field is one entry of a run's configuration.
type Field struct{ Key, Value string }

// Table is rows of text under a header: a summary to show on the page, or
// raw data to write as CSV.
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
	// File, if set, is the name of a CSV file to write the table to in the
	// report directory: a plain name ending in ".csv".
	File string
}

// StepLog is the training logs recorded at one step, such as the running
// loss and accuracy that monitor.Curves keeps every few steps.
type StepLog struct {
	Step, Epoch int
	Logs        map[string]float64
}

// Run is everything a report shows. Only Title has a default; empty parts
// are left out of the page.
type Run struct {
	Title   string    // "myelin run" when empty
	Created time.Time // shown when not zero
	Config  []Field   // in the order given
	History model.History
	Test    map[string]float64 // final metrics on the test set
	Steps   []StepLog          // per-step logs, written to steps.csv
	Notes   []string           // short lines shown above the charts
	Charts  []Chart            // drawn in order; one without data is listed as such
	Tables  []Table            // shown on the page, and written as CSV when File is set
	Data    []Table            // written as CSV only, and linked from the page
}

// reserved names are written by Write itself.
var reserved = map[string]bool{"index.html": true, "metrics.csv": true, "steps.csv": true}

// Write writes the report of r into dir, creating dir if needed, and
// replaces files of the same names; index.html is written last, so a
// complete page means a complete report. A chart without data does not
// stop the report: the page says it had none.
func Write(dir string, r Run) error {
	if dir == "" {
		return errors.New("report: Write: empty directory name")
	}
	if err := checkHistory(r.History); err != nil {
		return err
	}
	names := map[string]bool{}
	for _, tb := range append(append([]Table(nil), r.Tables...), r.Data...) {
		if tb.File == "" {
			continue
		}
		if filepath.Base(tb.File) != tb.File || !strings.HasSuffix(tb.File, ".csv") || tb.File == ".csv" || reserved[tb.File] || names[tb.File] {
			return fmt.Errorf("report: Write: table %q: file name %q must be a new plain name ending in .csv", tb.Title, tb.File)
		}
		names[tb.File] = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}

	page := newPage(r)
	for i, c := range r.Charts {
		name := uniqueName(c, i, names)
		fig := figure{Title: c.Title, Name: name}
		if fig.Title == "" {
			fig.Title = name
		}
		png, err := c.Render("png")
		if errors.Is(err, ErrNoData) {
			fig.NoData = true
			page.Figures = append(page.Figures, fig)
			continue
		}
		if err != nil {
			return err
		}
		svg, err := c.Render("svg")
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dir, name+".png"), png); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dir, name+".svg"), svg); err != nil {
			return err
		}
		fig.PNG = png
		page.Figures = append(page.Figures, fig)
	}

	if err := writeCSV(filepath.Join(dir, "metrics.csv"), historyTable(r.History)); err != nil {
		return err
	}
	page.Files = append(page.Files, "metrics.csv")
	if len(r.Steps) > 0 {
		if err := writeCSV(filepath.Join(dir, "steps.csv"), stepsTable(r.Steps)); err != nil {
			return err
		}
		page.Files = append(page.Files, "steps.csv")
	}
	for _, tb := range append(append([]Table(nil), r.Tables...), r.Data...) {
		if tb.File == "" {
			continue
		}
		if err := writeCSV(filepath.Join(dir, tb.File), append([][]string{tb.Header}, tb.Rows...)); err != nil {
			return err
		}
		page.Files = append(page.Files, tb.File)
	}
	return writeHTML(filepath.Join(dir, "index.html"), page)
}

// checkHistory rejects a history whose metrics cannot be lined up with
// its epochs.
func checkHistory(h model.History) error {
	for _, k := range metricNames(h.Metrics) {
		if n := len(h.Metrics[k]); n > len(h.Epochs) {
			return fmt.Errorf("report: Write: history metric %q has %d values for %d epochs", k, n, len(h.Epochs))
		}
	}
	return nil
}

// uniqueName is the base file name for chart i: its Name, or a slug of
// its title, made unique among taken.
func uniqueName(c Chart, i int, taken map[string]bool) string {
	base := slug(c.Name)
	if base == "" {
		base = slug(c.Title)
	}
	if base == "" {
		base = fmt.Sprintf("chart-%d", i+1)
	}
	name := base
	for n := 2; taken[name+".png"] || taken[name+".svg"] || reserved[name+".png"]; n++ {
		name = fmt.Sprintf("%s-%d", base, n)
	}
	taken[name+".png"], taken[name+".svg"] = true, true
	return name
}

// slug keeps ASCII letters and digits, lowercased, and joins the runs of
// them with single hyphens: "Gradient norm (log)" is "gradient-norm-log".
func slug(s string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			hyphen = false
		} else {
			hyphen = true
		}
	}
	out := b.String()
	if len(out) > 60 {
		out = strings.TrimRight(out[:60], "-")
	}
	return out
}

// metricNames orders metric names for columns: "loss", the other training
// metrics sorted, then the same for the "val_" ones.
func metricNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	rank := func(k string) int {
		r := 0
		if strings.HasPrefix(k, "val_") {
			r, k = 2, k[len("val_"):]
		}
		if k != "loss" {
			r++
		}
		return r
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := rank(names[i]), rank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	return names
}
