package experiment

import (
	"context"
	"fmt"
	"time"

	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/report"
)

const (
	regSteps   = 3000
	regBatch   = 50
	regSamples = 1000 // a small training set, so that the networks can memorize it
	regWidth   = 128
	regLR      = 0.1
	regDropout = 0.5
)

// regVariants are the networks compared, in order.
var regVariants = []string{"plain", "batchnorm", "dropout"}

// RegularizationData is the raw Outcome of Regularization.
type RegularizationData struct {
	Steps        int          `json:"steps"`
	TrainSamples int          `json:"train_samples"`
	Nets         []RegularNet `json:"nets"` // plain, batchnorm, dropout
}

// RegularNet is one network's curves.
type RegularNet struct {
	Name    string       `json:"name"`
	Outcome Outcome      `json:"outcome"`
	Points  []RegularFit `json:"points"`
}

// RegularFit is accuracy and loss on the training subset and on the test
// set at a step, both in inference mode.
type RegularFit struct {
	Step          int     `json:"step"`
	TrainAccuracy float64 `json:"train_accuracy"`
	TrainLoss     float64 `json:"train_loss"`
	TestAccuracy  float64 `json:"test_accuracy"`
	TestLoss      float64 `json:"test_loss"`
}

// Regularization trains on only the first 1,000 MNIST training images, long
// enough to memorize them, a network without regularization, with batch
// normalization and with dropout, and reports each one's gap between
// accuracy on its training images and on the test set.
func Regularization(ctx context.Context, opt Options) (*Result, error) {
	opt, err := prepare(opt, regSteps)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	sub := opt.Data.Train.Slice(0, regSamples)
	x, y := xy(sub)
	tx, ty := xy(opt.Data.Test)
	at := member(schedule(opt.Steps, max(1, opt.Steps/30)))
	d := &RegularizationData{Steps: opt.Steps, TrainSamples: sub.N, Nets: make([]RegularNet, len(regVariants))}
	err = parallel(len(regVariants), func(i int) error {
		net := RegularNet{Name: regVariants[i]}
		m := hiddenNet(regWidth, net.Name, opt.Seed)
		if err := m.Compile(&optimizers.SGD{LR: regLR}, losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
			return err
		}
		record := func(step int, _ model.Logs) error {
			p := RegularFit{Step: step}
			var err error
			if p.TrainAccuracy, p.TrainLoss, err = evaluate(ctx, m, x, y); err != nil {
				return err
			}
			if p.TestAccuracy, p.TestLoss, err = evaluate(ctx, m, tx, ty); err != nil {
				return err
			}
			net.Points = append(net.Points, p)
			return nil
		}
		var err error
		if net.Outcome, err = train(ctx, m, x, y, opt.Steps, min(regBatch, sub.N), at, record); err != nil {
			return err
		}
		d.Nets[i] = net
		last := net.Points[len(net.Points)-1]
		logf(opt.Log, start, "regularization", "%-9s train accuracy %.4f  test accuracy %.4f", net.Name, last.TrainAccuracy, last.TestAccuracy)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return regResult(opt, d), nil
}

// best returns the point of highest test accuracy.
func (n *RegularNet) best() RegularFit {
	b := n.Points[0]
	for _, p := range n.Points {
		if p.TestAccuracy > b.TestAccuracy {
			b = p
		}
	}
	return b
}

func regResult(opt Options, d *RegularizationData) *Result {
	r := &Result{
		Name:  "regularization",
		Title: "regularization: train-versus-test gap on 1,000 training images — plain, BN, dropout",
		Settings: []Setting{
			{"network", fmt.Sprintf("784 → [Dense(%d, relu) → (BN | Dropout(%g))] ×2 → Dense(10, softmax)", regWidth, regDropout)},
			{"init", "Glorot uniform (Keras's default)"},
			{"training", fmt.Sprintf("plain SGD, lr %g, batches of %d, %s steps (%s epochs), seed %d", regLR, regBatch, fmtInt(d.Steps), fmtInt(d.Steps*regBatch/max(1, d.TrainSamples)), opt.Seed)},
			{"batch norm", "Keras defaults: momentum 0.99, ε 1e-3"},
			{"data", fmt.Sprintf("the first %s training images; test accuracy on %s test images; both in inference mode", fmtInt(d.TrainSamples), fmtInt(opt.Data.Test.N))},
		},
		Data: d,
	}
	r.Table.Header = []string{"net", "train acc", "test acc", "gap", "train loss", "test loss", "best test acc", "at step"}
	for _, n := range d.Nets {
		last, best := n.Points[len(n.Points)-1], n.best()
		r.Table.Rows = append(r.Table.Rows, []string{
			n.Name, fmtAcc(last.TrainAccuracy), fmtAcc(last.TestAccuracy), fmtAcc(last.TrainAccuracy - last.TestAccuracy),
			fmtFloat(last.TrainLoss, 3), fmtFloat(last.TestLoss, 3), fmtAcc(best.TestAccuracy), fmtInt(best.Step),
		})
		if n.Outcome.Diverged != "" {
			r.Notes = append(r.Notes, fmt.Sprintf("%s stopped after %d steps: %s", n.Name, n.Outcome.Steps, n.Outcome.Diverged))
		}
	}
	r.Notes = append(r.Notes, "gap: train accuracy − test accuracy at the last step.")
	acc := report.Chart{Name: "accuracy", Title: "accuracy on the 1,000 training images (dashed) and on the test set",
		XLabel: "training steps", YLabel: "accuracy"}
	loss := report.Chart{Name: "loss", Title: "loss on the 1,000 training images (dashed) and on the test set",
		XLabel: "training steps", YLabel: "cross-entropy", LogY: true}
	for i, n := range d.Nets {
		var trA, teA, trL, teL report.Series
		trA.Name, teA.Name = n.Name+" train", n.Name+" test"
		trA.Dashed, trA.Color, teA.Color = true, i+1, i+1
		trL, teL = trA, teA
		for _, p := range n.Points {
			s := float64(p.Step)
			trA.X, trA.Y = append(trA.X, s), append(trA.Y, p.TrainAccuracy)
			teA.X, teA.Y = append(teA.X, s), append(teA.Y, p.TestAccuracy)
			trL.X, trL.Y = append(trL.X, s), append(trL.Y, p.TrainLoss)
			teL.X, teL.Y = append(teL.X, s), append(teL.Y, p.TestLoss)
		}
		acc.Series = append(acc.Series, trA, teA)
		loss.Series = append(loss.Series, trL, teL)
	}
	r.Charts = []report.Chart{acc, loss}
	return r
}
