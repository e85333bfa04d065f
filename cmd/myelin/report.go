package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/monitor"
	"github.com/myelin-go/myelin/report"
	"github.com/myelin-go/myelin/tensor"
)

// trainReport is what "myelin train --report DIR" records while training
// and writes after it: the training curves every few steps, the gradient
// health of every layer and, when the model has batch normalization, the
// batch-norm monitor on a fixed batch of test images.
type trainReport struct {
	dir    string
	curves *monitor.Curves
	within *withinEpoch
	health *monitor.Health
	bn     *monitor.BatchNorm   // nil without BatchNormalization layers
	pct    *monitor.Percentiles // nil without a hidden Dense layer
}

// The monitors' settings, chosen so that together they cost under 5% of
// the founding model's step at batch 32 (monitor's BenchmarkFitOverhead,
// "report"). Health samples every reportHealthEvery steps (a sample costs
// a copy and three norms of the weights). The batch-norm monitor runs
// reportHeldOut test images through the model every reportBNEvery steps,
// and the percentile monitor the first reportPctHeldOut of them through
// the layers up to the last hidden one, reportPctPoints times over the run.
const (
	reportHealthEvery = 20
	reportHeldOut     = 256
	reportBNEvery     = 200
	reportPctHeldOut  = 128
	reportPctPoints   = 25
	reportPctUnits    = 3
)

// newTrainReport prepares the monitors for a report in dir, or returns nil
// when dir is "" (the methods of a nil report do nothing). The batch-norm
// and percentile monitors run on the first images of test, which training
// never sees; steps is about how many steps training will take, to space
// the percentile records; gradient-health flags are printed on progress
// when verbose > 0.
func newTrainReport(dir string, m *model.Sequential, test *mnist.Set, steps int, progress io.Writer, verbose int) *trainReport {
	if dir == "" {
		return nil
	}
	r := &trainReport{dir: dir, curves: &monitor.Curves{Every: 10}, within: &withinEpoch{}, health: &monitor.Health{Every: reportHealthEvery}}
	if verbose > 0 {
		r.health.Output = progress
	}
	if test.N < 2 { // the monitors need two samples
		return r
	}
	n := min(reportHeldOut, test.N)
	held := tensor.FromFloat32(test.Images[:n*test.Features()], n, test.Features())
	for _, l := range m.Layers {
		if l.Type() == "BatchNormalization" {
			r.bn = &monitor.BatchNorm{X: held, Every: reportBNEvery}
			break
		}
	}
	// The input of the last hidden layer's activation: Figure 1(b, c) of
	// Ioffe and Szegedy, for this model.
	for i := len(m.Layers) - 2; i >= 0; i-- {
		if d, ok := m.Layers[i].(*layers.Dense); ok {
			units := make([]int, min(reportPctUnits, d.Units))
			for u := range units {
				units[u] = u
			}
			np := min(reportPctHeldOut, n)
			r.pct = &monitor.Percentiles{X: held.Rows(0, np), Layer: i, PreActivation: true, Units: units,
				Every: max(10, steps/reportPctPoints)}
			break
		}
	}
	return r
}

func (r *trainReport) callbacks() []model.Callback {
	if r == nil {
		return nil
	}
	cbs := []model.Callback{r.curves, r.within, r.health}
	if r.bn != nil {
		cbs = append(cbs, r.bn)
	}
	if r.pct != nil {
		cbs = append(cbs, r.pct)
	}
	return cbs
}

// write writes the report after training: fs gives the configuration (every
// flag, set or default), m the model, h and test the results. It prints
// the page's path to w.
func (r *trainReport) write(w io.Writer, fs *flag.FlagSet, m *model.Sequential, h *model.History, test map[string]float64, trainSecs float64) error {
	if r == nil {
		return nil
	}
	var cfg []report.Field
	fs.VisitAll(func(f *flag.Flag) { // set or default; unset file and directory flags are left out
		if v := f.Value.String(); v != "" {
			cfg = append(cfg, report.Field{Key: "--" + f.Name, Value: v})
		}
	})
	var names []string
	for _, l := range m.Layers {
		names = append(names, l.Name()+" ("+l.Type()+")")
	}
	tr, nt := m.ParamCounts()
	opt := m.Optimizer()
	cfg = append(cfg,
		report.Field{Key: "layers", Value: strings.Join(names, " → ")},
		report.Field{Key: "parameters", Value: fmt.Sprintf("%d trainable, %d non-trainable", tr, nt)},
		report.Field{Key: "optimizer", Value: fmt.Sprintf("%s, learning rate %g", opt.Name(), opt.LearningRate())},
		report.Field{Key: "loss", Value: m.Loss().Name()},
		report.Field{Key: "training time", Value: fmt.Sprintf("%.1f s", trainSecs)},
		report.Field{Key: "go", Value: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH},
	)
	if h == nil {
		h = &model.History{}
	}
	run := report.Run{
		Title:   "myelin train: " + m.Name + dataName(fs) + testAccuracy(test),
		Created: time.Now(),
		Config:  cfg,
		History: *h,
		Test:    test,
	}
	run.Charts = report.HistoryCharts(*h)
	for _, p := range r.curves.Points {
		if !p.EpochEnd {
			run.Steps = append(run.Steps, report.StepLog{Step: p.Step, Epoch: p.Epoch, Logs: p.Logs})
		}
	}
	for _, c := range report.StepCharts(r.windowMeans()) {
		c.Title = fmt.Sprintf("%s, mean of each %d steps", c.YLabel, r.curves.Every)
		run.Charts = append(run.Charts, c)
	}
	r.addHealth(&run)
	if r.bn != nil {
		r.addBatchNorm(&run)
	}
	if r.pct != nil {
		r.addPercentiles(&run, m)
	}
	if err := report.Write(r.dir, run); err != nil {
		return err
	}
	fmt.Fprintf(w, "Wrote the report to %s\n", filepath.Join(r.dir, "index.html"))
	return nil
}

