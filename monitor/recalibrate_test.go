package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// populationStats returns the mean and biased variance of each column of
// t, computed directly (two passes, float64).
func populationStats(t *tensor.Tensor) (mean, variance []float64) {
	n, f := t.Dim(0), t.Dim(1)
	mean, variance = make([]float64, f), make([]float64, f)
	for j := range f {
		for i := range n {
			mean[j] += t.At(i, j)
		}
		mean[j] /= float64(n)
		for i := range n {
			d := t.At(i, j) - mean[j]
			variance[j] += d * d
		}
		variance[j] /= float64(n)
	}
	return mean, variance
}

// TestRecalibrate checks that after Recalibrate every batch-norm layer's
// moving statistics are the population mean and biased variance of its
// input over x, as m.Trace sees that input (in inference mode, with the
// earlier layers already recalibrated).
func TestRecalibrate(t *testing.T) {
	x, y := blobs(50, 5, 3, 6)
	for _, c := range []struct {
		name     string
		ls       func() []layers.Layer
		dt       tensor.DType
		batch    int
		unbiased bool
		tol      float64
	}{
		{"two-bn-dropout", func() []layers.Layer {
			return []layers.Layer{layers.NewDense(6, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDropout(0.3),
				layers.NewDense(5, nn.ActTanh), layers.NewBatchNormalization(), layers.NewDense(3, nn.ActSoftmax)}
		}, tensor.Float32, 7, false, 1e-5},
		{"bn-first", func() []layers.Layer {
			return []layers.Layer{layers.NewBatchNormalization(), layers.NewDense(3, nn.ActSoftmax)}
		}, tensor.Float32, 0, false, 1e-5},
		{"unbiased", func() []layers.Layer {
			bn := layers.NewBatchNormalization()
			bn.UnbiasedMovingVariance = true
			return []layers.Layer{layers.NewDense(4, nn.Linear), bn, layers.NewDense(3, nn.ActSoftmax)}
		}, tensor.Float32, 16, true, 1e-5},
		{"float64-batch-1", func() []layers.Layer {
			return []layers.Layer{layers.NewDense(4, nn.ActSigmoid), layers.NewBatchNormalization(), layers.NewDense(3, nn.ActSoftmax)}
		}, tensor.Float64, 1, false, 1e-12},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := model.NewSequential(c.ls()...)
			m.DType = c.dt
			if err := m.CompileNames("adam", "categorical_crossentropy"); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 10}); err != nil {
				t.Fatal(err)
			}
			if err := Recalibrate(context.Background(), m, x, c.batch); err != nil {
				t.Fatal(err)
			}
			outs, err := m.Trace(x)
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for i, l := range m.Layers {
				bn, ok := l.(*layers.BatchNormalization)
				if !ok {
					continue
				}
				in := x
				if i > 0 {
					in = outs[i-1]
				}
				mean, variance := populationStats(in)
				for j := range mean {
					if c.unbiased {
						variance[j] *= 50.0 / 49
					}
					if got := bn.MovingMean.Index(j); !near(got, mean[j], c.tol) {
						t.Errorf("layer %s feature %d: moving mean %g, want %g", bn.Name(), j, got, mean[j])
					}
					if got := bn.MovingVariance.Index(j); !near(got, variance[j], c.tol) {
						t.Errorf("layer %s feature %d: moving variance %g, want %g", bn.Name(), j, got, variance[j])
					}
				}
				checked++
			}
			if checked == 0 {
				t.Fatal("no batch-norm layer checked")
			}
		})
	}
}

// TestRecalibrateBatchSizes checks that the batch size changes nothing
// beyond rounding.
func TestRecalibrateBatchSizes(t *testing.T) {
	x, y := blobs(53, 5, 3, 7)
	var first []float64
	for _, bs := range []int{1, 4, 53, 1000} {
		m := model.NewSequential(layers.NewDense(6, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(3, nn.ActSoftmax))
		m.DType = tensor.Float64
		if err := m.CompileNames("sgd", "categorical_crossentropy"); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 8}); err != nil {
			t.Fatal(err)
		}
		if err := Recalibrate(context.Background(), m, x, bs); err != nil {
			t.Fatal(err)
		}
		bn := m.Layers[1].(*layers.BatchNormalization)
		got := append(flat(bn.MovingMean), flat(bn.MovingVariance)...)
		if first == nil {
			first = got
			continue
		}
		for i := range got {
			if !near(got[i], first[i], 1e-12) {
				t.Errorf("batch size %d: statistic %d = %.17g, with batch size 1 %.17g", bs, i, got[i], first[i])
			}
		}
	}
}

