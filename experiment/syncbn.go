package experiment

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/reduce"
	"github.com/myelin-go/myelin/report"
	"github.com/myelin-go/myelin/tensor"
)

// Why distributed training synchronizes batch normalization: eight ranks
// share a global batch of 32, four rows each. With synchronized statistics
// they train exactly as one process at batch 32 (in shards of four rows,
// which fixes the order of its sums to theirs); with each rank's own, every
// rank normalizes with four rows' statistics, and its moving averages are
// the average of what four rows said. The ranks here are goroutines of one
// process (reduce.NewPeers), with the sums MPI ranks get.

const (
	syncSteps = 1500
	syncRanks = 8
	syncBatch = 32 // global; syncBatch/syncRanks rows per rank
)

// SyncBNData is the raw Outcome of SyncBN.
type SyncBNData struct {
	Steps       int         `json:"steps"`
	Ranks       int         `json:"ranks"`
	GlobalBatch int         `json:"global_batch"`
	Runs        []SyncBNRun `json:"runs"` // one process, synchronized, per rank
}

// SyncBNRun is one way of training, measured on rank 0's model (the one a
// distributed run saves). Curve holds test accuracy every few steps.
type SyncBNRun struct {
	Name         string      `json:"name"`
	Outcome      Outcome     `json:"outcome"`
	TestAccuracy Float       `json:"test_accuracy"`
	Curve        []SyncPoint `json:"curve"`
}

// SyncPoint is test accuracy at a step.
type SyncPoint struct {
	Step         int     `json:"step"`
	TestAccuracy float64 `json:"test_accuracy"`
}

// SyncBN trains the founding network on one process at batch 32, then on 8
// in-process ranks of 4 rows each with synchronized batch normalization and
// with each rank's own statistics, and compares test accuracy.
func SyncBN(ctx context.Context, opt Options) (*Result, error) {
	opt, err := prepare(opt, syncSteps)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	x, y := xy(opt.Data.Train)
	tx, ty := xy(opt.Data.Test)
	if x.Dim(0) < syncBatch {
		return nil, fmt.Errorf("experiment: batch of %d is larger than the %d training samples", syncBatch, x.Dim(0))
	}
	at := member(schedule(opt.Steps, max(1, opt.Steps/20)))
	mk := func() (*model.Sequential, error) {
		m := foundingNet(true, 1, opt.Seed)
		return m, m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy())
	}
	d := &SyncBNData{Steps: opt.Steps, Ranks: syncRanks, GlobalBatch: syncBatch}
	names := []string{"one process", "synchronized", "per rank"}
	for _, name := range names {
		run := SyncBNRun{Name: name}
		var m0 *model.Sequential
		switch name {
		case "one process":
			m, err := mk()
			if err != nil {
				return nil, err
			}
			m0 = m
			rec := func(step int, _ model.Logs) error {
				acc, _, err := evaluate(ctx, m, tx, ty)
				run.Curve = append(run.Curve, SyncPoint{step, acc})
				return err
			}
			// In shards of one rank's rows: the arithmetic the
			// synchronized ranks share, bit for bit.
			shards := func(o *model.FitOptions) { o.ShardSize = syncBatch / syncRanks }
			if run.Outcome, err = trainWith(ctx, m, x, y, opt.Steps, syncBatch, at, rec, shards); err != nil {
				return nil, err
			}
		default:
			peers := reduce.NewPeers(syncRanks)
			ms := make([]*model.Sequential, syncRanks)
			outs := make([]Outcome, syncRanks)
			errs := make([]error, syncRanks)
			for r := range ms {
				if ms[r], err = mk(); err != nil {
					return nil, err
				}
			}
			var wg sync.WaitGroup
			for r := range ms {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Rank 0 measures; a measurement is not a collective
					// call, so the others go on meanwhile and wait for it
					// at the next step's sums.
					var rec func(int, model.Logs) error
					if r == 0 {
						rec = func(step int, _ model.Logs) error {
							acc, _, err := evaluate(ctx, ms[0], tx, ty)
							run.Curve = append(run.Curve, SyncPoint{step, acc})
							return err
						}
					}
					sel := at
					if r != 0 {
						sel = func(int) bool { return false }
					}
					outs[r], errs[r] = trainRanks(ctx, ms[r], x, y, opt.Steps, syncBatch, peers[r], name == "per rank", sel, rec)
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					return nil, err
				}
			}
			m0, run.Outcome = ms[0], outs[0]
		}
		acc, _, err := evaluate(ctx, m0, tx, ty)
		if err != nil {
			return nil, err
		}
		run.TestAccuracy = Float(acc)
		d.Runs = append(d.Runs, run)
		logf(opt.Log, start, "syncbn", "%-12s test accuracy %.4f", name, acc)
	}
	return syncResult(opt, d), nil
}

// trainRanks is train for rank g of a data-parallel Fit.
func trainRanks(ctx context.Context, m *model.Sequential, x, y *tensor.Tensor, steps, batch int, g reduce.Ranks, perRank bool,
	at func(int) bool, record func(int, model.Logs) error) (Outcome, error) {
	return trainWith(ctx, m, x, y, steps, batch, at, record, func(o *model.FitOptions) {
		o.Ranks, o.BatchNormPerRank = g, perRank
	})
}

func syncResult(opt Options, d *SyncBNData) *Result {
	r := &Result{
		Name:  "syncbn",
		Title: fmt.Sprintf("Batch normalization across %d ranks of %d rows", d.Ranks, d.GlobalBatch/d.Ranks),
		Settings: []Setting{
			{"network", "the founding network: 784 → Dense(64, relu) → BN → Dense(64, relu) → BN → Dense(10, softmax)"},
			{"optimizer", "Adam, lr 0.001"},
			{"training", fmt.Sprintf("global batch %d: one process, or %d in-process ranks of %d rows (reduce.NewPeers); %s steps, seed %d",
				d.GlobalBatch, d.Ranks, d.GlobalBatch/d.Ranks, fmtInt(d.Steps), opt.Seed)},
			{"data", fmt.Sprintf("%s training images; test accuracy on %s test images, inference mode, rank 0's model",
				fmtInt(opt.Data.Train.N), fmtInt(opt.Data.Test.N))},
		},
		Data: d,
	}
	r.Table.Header = []string{"training", "test accuracy"}
	for _, run := range d.Runs {
		r.Table.Rows = append(r.Table.Rows, []string{run.Name, fmtAcc(float64(run.TestAccuracy))})
	}
	r.Notes = []string{
		"synchronized: every rank normalizes with the whole global batch's statistics, so the ranks compute, bit for bit, " +
			"what the one process computes (it trains in shards of 4 rows, whose sums take the ranks' tree order).",
		"per rank: each rank normalizes its 4 rows with their own statistics (PyTorch DDP without SyncBatchNorm); " +
			"the gradients are still summed, so the weights stay identical on every rank.",
	}
	c := report.Chart{Name: "accuracy", Title: r.Title, XLabel: "step", YLabel: "test accuracy"}
	for _, run := range d.Runs {
		s := report.Series{Name: run.Name}
		for _, p := range run.Curve {
			s.X, s.Y = append(s.X, float64(p.Step)), append(s.Y, p.TestAccuracy)
		}
		c.Series = append(c.Series, s)
	}
	r.Charts = []report.Chart{c}
	return r
}
