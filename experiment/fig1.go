package experiment

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/monitor"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/report"
)

// The settings of Figure 1 as reproduced in PyTorch for the reference numbers.
const (
	fig1Steps   = 10000 // the paper's 50,000 is the documented full run
	fig1Batch   = 60
	fig1LR      = 1.0
	fig1Std     = 0.01 // initial weights N(0, 0.01²), biases zero
	fig1Units   = 100
	fig1Layers  = 3
	fig1Probe   = 1000 // held-out images whose sigmoid inputs give the percentiles
	fig1NProbed = 3    // units of the last hidden layer whose inputs are recorded
)

// fig1Tabled are the steps printed in the table (those within the budget).
var fig1Tabled = []int{500, 1000, 2000, 5000, 10000, 20000, 30000, 40000, 50000}

// Fig1Reference is a test accuracy measured by a PyTorch reproduction of
// Figure 1 with the same settings (plain SGD at learning rate 1.0, weights
// with standard deviation 0.01, batches of 60), for comparison.
type Fig1Reference struct {
	Step      int     `json:"step"`
	Plain     float64 `json:"plain"`
	BatchNorm float64 `json:"batchnorm"`
}

// Fig1References are the PyTorch reference accuracies, without and with BN.
var Fig1References = []Fig1Reference{
	{1000, 0.348, 0.919},
	{5000, 0.935, 0.964},
	{10000, 0.965, 0.978},
	{50000, 0.974, 0.978},
}

// Fig1Data is the raw Outcome of Fig1.
type Fig1Data struct {
	Steps int `json:"steps"`
	// Units are the indices of the last-hidden-layer units whose sigmoid
	// inputs are recorded; Percentiles are the quantiles taken.
	Units       []int     `json:"units"`
	Percentiles []float64 `json:"percentiles"`
	Nets        []Fig1Net `json:"nets"` // plain, then batchnorm
}

// Fig1Net is one network's measurements.
type Fig1Net struct {
	Name      string  `json:"name"`
	BatchNorm bool    `json:"batchnorm"`
	Outcome   Outcome `json:"outcome"`
	// Accuracy is measured on the whole test set in inference mode.
	Accuracy []Fig1Accuracy `json:"accuracy"`
	// Inputs are the quantiles of the recorded sigmoids' inputs over the
	// held-out batch, from monitor.Percentiles.
	Inputs []Fig1Inputs `json:"sigmoid_inputs"`
}

// Fig1Accuracy is the test accuracy and loss at a step.
type Fig1Accuracy struct {
	Step         int     `json:"step"`
	TestAccuracy float64 `json:"test_accuracy"`
	TestLoss     float64 `json:"test_loss"`
}

// Fig1Inputs is, at a step, the quantiles of each recorded unit's sigmoid
// input: Values[unit][quantile].
type Fig1Inputs struct {
	Step   int         `json:"step"`
	Values [][]float64 `json:"values"`
}

// fig1Net returns the network of Figure 1: three hidden layers of 100
// sigmoid units and a 10-way softmax, weights N(0, 0.01²). With bn each
// hidden layer is Dense(linear) → BatchNormalization → sigmoid; without it
// Dense(linear) → sigmoid, so the sigmoid's input is a layer's output in both.
// It also returns the index of the layer whose output is the last hidden
// sigmoid's input.
func fig1Net(bn bool, seed uint64) (*model.Sequential, int) {
	var ls []layers.Layer
	probe := 0
	for range fig1Layers {
		d := layers.NewDense(fig1Units, nn.Linear)
		d.KernelInitializer = layers.RandomNormal(fig1Std)
		ls = append(ls, d)
		if bn {
			ls = append(ls, torchBN())
		}
		probe = len(ls) - 1
		ls = append(ls, layers.NewActivation(nn.ActSigmoid))
	}
	out := layers.NewDense(10, nn.ActSoftmax)
	out.KernelInitializer = layers.RandomNormal(fig1Std)
	m := model.NewSequential(append(ls, out)...)
	m.Seed = seed
	return m, probe
}

// torchBN returns batch normalization with PyTorch's BatchNorm1d defaults
// (momentum 0.1 in PyTorch's convention, ε 1e-5, unbiased running
// variance), the settings of the reference runs. Keras's momentum 0.99 would
// make the moving statistics, and so inference-mode accuracy, lag behind
// the fast-changing early network.
func torchBN() *layers.BatchNormalization {
	bn := layers.NewBatchNormalization()
	bn.Momentum, bn.Epsilon, bn.UnbiasedMovingVariance = 0.9, 1e-5, true
	return bn
}

