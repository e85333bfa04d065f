package report

import (
	"strings"

	"github.com/myelin-go/myelin/model"
)

// HistoryCharts returns one chart per metric of h against the epoch: the
// training values as a solid line and, when h has them, the validation
// values ("val_" + name) dashed in the same colour.
func HistoryCharts(h model.History) []Chart {
	x := make([]float64, len(h.Epochs))
	for i, e := range h.Epochs {
		x[i] = float64(e)
	}
	var charts []Chart
	for _, k := range metricNames(h.Metrics) {
		if strings.HasPrefix(k, "val_") {
			continue
		}
		c := Chart{Title: k, XLabel: "epoch", YLabel: k, Name: k}
		c.Series = append(c.Series, Series{Name: "training", X: x, Y: h.Metrics[k], Color: 1}.trim())
		if v, ok := h.Metrics["val_"+k]; ok {
			c.Series = append(c.Series, Series{Name: "validation", X: x, Y: v, Color: 1, Dashed: true}.trim())
		}
		charts = append(charts, c)
	}
	// Validation metrics without a training twin still get a chart.
	for _, k := range metricNames(h.Metrics) {
		if base, ok := strings.CutPrefix(k, "val_"); ok {
			if _, twin := h.Metrics[base]; !twin {
				charts = append(charts, Chart{Title: k, XLabel: "epoch", YLabel: k, Name: k,
					Series: []Series{Series{Name: "validation", X: x, Y: h.Metrics[k], Dashed: true}.trim()}})
			}
		}
	}
	return charts
}

// StepCharts returns one chart per log name in steps against the step,
// for the curves recorded within epochs. Names are taken in metric order
// (loss first); a name missing at some step leaves a gap there.
func StepCharts(steps []StepLog) []Chart {
	seen := map[string]bool{}
	for _, s := range steps {
		for k := range s.Logs {
			seen[k] = true
		}
	}
	var charts []Chart
	for _, k := range metricNames(seen) {
		var s Series
		s.Name = k
		for _, st := range steps {
			if v, ok := st.Logs[k]; ok {
				s.X = append(s.X, float64(st.Step))
				s.Y = append(s.Y, v)
			}
		}
		charts = append(charts, Chart{Title: k + " per step", XLabel: "step", YLabel: k, Name: k + "-steps", Series: []Series{s}})
	}
	return charts
}

// Compare returns a chart of one metric from several runs, one colour per
// run: the training values solid, the validation ones dashed. names[i]
// labels runs[i]; runs without the metric are left out.
func Compare(title, metric string, names []string, runs []model.History) Chart {
	c := Chart{Title: title, XLabel: "epoch", YLabel: metric}
	for i, h := range runs {
		name := ""
		if i < len(names) {
			name = names[i]
		}
		x := make([]float64, len(h.Epochs))
		for j, e := range h.Epochs {
			x[j] = float64(e)
		}
		for _, val := range []bool{false, true} {
			k, label := metric, name
			if val {
				k, label = "val_"+metric, name+" (validation)"
			}
			if v, ok := h.Metrics[k]; ok {
				c.Series = append(c.Series, Series{Name: label, X: x, Y: v, Dashed: val, Color: i + 1}.trim())
			}
		}
	}
	return c
}

// trim cuts X and Y to the shorter of the two, for histories whose
// metrics do not cover every epoch.
func (s Series) trim() Series {
	n := min(len(s.X), len(s.Y))
	s.X, s.Y = s.X[:n], s.Y[:n]
	return s
}
