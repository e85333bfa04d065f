package experiment

import (
	"context"
	"fmt"
	"time"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/report"
	"github.com/myelin-go/myelin/tensor"
)

// The other side of the founding text's claims: batch normalization
// estimates its statistics from the batch, so small batches give it noisy
// ones, and what a network learned with them differs from what it does at
// inference, with the moving averages. Layer and group normalization take
// their statistics from each sample and do not depend on the batch.

const batchSteps = 1500

var (
	batchSizes = []int{2, 4, 8, 16, 32, 128}
	batchNorms = []string{"none", "batchnorm", "layernorm", "groupnorm"}
)

// BatchSizeData is the raw Outcome of BatchSize.
type BatchSizeData struct {
	Steps int            `json:"steps"`
	Sizes []int          `json:"batch_sizes"`
	Nets  []BatchSizeNet `json:"nets"` // none, batchnorm, layernorm, groupnorm
}

// BatchSizeNet is one normalization across the batch sizes.
type BatchSizeNet struct {
	Name string         `json:"name"`
	Runs []BatchSizeRun `json:"runs"`
}

// BatchSizeRun is one training run. After training, the network
// classifies the first training images twice with the same weights: in
// inference mode (TrainAccuracy: moving averages) and in training mode,
// in batches of the size it trained with (TrainModeAccuracy: each batch's
// own statistics, as training saw them). Their difference is what batch
// statistics and moving averages disagree on; without batch statistics
// it is zero.
type BatchSizeRun struct {
	Batch             int     `json:"batch"`
	Outcome           Outcome `json:"outcome"`
	TestAccuracy      Float   `json:"test_accuracy"`
	TrainAccuracy     Float   `json:"train_accuracy"`
	TrainModeAccuracy Float   `json:"train_mode_accuracy"`
}

// hiddenNet is two hidden ReLU layers of width units, each followed by
// what names ("batchnorm", "layernorm", "groupnorm", "dropout", or
// nothing for "none" and "plain"), then a 10-way softmax.
func hiddenNet(width int, what string, seed uint64) *model.Sequential {
	var ls []layers.Layer
	for range 2 {
		ls = append(ls, layers.NewDense(width, nn.ActReLU))
		switch what {
		case "batchnorm":
			ls = append(ls, layers.NewBatchNormalization())
		case "layernorm":
			ls = append(ls, layers.NewLayerNormalization())
		case "groupnorm":
			ls = append(ls, layers.NewGroupNormalization()) // Keras's 32 groups
		case "dropout":
			ls = append(ls, layers.NewDropout(regDropout))
		}
	}
	m := model.NewSequential(append(ls, layers.NewDense(10, nn.ActSoftmax))...)
	m.Seed = seed
	return m
}

