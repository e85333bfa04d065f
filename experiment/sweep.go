package experiment

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/report"
)

const (
	sweepSteps = 2000 // about one epoch of MNIST at batch 32
	sweepBatch = 32
	sweepLR    = 0.1 // the init sweep's learning rate
	// stuckAccuracy: a run whose test accuracy stays below this (chance is
	// 0.1) has not learned.
	stuckAccuracy = 0.2
)

// The values swept, log spaced.
var (
	sweepRates  = []float64{0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10}
	sweepScales = []float64{0.01, 0.03, 0.1, 0.3, 1, 3, 10}
)

// SweepData is the raw Outcome of LearningRate or Initialization: for each
// network, one run per value of the knob.
type SweepData struct {
	Knob   string     `json:"knob"` // "learning_rate" or "init_scale"
	Values []float64  `json:"values"`
	Steps  int        `json:"steps"`
	Nets   []SweepNet `json:"nets"` // plain, then batchnorm
}

// SweepNet is one network across the sweep.
type SweepNet struct {
	Name      string     `json:"name"`
	BatchNorm bool       `json:"batchnorm"`
	Runs      []SweepRun `json:"runs"`
}

// SweepRun is one training run. A diverged run's accuracy is that of the
// weights before the step that turned the loss or a gradient non-finite.
type SweepRun struct {
	Value        float64 `json:"value"`
	Outcome      Outcome `json:"outcome"`
	TestAccuracy Float   `json:"test_accuracy"`
	TestLoss     Float   `json:"test_loss"`
	TrainLoss    Float   `json:"train_loss"` // mean over the last epoch's steps so far
}

// Status is "trains", "no learning" (test accuracy below 0.2) or
// "diverged@STEP".
func (r SweepRun) Status() string {
	switch {
	case r.Outcome.Diverged != "":
		return fmt.Sprintf("diverged@%d", r.Outcome.Steps+1)
	case !(float64(r.TestAccuracy) >= stuckAccuracy):
		return "no learning"
	}
	return "trains"
}

// foundingNet returns the founding text's network — Dense(64, relu) → BN →
// Dense(64, relu) → BN → Dense(10, softmax) — or, without bn, the same
// without its BatchNormalization layers, with every kernel drawn from Glorot's
// uniform distribution scaled by scale.
func foundingNet(bn bool, scale float64, seed uint64) *model.Sequential {
	var ls []layers.Layer
	for range 2 {
		d := layers.NewDense(64, nn.ActReLU)
		d.KernelInitializer = layers.GlorotUniform.Scaled(scale)
		ls = append(ls, d)
		if bn {
			ls = append(ls, layers.NewBatchNormalization())
		}
	}
	out := layers.NewDense(10, nn.ActSoftmax)
	out.KernelInitializer = layers.GlorotUniform.Scaled(scale)
	m := model.NewSequential(append(ls, out)...)
	m.Seed = seed
	return m
}

// LearningRate trains the founding network with and without batch
// normalization by plain SGD at learning rates from 0.001 to 10, and reports
// which rates train, which learn nothing and which diverge.
func LearningRate(ctx context.Context, opt Options) (*Result, error) {
	d, opt, err := sweep(ctx, opt, "learning_rate", sweepRates, func(bn bool, v float64, seed uint64) (*model.Sequential, float64) {
		return foundingNet(bn, 1, seed), v
	})
	if err != nil {
		return nil, err
	}
	r := sweepResult(opt, d, "lr", "learning rate",
		"lr: learning-rate sweep of the founding network, with and without BN",
		[]Setting{{"init", "Glorot uniform (Keras's default)"}, {"optimizer", "plain SGD, the learning rate swept"}})
	return r, nil
}

// Initialization trains the founding network with and without batch
// normalization with its initial kernels drawn from Glorot's uniform
// distribution scaled by 0.01 to 10, at SGD learning rate 0.1.
func Initialization(ctx context.Context, opt Options) (*Result, error) {
	d, opt, err := sweep(ctx, opt, "init_scale", sweepScales, func(bn bool, v float64, seed uint64) (*model.Sequential, float64) {
		return foundingNet(bn, v, seed), sweepLR
	})
	if err != nil {
		return nil, err
	}
	r := sweepResult(opt, d, "init", "init scale",
		"init: initial weights scaled 0.01× to 10× Glorot's, with and without BN",
		[]Setting{{"init", "Glorot uniform × scale (every Dense kernel)"}, {"optimizer", fmt.Sprintf("plain SGD, lr %g", sweepLR)}})
	return r, nil
}

// sweep trains, for each value of a knob, the network build returns (and the
// learning rate to use) without and with batch normalization.
func sweep(ctx context.Context, opt Options, knob string, values []float64,
	build func(bn bool, v float64, seed uint64) (*model.Sequential, float64)) (*SweepData, Options, error) {
	return sweepFor(ctx, opt, sweepSteps, knobShort(knob), knob, values, build)
}

