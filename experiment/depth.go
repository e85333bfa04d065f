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
	"github.com/myelin-go/myelin/monitor"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/report"
)

const (
	depthSteps = 2000
	depthBatch = 60
	depthWidth = 32
	depthLR    = 0.1
	// depthWindow is how many of the first and of the last records are
	// averaged (geometrically) for the table's "start" and "end".
	depthWindow = 5
)

var depthDepths = []int{5, 10, 20}

// DepthData is the raw Outcome of Depth.
type DepthData struct {
	Steps  int        `json:"steps"`
	Width  int        `json:"width"`
	Every  int        `json:"every"` // steps between gradient records
	Depths []int      `json:"depths"`
	Nets   []DepthNet `json:"nets"` // for each depth: plain, then batchnorm
}

// DepthNet is one network: its Dense layers' gradient norms over training.
type DepthNet struct {
	Depth        int     `json:"depth"` // hidden layers
	BatchNorm    bool    `json:"batchnorm"`
	Outcome      Outcome `json:"outcome"`
	TestAccuracy float64 `json:"test_accuracy"`
	// Steps are the recorded steps; GradNorms[i][k] is the gradient norm
	// (kernel and bias together) of Dense layer k (0 the first hidden
	// layer, Depth the output layer) at Steps[i], from monitor.Health.
	Steps     []int       `json:"steps"`
	GradNorms [][]float64 `json:"grad_norms"`
	// Start and End are each layer's norms averaged geometrically over the
	// first and last few records.
	Start []float64 `json:"start"`
	End   []float64 `json:"end"`
}

// depthNet returns depth hidden layers of width sigmoid units and a 10-way
// softmax, Glorot-uniform kernels; with bn each hidden layer is
// Dense(linear) → BatchNormalization → sigmoid, without it Dense(linear) →
// sigmoid. It also returns the index in Layers of every Dense layer.
func depthNet(depth int, bn bool, seed uint64) (*model.Sequential, []int) {
	var ls []layers.Layer
	var dense []int
	for range depth {
		dense = append(dense, len(ls))
		ls = append(ls, layers.NewDense(depthWidth, nn.Linear))
		if bn {
			ls = append(ls, layers.NewBatchNormalization())
		}
		ls = append(ls, layers.NewActivation(nn.ActSigmoid))
	}
	dense = append(dense, len(ls))
	m := model.NewSequential(append(ls, layers.NewDense(10, nn.ActSoftmax))...)
	m.Seed = seed
	return m, dense
}

// Depth trains deep narrow sigmoid networks (5, 10 and 20 hidden layers of
// 32 units) with and without batch normalization and records every Dense
// layer's gradient norm with monitor.Health: without BN the gradient shrinks
// layer by layer on its way back to the input; with BN it does not.
func Depth(ctx context.Context, opt Options) (*Result, error) {
	opt, err := prepare(opt, depthSteps)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	x, y := xy(opt.Data.Train)
	tx, ty := xy(opt.Data.Test)
	every := max(1, opt.Steps/200)
	d := &DepthData{Steps: opt.Steps, Width: depthWidth, Every: every, Depths: depthDepths,
		Nets: make([]DepthNet, 2*len(depthDepths))}
	err = parallel(len(d.Nets), func(i int) error {
		depth, bn := depthDepths[i/2], i%2 == 1
		m, dense := depthNet(depth, bn, opt.Seed)
		if err := m.Compile(&optimizers.SGD{LR: depthLR}, losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
			return err
		}
		h := &monitor.Health{Every: every}
		o, err := train(ctx, m, x, y, opt.Steps, depthBatch, nil, nil, h)
		if err != nil {
			return err
		}
		net := DepthNet{Depth: depth, BatchNorm: bn, Outcome: o}
		if net.TestAccuracy, _, err = evaluate(ctx, m, tx, ty); err != nil {
			return err
		}
		col := map[string]int{}
		for k, li := range dense {
			col[m.Layers[li].Name()] = k
		}
		for _, r := range h.Records {
			k, ok := col[r.Layer]
			if !ok {
				continue // a BatchNormalization layer's gamma and beta
			}
			if n := len(net.Steps); n == 0 || net.Steps[n-1] != r.Step {
				net.Steps = append(net.Steps, r.Step)
				net.GradNorms = append(net.GradNorms, make([]float64, len(dense)))
			}
			net.GradNorms[len(net.GradNorms)-1][k] = r.GradNorm
		}
		n := len(net.GradNorms)
		net.Start = geoMeans(net.GradNorms[:min(depthWindow, n)])
		net.End = geoMeans(net.GradNorms[max(0, n-depthWindow):])
		d.Nets[i] = net
		logf(opt.Log, start, "depth", "%-9s depth %2d  test accuracy %.4f  first/output gradient %.1e", netName(bn), depth, net.TestAccuracy, net.Start[0]/net.Start[depth])
		return nil
	})
	if err != nil {
		return nil, err
	}
	return depthResult(opt, d), nil
}