// withinEpoch remembers, for each step counted from 1 across epochs as
// the monitors count them, its place in its epoch, as Fit reports it.
type withinEpoch struct {
	model.BaseCallback
	step []int32 // step[i] is global step i+1's step in its epoch
}

func (w *withinEpoch) OnBatchEnd(_, step int, _ model.Logs) error {
	w.step = append(w.step, int32(step))
	return nil
}

// windowMeans turns the running means that Curves records (since the start
// of each epoch, as Fit's logs hold them) into the mean over each window
// between two records: after n steps of an epoch n·M(n) is the sum so far,
// so the window (n1, n2] has mean (n2·M2 − n1·M1)/(n2 − n1). That is exact
// while batches have one size, that is for all but an epoch's last one.
// The running means restart at each epoch, so plotted as they are they
// jump at every epoch boundary.
func (r *trainReport) windowMeans() []report.StepLog {
	var out []report.StepLog
	var prev map[string]float64
	prevN, prevEpoch := 0, 0
	for _, p := range r.curves.Points {
		if p.EpochEnd || p.Step < 1 || p.Step > len(r.within.step) {
			continue
		}
		n := int(r.within.step[p.Step-1])
		if p.Epoch != prevEpoch || n <= prevN {
			prev, prevN, prevEpoch = nil, 0, p.Epoch
		}
		w := report.StepLog{Step: p.Step, Epoch: p.Epoch, Logs: map[string]float64{}}
		for k, v := range p.Logs {
			if pv, ok := prev[k]; ok {
				v = (float64(n)*v - float64(prevN)*pv) / float64(n-prevN)
			} else if prevN > 0 {
				continue // no running mean at the window's start
			}
			w.Logs[k] = v
		}
		out = append(out, w)
		prev, prevN = p.Logs, n
	}
	return out
}

func dataName(fs *flag.FlagSet) string {
	for _, name := range []string{"data-dir", "data"} {
		if f := fs.Lookup(name); f != nil && f.Value.String() != "" {
			return " on " + f.Value.String()
		}
	}
	return ""
}

func testAccuracy(test map[string]float64) string {
	if acc, ok := test["accuracy"]; ok {
		return fmt.Sprintf(", test accuracy %.4f", acc)
	}
	return ""
}

// bySeries groups values per layer, in the order layers first appear.
type bySeries struct {
	order []string
	s     map[string]*report.Series
}

func (b *bySeries) add(layer string, x, y float64) {
	if b.s == nil {
		b.s = map[string]*report.Series{}
	}
	s, ok := b.s[layer]
	if !ok {
		s = &report.Series{Name: layer}
		b.s[layer] = s
		b.order = append(b.order, layer)
	}
	s.X, s.Y = append(s.X, x), append(s.Y, y)
}

func (b *bySeries) series() []report.Series {
	out := make([]report.Series, 0, len(b.order))
	for _, k := range b.order {
		out = append(out, *b.s[k])
	}
	return out
}

