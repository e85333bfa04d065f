package report

import (
	"fmt"
	"strconv"

	"github.com/myelin-go/myelin/monitor"
)

// addHealth adds the gradient-health charts, summary, notes and data.
func addHealth(run *Run, h *monitor.Health) {
	var grad, weight, ratio, dead bySeries
	last := map[string]monitor.HealthRecord{}
	samples := map[string]int{}
	for _, rec := range h.Records {
		x := float64(rec.Step)
		grad.add(rec.Layer, x, rec.GradNorm)
		weight.add(rec.Layer, x, rec.WeightNorm)
		ratio.add(rec.Layer, x, rec.UpdateRatio)
		if rec.ReLU {
			dead.add(rec.Layer, x, rec.DeadFraction)
		}
		last[rec.Layer] = rec
		samples[rec.Layer]++
	}
	run.Charts = append(run.Charts,
		Chart{Title: "Gradient norm per layer", Name: "gradient-norm", XLabel: "step", YLabel: "gradient L2 norm (log scale)", LogY: true, Series: grad.series()},
		Chart{Title: "Update-to-weight ratio per layer", Name: "update-ratio", XLabel: "step", YLabel: "update norm / weight norm", LogY: true, Series: ratio.series()},
		Chart{Title: "Weight norm per layer", Name: "weight-norm", XLabel: "step", YLabel: "weight L2 norm", Series: weight.series()},
	)
	if len(dead.order) > 0 {
		run.Charts = append(run.Charts, Chart{Title: "Dead ReLU units per layer", Name: "dead-relu", XLabel: "step", YLabel: "fraction dead on the batch", Series: dead.series()})
	}

	summary := Table{Title: "Gradient health (last sample of each layer)", File: "health-summary.csv",
		Header: []string{"layer", "step", "gradient norm", "weight norm", "update ratio", "dead ReLU", "vanishing", "exploding"}}
	for _, layer := range grad.order {
		rec := last[layer]
		deadCell := "–"
		if rec.ReLU {
			deadCell = num(rec.DeadFraction)
		}
		v, x := h.Count(layer, monitor.FlagVanishing), h.Count(layer, monitor.FlagExploding)
		summary.Rows = append(summary.Rows, []string{layer, strconv.Itoa(rec.Step), num(rec.GradNorm), num(rec.WeightNorm), num(rec.UpdateRatio), deadCell,
			fmt.Sprintf("%d of %d", v, samples[layer]), fmt.Sprintf("%d of %d", x, samples[layer])})
		for _, f := range []struct {
			name string
			n    int
		}{{monitor.FlagVanishing, v}, {monitor.FlagExploding, x}} {
			if f.n > 0 {
				run.Notes = append(run.Notes, fmt.Sprintf("%s: %s gradients at %d of %d sampled steps", layer, f.name, f.n, samples[layer]))
			}
		}
	}
	if len(summary.Rows) > 0 {
		run.Tables = append(run.Tables, summary)
		if len(run.Notes) == 0 {
			run.Notes = append(run.Notes, "No layer was flagged for vanishing or exploding gradients.")
		}
	}

	raw := Table{Title: "Gradient health, every sample", File: "health.csv",
		Header: []string{"step", "epoch", "layer", "grad_norm", "weight_norm", "update_ratio", "dead_fraction", "flag"}}
	for _, rec := range h.Records {
		deadCell := ""
		if rec.ReLU {
			deadCell = raw64(rec.DeadFraction)
		}
		raw.Rows = append(raw.Rows, []string{strconv.Itoa(rec.Step), strconv.Itoa(rec.Epoch), rec.Layer,
			raw64(rec.GradNorm), raw64(rec.WeightNorm), raw64(rec.UpdateRatio), deadCell, rec.Flag})
	}
	if len(raw.Rows) > 0 {
		run.Data = append(run.Data, raw)
	}
}

// addBatchNorm adds the batch-norm monitor's charts and data.
func addBatchNorm(run *Run, bn *monitor.BatchNorm) {
	var mean, variance, gap, gamma bySeries
	raw := Table{Title: "Batch normalization, every sample", File: "batchnorm.csv",
		Header: []string{"step", "layer", "mean_drift", "var_drift", "train_infer_gap", "gamma_norm", "beta_norm"}}
	for _, rec := range bn.Records {
		x := float64(rec.Step)
		mean.add(rec.Layer, x, rec.MeanDrift)
		variance.add(rec.Layer, x, rec.VarDrift)
		gap.add(rec.Layer, x, rec.TrainInferGap)
		gamma.add(rec.Layer, x, rec.GammaNorm)
		raw.Rows = append(raw.Rows, []string{strconv.Itoa(rec.Step), rec.Layer, raw64(rec.MeanDrift), raw64(rec.VarDrift),
			raw64(rec.TrainInferGap), raw64(rec.GammaNorm), raw64(rec.BetaNorm)})
	}
	held := fmt.Sprintf(" (on %d test images)", bn.X.Dim(0))
	run.Charts = append(run.Charts,
		Chart{Title: "Batch norm: mean drift" + held, Name: "bn-mean-drift", XLabel: "step", YLabel: "RMS of mean drift (in std)", Series: mean.series()},
		Chart{Title: "Batch norm: variance drift" + held, Name: "bn-var-drift", XLabel: "step", YLabel: "RMS of ln(variance ratio)", Series: variance.series()},
		Chart{Title: "Batch norm: training vs inference output" + held, Name: "bn-gap", XLabel: "step", YLabel: "relative difference (log scale)", LogY: true, Series: gap.series()},
		Chart{Title: "Batch norm: gamma norm", Name: "bn-gamma", XLabel: "step", YLabel: "gamma L2 norm", Series: gamma.series()},
	)
	if len(raw.Rows) > 0 {
		run.Data = append(run.Data, raw)
	}
}

// addPercentiles charts the 15th, 50th and 85th percentiles of the
// tracked units' activation input, a band per unit.
func addPercentiles(run *Run, pct *monitor.Percentiles, layer string) {
	raw := Table{Title: "Activation input percentiles, every sample", File: "percentiles.csv",
		Header: []string{"step", "unit", "p15", "p50", "p85"}}
	for _, rec := range pct.Records {
		raw.Rows = append(raw.Rows, []string{strconv.Itoa(rec.Step), strconv.Itoa(rec.Unit), raw64(rec.Values[0]), raw64(rec.Values[1]), raw64(rec.Values[2])})
	}
	var bands []Band
	for i, u := range pct.Units {
		steps, q := pct.Series(u)
		if len(steps) == 0 {
			continue
		}
		b := Band{Name: fmt.Sprintf("unit %d: 15th, 50th, 85th percentile", u), Color: i + 1, Lo: q[0], Mid: q[1], Hi: q[2]}
		for _, st := range steps {
			b.X = append(b.X, float64(st))
		}
		bands = append(bands, b)
	}
	run.Charts = append(run.Charts, Chart{
		Title:  fmt.Sprintf("Input of %s's activation (on %d test images, training mode)", layer, pct.X.Dim(0)),
		Name:   "activation-percentiles",
		XLabel: "step", YLabel: "x·W + b of the unit", Bands: bands,
	})
	if len(raw.Rows) > 0 {
		run.Data = append(run.Data, raw)
	}
}