// BatchSize trains the founding network with each normalization at batch
// sizes 2 to 128, the same number of steps each, and reports test accuracy
// and the gap between training-mode and inference-mode accuracy.
func BatchSize(ctx context.Context, opt Options) (*Result, error) {
	opt, err := prepare(opt, batchSteps)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	x, y := xy(opt.Data.Train)
	tx, ty := xy(opt.Data.Test)
	probe := min(opt.Data.Train.N, 10000)
	px, py := x.Rows(0, probe), y.Rows(0, probe)
	d := &BatchSizeData{Steps: opt.Steps, Sizes: batchSizes}
	for _, n := range batchNorms {
		d.Nets = append(d.Nets, BatchSizeNet{Name: n, Runs: make([]BatchSizeRun, len(batchSizes))})
	}
	err = parallel(len(batchNorms)*len(batchSizes), func(i int) error {
		ni, bi := i/len(batchSizes), i%len(batchSizes)
		norm, batch := batchNorms[ni], batchSizes[bi]
		run := BatchSizeRun{Batch: batch}
		if batch > x.Dim(0) {
			return fmt.Errorf("experiment: batch of %d is larger than the %d training samples", batch, x.Dim(0))
		}
		m := hiddenNet(64, norm, opt.Seed) // the founding network, with norm
		if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
			return err
		}
		var err error
		if run.Outcome, err = train(ctx, m, x, y, opt.Steps, batch, func(int) bool { return false }, nil); err != nil {
			return err
		}
		run.TrainModeAccuracy = Float(trainModeAccuracy(m, px, py, batch))
		acc, _, err := evaluate(ctx, m, tx, ty)
		if err != nil {
			return err
		}
		n := probe / batch * batch // the rows trainModeAccuracy classifies
		tacc, _, err := evaluate(ctx, m, px.Rows(0, n), py.Rows(0, n))
		if err != nil {
			return err
		}
		run.TestAccuracy, run.TrainAccuracy = Float(acc), Float(tacc)
		d.Nets[ni].Runs[bi] = run
		logf(opt.Log, start, "batchsize", "%-9s batch %-3d test accuracy %.4f  train-mode %.4f  inference-mode %.4f",
			norm, batch, acc, float64(run.TrainModeAccuracy), tacc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return batchResult(opt, d, probe), nil
}

func batchResult(opt Options, d *BatchSizeData, probe int) *Result {
	r := &Result{
		Name:  "batchsize",
		Title: "Normalization against batch size",
		Settings: []Setting{
			{"network", "784 → Dense(64, relu) → (norm) → Dense(64, relu) → (norm) → Dense(10, softmax)"},
			{"norms", "none; BatchNormalization (momentum 0.99, ε 1e-3); LayerNormalization; GroupNormalization (32 groups)"},
			{"optimizer", "Adam, lr 0.001"},
			{"training", fmt.Sprintf("%s steps at every batch size, seed %d", fmtInt(d.Steps), opt.Seed)},
			{"data", fmt.Sprintf("%s training images; test accuracy on %s test images and inference-mode accuracy on the first %s training images",
				fmtInt(opt.Data.Train.N), fmtInt(opt.Data.Test.N), fmtInt(probe))},
		},
		Data: d,
	}
	r.Table.Header = []string{"batch"}
	for _, n := range d.Nets {
		r.Table.Header = append(r.Table.Header, "test "+n.Name, "gap "+n.Name)
	}
	for bi, b := range d.Sizes {
		row := []string{fmt.Sprint(b)}
		for _, n := range d.Nets {
			run := n.Runs[bi]
			row = append(row, fmtAcc(float64(run.TestAccuracy)), fmtFloat(float64(run.TrainModeAccuracy-run.TrainAccuracy), 3))
		}
		r.Table.Rows = append(r.Table.Rows, row)
	}
	r.Notes = []string{
		"gap: the trained network's accuracy on training images in training mode (each batch of the training size " +
			"normalized with its own statistics) minus in inference mode (moving averages); only batch normalization has one.",
		"every run takes the same number of steps, so the larger batches see more images.",
	}
	acc := report.Chart{Name: "accuracy", Title: "Test accuracy against batch size", XLabel: "batch size", YLabel: "test accuracy", LogX: true}
	gap := report.Chart{Name: "gap", Title: "Training-mode minus inference-mode accuracy", XLabel: "batch size", YLabel: "accuracy gap", LogX: true}
	for _, n := range d.Nets {
		a, g := report.Series{Name: n.Name}, report.Series{Name: n.Name}
		for _, run := range n.Runs {
			a.X, a.Y = append(a.X, float64(run.Batch)), append(a.Y, float64(run.TestAccuracy))
			g.X, g.Y = append(g.X, float64(run.Batch)), append(g.Y, float64(run.TrainModeAccuracy-run.TrainAccuracy))
		}
		acc.Series, gap.Series = append(acc.Series, a), append(gap.Series, g)
	}
	r.Charts = []report.Chart{acc, gap}
	return r
}

// trainModeAccuracy returns m's accuracy on (x, y) in training mode, in
// batches of batch rows, without changing m: batch normalization
// normalizes each batch with its own statistics, and the statistics it
// would have kept are dropped.
func trainModeAccuracy(m *model.Sequential, x, y *tensor.Tensor, batch int) float64 {
	right, n := 0, x.Dim(0)/batch*batch
	for lo := 0; lo < n; lo += batch {
		tp := autodiff.NewTape()
		tp.NoGrad = true
		out := m.Forward(&layers.Pass{Tape: tp, Training: true}, tp.Const(x.Rows(lo, lo+batch).As(m.DType)), model.Walk{})
		for _, l := range m.Layers {
			if s, ok := l.(layers.Stateful); ok {
				s.Discard()
			}
		}
		c := out.Value.Dim(1)
		for i := range batch {
			best, want := 0, 0
			for j := range c {
				if out.Value.Index(i*c+j) > out.Value.Index(i*c+best) {
					best = j
				}
				if y.Index((lo+i)*c+j) > y.Index((lo+i)*c+want) {
					want = j
				}
			}
			if best == want {
				right++
			}
		}
	}
	return float64(right) / float64(max(n, 1))
}