func (r *trainReport) addHealth(run *report.Run) {
	var grad, weight, ratio, dead bySeries
	last := map[string]monitor.HealthRecord{}
	samples := map[string]int{}
	for _, rec := range r.health.Records {
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
		report.Chart{Title: "Gradient norm per layer", Name: "gradient-norm", XLabel: "step", YLabel: "gradient L2 norm (log scale)", LogY: true, Series: grad.series()},
		report.Chart{Title: "Update-to-weight ratio per layer", Name: "update-ratio", XLabel: "step", YLabel: "update norm / weight norm", LogY: true, Series: ratio.series()},
		report.Chart{Title: "Weight norm per layer", Name: "weight-norm", XLabel: "step", YLabel: "weight L2 norm", Series: weight.series()},
	)
	if len(dead.order) > 0 {
		run.Charts = append(run.Charts, report.Chart{Title: "Dead ReLU units per layer", Name: "dead-relu", XLabel: "step", YLabel: "fraction dead on the batch", Series: dead.series()})
	}

	summary := report.Table{Title: "Gradient health (last sample of each layer)", File: "health-summary.csv",
		Header: []string{"layer", "step", "gradient norm", "weight norm", "update ratio", "dead ReLU", "vanishing", "exploding"}}
	for _, layer := range grad.order {
		rec := last[layer]
		deadCell := "–"
		if rec.ReLU {
			deadCell = num(rec.DeadFraction)
		}
		v, x := r.health.Count(layer, monitor.FlagVanishing), r.health.Count(layer, monitor.FlagExploding)
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

	raw := report.Table{Title: "Gradient health, every sample", File: "health.csv",
		Header: []string{"step", "epoch", "layer", "grad_norm", "weight_norm", "update_ratio", "dead_fraction", "flag"}}
	for _, rec := range r.health.Records {
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

func (r *trainReport) addBatchNorm(run *report.Run) {
	var mean, variance, gap, gamma bySeries
	raw := report.Table{Title: "Batch normalization, every sample", File: "batchnorm.csv",
		Header: []string{"step", "layer", "mean_drift", "var_drift", "train_infer_gap", "gamma_norm", "beta_norm"}}
	for _, rec := range r.bn.Records {
		x := float64(rec.Step)
		mean.add(rec.Layer, x, rec.MeanDrift)
		variance.add(rec.Layer, x, rec.VarDrift)
		gap.add(rec.Layer, x, rec.TrainInferGap)
		gamma.add(rec.Layer, x, rec.GammaNorm)
		raw.Rows = append(raw.Rows, []string{strconv.Itoa(rec.Step), rec.Layer, raw64(rec.MeanDrift), raw64(rec.VarDrift),
			raw64(rec.TrainInferGap), raw64(rec.GammaNorm), raw64(rec.BetaNorm)})
	}
	held := fmt.Sprintf(" (on %d test images)", r.bn.X.Dim(0))
	run.Charts = append(run.Charts,
		report.Chart{Title: "Batch norm: mean drift" + held, Name: "bn-mean-drift", XLabel: "step", YLabel: "RMS of mean drift (in std)", Series: mean.series()},
		report.Chart{Title: "Batch norm: variance drift" + held, Name: "bn-var-drift", XLabel: "step", YLabel: "RMS of ln(variance ratio)", Series: variance.series()},
		report.Chart{Title: "Batch norm: training vs inference output" + held, Name: "bn-gap", XLabel: "step", YLabel: "relative difference (log scale)", LogY: true, Series: gap.series()},
		report.Chart{Title: "Batch norm: gamma norm", Name: "bn-gamma", XLabel: "step", YLabel: "gamma L2 norm", Series: gamma.series()},
	)
	if len(raw.Rows) > 0 {
		run.Data = append(run.Data, raw)
	}
}

// addPercentiles charts the 15th, 50th and 85th percentiles of the
// tracked units' activation input, a band per unit.
func (r *trainReport) addPercentiles(run *report.Run, m *model.Sequential) {
	raw := report.Table{Title: "Activation input percentiles, every sample", File: "percentiles.csv",
		Header: []string{"step", "unit", "p15", "p50", "p85"}}
	for _, rec := range r.pct.Records {
		raw.Rows = append(raw.Rows, []string{strconv.Itoa(rec.Step), strconv.Itoa(rec.Unit), raw64(rec.Values[0]), raw64(rec.Values[1]), raw64(rec.Values[2])})
	}
	var bands []report.Band
	for i, u := range r.pct.Units {
		steps, q := r.pct.Series(u)
		if len(steps) == 0 {
			continue
		}
		b := report.Band{Name: fmt.Sprintf("unit %d: 15th, 50th, 85th percentile", u), Color: i + 1, Lo: q[0], Mid: q[1], Hi: q[2]}
		for _, st := range steps {
			b.X = append(b.X, float64(st))
		}
		bands = append(bands, b)
	}
	name := m.Layers[r.pct.Layer].Name()
	run.Charts = append(run.Charts, report.Chart{
		Title:  fmt.Sprintf("Input of %s's activation (on %d test images, training mode)", name, r.pct.X.Dim(0)),
		Name:   "activation-percentiles",
		XLabel: "step", YLabel: "x·W + b of the unit", Bands: bands,
	})
	if len(raw.Rows) > 0 {
		run.Data = append(run.Data, raw)
	}
}

// num is a number for reading; raw64 one that reads back exactly.
func num(v float64) string   { return strconv.FormatFloat(v, 'g', 4, 64) }
func raw64(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