func TestRecalibrateErrors(t *testing.T) {
	x, _ := blobs(8, 5, 3, 6)
	built := func() *model.Sequential {
		return compiled(t, 5, optimizers.NewAdam(), layers.NewDense(4, nn.Linear), layers.NewBatchNormalization(), layers.NewDense(3, nn.ActSoftmax))
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		ctx  context.Context
		m    *model.Sequential
		x    *tensor.Tensor
		bs   int
		want string
	}{
		{context.Background(), nil, x, 0, "model is nil"},
		{context.Background(), model.NewSequential(layers.NewBatchNormalization()), x, 0, "not built"},
		{context.Background(), built(), nil, 0, "X is nil"},
		{context.Background(), built(), tensor.New(tensor.Float32, 8, 4), 0, "X has shape (8, 4)"},
		{context.Background(), built(), x, -2, "batch size -2"},
		{cancelled, built(), x, 0, "context canceled"},
	} {
		err := Recalibrate(c.ctx, c.m, c.x, c.bs)
		if err == nil || !strings.HasPrefix(err.Error(), "monitor: Recalibrate: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got error %v, want one containing %q", err, c.want)
		}
	}
	if err := Recalibrate(cancelled, built(), x, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want it to wrap context.Canceled", err)
	}
}

// TestRecalibrator checks the callback against calling Recalibrate by hand
// on an identical model.
func TestRecalibrator(t *testing.T) {
	x, y := blobs(96, 5, 3, 8)
	vx, vy := blobs(40, 5, 3, 9)
	mk := func() *model.Sequential {
		return compiled(t, 5, optimizers.NewAdam(), layers.NewDense(8, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(3, nn.ActSoftmax))
	}
	var out bytes.Buffer
	r := &Recalibrator{X: x, ValX: vx, ValY: vy, Output: &out}
	m := mk()
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 16, Callbacks: []model.Callback{r}}); err != nil {
		t.Fatal(err)
	}
	ref := mk()
	if _, err := ref.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 16}); err != nil {
		t.Fatal(err)
	}
	before, err := ref.Evaluate(context.Background(), vx, vy, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Recalibrate(context.Background(), ref, x, 0); err != nil {
		t.Fatal(err)
	}
	after, err := ref.Evaluate(context.Background(), vx, vy, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"loss", "accuracy"} {
		if !near(r.Before[k], before[k], 1e-6) || !near(r.After[k], after[k], 1e-6) {
			t.Errorf("%s: got %g → %g, want %g → %g", k, r.Before[k], r.After[k], before[k], after[k])
		}
	}
	if r.Before["loss"] == r.After["loss"] {
		t.Errorf("recalibration changed nothing: loss %g", r.After["loss"])
	}
	want := fmt.Sprintf("monitor: recalibrated 1 batch-norm layers over 96 samples; validation accuracy %.4f → %.4f, loss %.4f → %.4f\n", before["accuracy"], after["accuracy"], before["loss"], after["loss"])
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
	bad := &Recalibrator{X: x, ValX: vx}
	if err := bad.OnTrainBegin(m); err == nil || !strings.Contains(err.Error(), "both ValX and ValY") {
		t.Errorf("got %v", err)
	}
}

// TestRecalibrateUint8: uint8 data (pixels over 255, say), converted a
// batch at a time, recalibrates to the bits its float32 values give, and
// the BatchNorm and Percentiles monitors take it as held-out data.
func TestRecalibrateUint8(t *testing.T) {
	q := make([]uint8, 60*4)
	for i := range q {
		q[i] = uint8(i * 37)
	}
	xu := tensor.FromUint8(q, 255, 60, 4)
	xf := xu.As(tensor.Float32)
	y := tensor.New(tensor.Float32, 60, 3)
	for i := range 60 {
		y.Set(1, i, i%3)
	}
	var stats [2][]float64
	for k, x := range []*tensor.Tensor{xu, xf} {
		m := model.NewSequential(layers.NewDense(6, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(3, nn.ActSoftmax))
		if err := m.CompileNames("sgd", "categorical_crossentropy"); err != nil {
			t.Fatal(err)
		}
		bnm := &BatchNorm{X: x, Every: 2}
		pc := &Percentiles{X: x, Layer: 0, Units: []int{0, 1}, Every: 2}
		if _, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 8, Callbacks: []model.Callback{bnm, pc}}); err != nil {
			t.Fatal(err)
		}
		if err := Recalibrate(context.Background(), m, x, 16); err != nil {
			t.Fatal(err)
		}
		bn := m.Layers[1].(*layers.BatchNormalization)
		stats[k] = append(flat(bn.MovingMean), flat(bn.MovingVariance)...)
	}
	for i := range stats[1] {
		if stats[0][i] != stats[1][i] {
			t.Errorf("statistic %d: %.9g on uint8 x, %.9g on its float32 values", i, stats[0][i], stats[1][i])
		}
	}
}