// Fig1 reproduces Figure 1 of Ioffe and Szegedy (2015): the network of
// fig1Net trained with and without batch normalization on MNIST, by plain SGD
// at learning rate 1 on mini-batches of 60. At checkpoints it records test
// accuracy and the 15th, 50th and 85th percentiles of the inputs of three
// last-hidden-layer sigmoids over the first 1,000 test images.
func Fig1(ctx context.Context, opt Options) (*Result, error) {
	opt, err := prepare(opt, fig1Steps)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	x, y := xy(opt.Data.Train)
	tx, ty := xy(opt.Data.Test)
	probeX := tx.Rows(0, min(fig1Probe, tx.Dim(0)))
	units := []int{0, 1, 2}[:fig1NProbed]
	every := max(1, opt.Steps/100) // percentiles: cheap, 1,000 images through three layers
	accAt := member(schedule(opt.Steps, max(1, opt.Steps/50), fig1Tabled...))
	data := &Fig1Data{Steps: opt.Steps, Units: units, Percentiles: monitor.DefaultQs, Nets: make([]Fig1Net, 2)}
	tabled := member(fig1Tabled)

	err = parallel(2, func(i int) error {
		bn := i == 1
		m, probe := fig1Net(bn, opt.Seed)
		net := Fig1Net{Name: netName(bn), BatchNorm: bn}
		if err := m.Compile(&optimizers.SGD{LR: fig1LR}, losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
			return err
		}
		pc := &monitor.Percentiles{X: probeX, Layer: probe, Units: units, Every: every}
		record := func(step int, _ model.Logs) error {
			acc, loss, err := evaluate(ctx, m, tx, ty)
			if err != nil {
				return err
			}
			net.Accuracy = append(net.Accuracy, Fig1Accuracy{Step: step, TestAccuracy: acc, TestLoss: loss})
			if tabled(step) || step == opt.Steps {
				logf(opt.Log, start, "fig1", "%-9s step %6d/%d  test accuracy %.4f", net.Name, step, opt.Steps, acc)
			}
			return nil
		}
		var err error
		net.Outcome, err = train(ctx, m, x, y, opt.Steps, fig1Batch, accAt, record, pc)
		for _, r := range pc.Records {
			if n := len(net.Inputs); n == 0 || net.Inputs[n-1].Step != r.Step {
				net.Inputs = append(net.Inputs, Fig1Inputs{Step: r.Step})
			}
			last := &net.Inputs[len(net.Inputs)-1]
			last.Values = append(last.Values, r.Values)
		}
		data.Nets[i] = net
		return err
	})
	if err != nil {
		return nil, err
	}
	return fig1Result(opt, data), nil
}

func netName(bn bool) string {
	if bn {
		return "batchnorm"
	}
	return "plain"
}

// accuracy returns n's test accuracy at step, or NaN.
func (n *Fig1Net) accuracy(step int) float64 {
	for _, a := range n.Accuracy {
		if a.Step == step {
			return a.TestAccuracy
		}
	}
	return math.NaN()
}

// inputs returns the quantiles of unit Units[0] at step, or NaNs.
func (n *Fig1Net) inputs(step, qs int) []float64 {
	for _, in := range n.Inputs {
		if in.Step == step {
			return in.Values[0]
		}
	}
	v := make([]float64, qs)
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}