// sweepFor is sweep with its own default number of steps.
func sweepFor(ctx context.Context, opt Options, defSteps int, logName, knob string, values []float64,
	build func(bn bool, v float64, seed uint64) (*model.Sequential, float64)) (*SweepData, Options, error) {
	opt, err := prepare(opt, defSteps)
	if err != nil {
		return nil, opt, err
	}
	start := time.Now()
	x, y := xy(opt.Data.Train)
	tx, ty := xy(opt.Data.Test)
	d := &SweepData{Knob: knob, Values: values, Steps: opt.Steps}
	for _, bn := range []bool{false, true} {
		d.Nets = append(d.Nets, SweepNet{Name: netName(bn), BatchNorm: bn, Runs: make([]SweepRun, len(values))})
	}
	err = parallel(2*len(values), func(i int) error {
		bn, v := i%2 == 1, values[i/2]
		m, lr := build(bn, v, opt.Seed)
		if err := m.Compile(&optimizers.SGD{LR: lr}, losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
			return err
		}
		run := SweepRun{Value: v, TrainLoss: Float(math.NaN())}
		last := func(step int, logs model.Logs) error {
			run.TrainLoss = Float(logs["loss"])
			return nil
		}
		var err error
		run.Outcome, err = train(ctx, m, x, y, opt.Steps, sweepBatch, func(k int) bool { return k == opt.Steps }, last)
		if err != nil {
			return err
		}
		acc, loss, err := evaluate(ctx, m, tx, ty)
		if err != nil {
			return err
		}
		run.TestAccuracy, run.TestLoss = Float(acc), Float(loss)
		d.Nets[i%2].Runs[i/2] = run
		logf(opt.Log, start, logName, "%-9s %s %-6g test accuracy %.4f  %s", netName(bn), knob, v, acc, run.Status())
		return nil
	})
	return d, opt, err
}

func knobShort(knob string) string {
	if knob == "learning_rate" {
		return "lr"
	}
	return "init"
}

func sweepResult(opt Options, d *SweepData, name, label, title string, settings []Setting) *Result {
	r := &Result{
		Name:  name,
		Title: title,
		Settings: append([]Setting{
			{"network", "784 → Dense(64, relu) → (BN) → Dense(64, relu) → (BN) → Dense(10, softmax)"},
		}, append(settings,
			Setting{"batch norm", "Keras defaults: momentum 0.99, ε 1e-3"},
			Setting{"training", fmt.Sprintf("batches of %d, %s steps per run, seed %d", sweepBatch, fmtInt(d.Steps), opt.Seed)},
			Setting{"data", fmt.Sprintf("%s training images; accuracy on %s test images, inference mode", fmtInt(opt.Data.Train.N), fmtInt(opt.Data.Test.N))},
		)...),
		Data: d,
	}
	r.Table.Header = []string{label, "acc plain", "status", "acc BN", "status", "loss plain", "loss BN"}
	plain, bn := d.Nets[0].Runs, d.Nets[1].Runs
	var trainsPlain, trainsBN int
	for i, v := range d.Values {
		r.Table.Rows = append(r.Table.Rows, []string{
			fmtG(v), fmtAcc(float64(plain[i].TestAccuracy)), plain[i].Status(), fmtAcc(float64(bn[i].TestAccuracy)), bn[i].Status(),
			fmtFloat(float64(plain[i].TestLoss), 3), fmtFloat(float64(bn[i].TestLoss), 3),
		})
		if plain[i].Status() == "trains" && plain[i].TestAccuracy >= 0.9 {
			trainsPlain++
		}
		if bn[i].Status() == "trains" && bn[i].TestAccuracy >= 0.9 {
			trainsBN++
		}
	}
	r.Notes = []string{
		fmt.Sprintf("reaching 90%% test accuracy in %s steps: %d of %d settings without BN, %d of %d with BN.",
			fmtInt(d.Steps), trainsPlain, len(d.Values), trainsBN, len(d.Values)),
		"diverged@k: the loss or a gradient was NaN or infinite at step k (not applied); the accuracy shown is the model's before it.",
	}
	c := report.Chart{Name: "accuracy", Title: title, XLabel: label, YLabel: "test accuracy (0: diverged)", LogX: true}
	for _, n := range d.Nets {
		s := report.Series{Name: n.Name}
		for _, run := range n.Runs {
			acc := float64(run.TestAccuracy)
			if run.Outcome.Diverged != "" || math.IsNaN(acc) {
				acc = 0
			}
			s.X = append(s.X, run.Value)
			s.Y = append(s.Y, acc)
		}
		c.Series = append(c.Series, s)
	}
	r.Charts = []report.Chart{c}
	return r
}