// geoMeans returns the geometric mean of each column of rows (NaN for none).
func geoMeans(rows [][]float64) []float64 {
	if len(rows) == 0 {
		return nil
	}
	out := make([]float64, len(rows[0]))
	for k := range out {
		s := 0.0
		for _, r := range rows {
			s += math.Log(r[k])
		}
		out[k] = math.Exp(s / float64(len(rows)))
	}
	return out
}

func depthResult(opt Options, d *DepthData) *Result {
	r := &Result{
		Name:  "depth",
		Title: "depth: deep narrow sigmoid networks — per-layer gradient norms with and without BN",
		Settings: []Setting{
			{"network", fmt.Sprintf("784 → [Dense(%d) → (BN) → sigmoid] × depth → Dense(10, softmax), depth %v", d.Width, d.Depths)},
			{"init", "Glorot uniform (Keras's default), biases 0"},
			{"training", fmt.Sprintf("plain SGD, lr %g, batches of %d, %s steps, seed %d", depthLR, depthBatch, fmtInt(d.Steps), opt.Seed)},
			{"batch norm", "Keras defaults: momentum 0.99, ε 1e-3"},
			{"gradients", fmt.Sprintf("‖∇‖ of each Dense layer's kernel and bias (monitor.Health) every %d steps; start/end: geometric mean of the first/last %d records", d.Every, depthWindow)},
			{"data", fmt.Sprintf("%s training images; accuracy on %s test images, inference mode", fmtInt(opt.Data.Train.N), fmtInt(opt.Data.Test.N))},
		},
		Data: d,
	}
	r.Table.Header = []string{"depth", "net", "‖∇‖ layer 1", "‖∇‖ last hidden", "‖∇‖ output", "layer 1 / output", "at end", "test acc"}
	for _, n := range d.Nets {
		L := n.Depth
		r.Table.Rows = append(r.Table.Rows, []string{
			fmt.Sprint(L), netName(n.BatchNorm), fmtSci(n.Start[0]), fmtSci(n.Start[L-1]), fmtSci(n.Start[L]),
			fmtSci(n.Start[0] / n.Start[L]), fmtSci(n.End[0] / n.End[L]), fmtAcc(n.TestAccuracy),
		})
		if n.Outcome.Diverged != "" {
			r.Notes = append(r.Notes, fmt.Sprintf("%s depth %d stopped after %d steps: %s", netName(n.BatchNorm), L, n.Outcome.Steps, n.Outcome.Diverged))
		}
	}
	r.Notes = append(r.Notes, "‖∇‖ columns: at the start of training; \"at end\": layer 1 / output over the last records. monitor.Health flags a layer vanishing below 1e-4 of the output layer.")

	byLayer := report.Chart{Name: "gradnorm-by-layer", Title: "gradient norm by layer at the start of training",
		XLabel: "Dense layer (1 = next to the input; the last is the softmax layer)", YLabel: "gradient norm (L2, kernel and bias)", LogY: true}
	for i, n := range d.Nets {
		s := report.Series{Name: fmt.Sprintf("%s, depth %d", netName(n.BatchNorm), n.Depth), Dashed: !n.BatchNorm, Color: i/2 + 1}
		for k, g := range n.Start {
			s.X = append(s.X, float64(k+1))
			s.Y = append(s.Y, g)
		}
		byLayer.Series = append(byLayer.Series, s)
	}
	r.Charts = []report.Chart{byLayer}
	for _, n := range d.Nets[len(d.Nets)-2:] { // the deepest pair
		c := report.Chart{Name: "gradnorm-steps-" + netName(n.BatchNorm),
			Title:  fmt.Sprintf("gradient norms over training, depth %d, %s", n.Depth, netName(n.BatchNorm)),
			XLabel: "training steps", YLabel: "gradient norm (L2, kernel and bias)", LogY: true}
		for _, k := range pickLayers(n.Depth) {
			label := fmt.Sprintf("layer %d", k+1)
			if k == n.Depth {
				label = "output layer"
			}
			s := report.Series{Name: label}
			for i, st := range n.Steps {
				s.X = append(s.X, float64(st))
				s.Y = append(s.Y, n.GradNorms[i][k])
			}
			c.Series = append(c.Series, s)
		}
		r.Charts = append(r.Charts, c)
	}
	return r
}

// pickLayers returns a few Dense layer indices spread from the first to the
// output layer (index depth).
func pickLayers(depth int) []int {
	ks := []int{0, depth / 4, depth / 2, 3 * depth / 4, depth - 1, depth}
	out := ks[:0]
	for _, k := range ks {
		if len(out) == 0 || out[len(out)-1] != k {
			out = append(out, k)
		}
	}
	return out
}