func fig1Result(opt Options, d *Fig1Data) *Result {
	r := &Result{
		Name:  "fig1",
		Title: "fig1: Ioffe & Szegedy (2015) Figure 1 — MNIST, 3 hidden layers of 100 sigmoids, with and without BN",
		Settings: []Setting{
			{"network", "784 → [Dense(100) → (BN) → sigmoid] ×3 → Dense(10, softmax)"},
			{"init", "weights N(0, 0.01²), biases 0"},
			{"training", fmt.Sprintf("plain SGD, lr %g, batches of %d, %s steps, seed %d", fig1LR, fig1Batch, fmtInt(d.Steps), opt.Seed)},
			{"batch norm", "momentum 0.9 (PyTorch's 0.1), ε 1e-5, unbiased moving variance"},
			{"data", fmt.Sprintf("%s training images; accuracy on %s test images, inference mode", fmtInt(opt.Data.Train.N), fmtInt(opt.Data.Test.N))},
			{"percentiles", fmt.Sprintf("15/50/85th of the input of last-hidden-layer sigmoid %d over the first %s test images (monitor.Percentiles; BN uses that batch's statistics)", d.Units[0], fmtInt(min(fig1Probe, opt.Data.Test.N)))},
		},
		Data: d,
	}
	r.Table.Header = []string{"step", "acc plain", "ref", "acc BN", "ref", "plain p15", "p50", "p85", "BN p15", "p50", "p85"}
	refs := map[int]Fig1Reference{}
	for _, ref := range Fig1References {
		refs[ref.Step] = ref
	}
	plain, bn := &d.Nets[0], &d.Nets[1]
	worst, worstAt := 0.0, 0
	nq := len(d.Percentiles)
	for _, a := range plain.Accuracy {
		st := a.Step
		if st == 0 || !(slices.Contains(fig1Tabled, st) || st == d.Steps) {
			continue
		}
		pa, ba := a.TestAccuracy, bn.accuracy(st)
		row := []string{fmtInt(st), fmtAcc(pa), "", fmtAcc(ba), ""}
		if ref, ok := refs[st]; ok {
			row[2], row[4] = fmtAcc(ref.Plain), fmtAcc(ref.BatchNorm)
			worst, worstAt = maxDiff(worst, worstAt, pa, ref.Plain, st)
			worst, worstAt = maxDiff(worst, worstAt, ba, ref.BatchNorm, st)
		}
		row = append(row, fmtRow(plain.inputs(st, nq))...)
		row = append(row, fmtRow(bn.inputs(st, nq))...)
		r.Table.Rows = append(r.Table.Rows, row)
	}
	r.Notes = append(r.Notes, "ref: test accuracy of a PyTorch reproduction with the same settings (plain SGD, lr 1.0, std 0.01, batches of 60).")
	if worstAt > 0 {
		verdict := "within"
		if worst > 0.01 {
			verdict = "NOT within"
		}
		r.Notes = append(r.Notes, fmt.Sprintf("largest gap to the reference: %.3f (at step %s), %s one point.", worst, fmtInt(worstAt), verdict))
	}
	for _, n := range d.Nets {
		if n.Outcome.Diverged != "" {
			r.Notes = append(r.Notes, fmt.Sprintf("%s network stopped after %d steps: %s", n.Name, n.Outcome.Steps, n.Outcome.Diverged))
		}
	}
	r.Charts = fig1Charts(d)
	return r
}

func maxDiff(worst float64, at int, got, want float64, step int) (float64, int) {
	if d := math.Abs(got - want); d > worst || at == 0 || math.IsNaN(d) {
		return d, step
	}
	return worst, at
}

func fmtRow(v []float64) []string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmtFloat(x, 2)
	}
	return s
}

func fig1Charts(d *Fig1Data) []report.Chart {
	acc := report.Chart{Name: "accuracy", Title: "(a) test accuracy", XLabel: "training steps", YLabel: "test accuracy"}
	charts := []report.Chart{}
	for _, n := range d.Nets {
		s := report.Series{Name: n.Name}
		band := report.Band{Name: fmt.Sprintf("unit %d: 15th, 50th, 85th percentile", d.Units[0])}
		for _, a := range n.Accuracy {
			s.X = append(s.X, float64(a.Step))
			s.Y = append(s.Y, a.TestAccuracy)
		}
		for _, in := range n.Inputs {
			band.X = append(band.X, float64(in.Step))
			band.Lo = append(band.Lo, in.Values[0][0])
			band.Mid = append(band.Mid, in.Values[0][1])
			band.Hi = append(band.Hi, in.Values[0][2])
		}
		acc.Series = append(acc.Series, s)
		letter, with := "b", "without"
		if n.BatchNorm {
			letter, with = "c", "with"
		}
		charts = append(charts, report.Chart{
			Name:   "percentiles-" + n.Name,
			Title:  fmt.Sprintf("(%s) sigmoid input, %s BN", letter, with),
			XLabel: "training steps", YLabel: "input to a last-hidden-layer sigmoid",
			Bands: []report.Band{band},
		})
	}
	// The same on log scales, where the late gap (a few tenths of a point of
	// error) and the first hundred steps are visible.
	errs := report.Chart{Name: "error", Title: "(a) test error, log scales", XLabel: "training steps", YLabel: "test error (1 - accuracy)", LogX: true, LogY: true}
	for _, s := range acc.Series {
		e := report.Series{Name: s.Name, X: s.X}
		for _, a := range s.Y {
			e.Y = append(e.Y, 1-a)
		}
		errs.Series = append(errs.Series, e)
	}
	return append([]report.Chart{acc, errs}, charts...)
}
