package monitor

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// TestQuantileNumPy checks quantile against values printed by
// numpy.quantile (NumPy 1.x, default method "linear").
func TestQuantileNumPy(t *testing.T) {
	for _, c := range []struct {
		a    []float64
		qs   []float64
		want []float64
	}{
		{[]float64{3, -1, 2.5, 7, 0, 4, -2}, []float64{0, 0.15, 0.5, 0.85, 1}, []float64{-2.0, -1.1, 2.5, 4.299999999999999, 7.0}},
		{[]float64{5}, []float64{0.15, 0.5}, []float64{5, 5}},
		{[]float64{1, 2}, []float64{0.15, 0.85}, []float64{1.15, 1.85}},
	} {
		s := append([]float64(nil), c.a...)
		sortFloats(s)
		for i, q := range c.qs {
			if got := quantile(s, q); !near(got, c.want[i], 1e-12) {
				t.Errorf("quantile(%v, %g) = %g, want %g", c.a, q, got, c.want[i])
			}
		}
	}
}

func sortFloats(s []float64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestPercentilesValues compares every record with quantiles computed
// independently from the tracked layer's output, recomputed by hand from
// the weights at the end of training (the last record is taken at the last step).
func TestPercentilesValues(t *testing.T) {
	x, y := blobs(64, 5, 3, 1)
	held, _ := blobs(37, 5, 3, 2)
	for _, c := range []struct {
		name string
		ls   func() []layers.Layer
		p    Percentiles
		want func(m *model.Sequential, outs []*tensor.Tensor) *tensor.Tensor
	}{
		{"dense-output-inference", func() []layers.Layer {
			return []layers.Layer{layers.NewDense(6, nn.ActTanh), layers.NewDense(3, nn.ActSoftmax)}
		}, Percentiles{Layer: 0, Inference: true, Units: []int{0, 4, 5}},
			func(m *model.Sequential, outs []*tensor.Tensor) *tensor.Tensor { return outs[0] }},
		{"preactivation", func() []layers.Layer {
			return []layers.Layer{layers.NewDense(6, nn.ActSigmoid), layers.NewDense(3, nn.ActSoftmax)}
		}, Percentiles{Layer: 0, PreActivation: true, Qs: []float64{0.1, 0.9}},
			func(m *model.Sequential, _ []*tensor.Tensor) *tensor.Tensor {
				d := m.Layers[0].(*layers.Dense)
				return affine(held, d.Kernel.Value, d.Bias.Value)
			}},
		{"batchnorm-training-mode", func() []layers.Layer {
			return []layers.Layer{layers.NewDense(4, nn.Linear), layers.NewBatchNormalization(), layers.NewDense(3, nn.ActSoftmax)}
		}, Percentiles{Layer: 1, Units: []int{3, 1}},
			func(m *model.Sequential, outs []*tensor.Tensor) *tensor.Tensor {
				bn := m.Layers[1].(*layers.BatchNormalization)
				return batchNormed(outs[0], bn.Gamma.Value, bn.Beta.Value, bn.Epsilon)
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := compiled(t, 5, optimizers.NewAdam(), c.ls()...)
			p := c.p
			p.X, p.Every = held, 4
			if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: 16, Callbacks: []model.Callback{&p}}); err != nil {
				t.Fatal(err)
			}
			qs := p.Qs
			units := p.Units
			if units == nil {
				units = []int{0, 1, 2, 3, 4, 5}
			}
			// 8 steps sampled every 4, plus step 0.
			if got, want := len(p.Records), 3*len(units); got != want {
				t.Fatalf("got %d records, want %d", got, want)
			}
			for i, r := range p.Records {
				if want := 4 * (i / len(units)); r.Step != want {
					t.Errorf("record %d: step %d, want %d", i, r.Step, want)
				}
				if r.Unit != units[i%len(units)] {
					t.Errorf("record %d: unit %d, want %d", i, r.Unit, units[i%len(units)])
				}
			}
			steps, bands := p.Series(units[len(units)-1])
			if !slices.Equal(steps, []int{0, 4, 8}) || len(bands) != len(qs) {
				t.Fatalf("Series: steps %v and %d bands, want [0 4 8] and %d", steps, len(bands), len(qs))
			}
			for i := range steps {
				r := p.Records[(i+1)*len(units)-1]
				for k := range qs {
					if bands[k][i] != r.Values[k] {
						t.Errorf("Series band %d at step %d: %g, want %g", k, steps[i], bands[k][i], r.Values[k])
					}
				}
			}
			outs, err := m.Trace(held)
			if err != nil {
				t.Fatal(err)
			}
			out := c.want(m, outs)
			last := p.Records[len(p.Records)-len(units):]
			for _, r := range last {
				col := column(out, r.Unit)
				for k, q := range qs {
					if want := npQuantile(col, q); !near(r.Values[k], want, 1e-5) {
						t.Errorf("unit %d, q %g: got %g, want %g", r.Unit, q, r.Values[k], want)
					}
				}
			}
			// The layer's output moved during training: step 0 differs.
			if first := p.Records[0]; first.Values[0] == last[0].Values[0] && first.Values[len(qs)-1] == last[0].Values[len(qs)-1] {
				t.Errorf("step 0 and step 8 records agree (%v): training did not show", first.Values)
			}
		})
	}
}

// affine returns x·w + b in float64.
func affine(x, w, b *tensor.Tensor) *tensor.Tensor {
	n, in, out := x.Dim(0), w.Dim(0), w.Dim(1)
	z := tensor.New(tensor.Float64, n, out)
	for i := range n {
		for j := range out {
			s := b.Index(j)
			for k := range in {
				s += x.At(i, k) * w.At(k, j)
			}
			z.Set(s, i, j)
		}
	}
	return z
}

// batchNormed normalizes each column of z with its own mean and biased
// variance, then scales by gamma and shifts by beta, in float64.
func batchNormed(z, gamma, beta *tensor.Tensor, eps float64) *tensor.Tensor {
	n, f := z.Dim(0), z.Dim(1)
	y := tensor.New(tensor.Float64, n, f)
	for j := range f {
		mean, sq := 0.0, 0.0
		for i := range n {
			mean += z.At(i, j)
		}
		mean /= float64(n)
		for i := range n {
			d := z.At(i, j) - mean
			sq += d * d
		}
		sd := math.Sqrt(sq/float64(n) + eps)
		for i := range n {
			y.Set((z.At(i, j)-mean)/sd*gamma.Index(j)+beta.Index(j), i, j)
		}
	}
	return y
}

func TestPercentilesErrors(t *testing.T) {
	x, y := blobs(32, 5, 3, 1)
	for _, c := range []struct {
		p    Percentiles
		want string
	}{
		{Percentiles{X: x, Layer: 3}, "layer index 3 outside"},
		{Percentiles{X: x, Layer: -1}, "layer index -1 outside"},
		{Percentiles{Layer: 0}, "X is nil"},
		{Percentiles{X: tensor.New(tensor.Float32, 4, 6)}, "X has shape (4, 6)"},
		{Percentiles{X: x.Rows(0, 1)}, "at least 2"},
		{Percentiles{X: x, Units: []int{6}}, "unit 6 outside"},
		{Percentiles{X: x, Qs: []float64{0.5, 1.5}}, "quantile 1.5 outside"},
		{Percentiles{X: x, Qs: []float64{}}, "Qs is empty"},
		{Percentiles{X: x, Layer: 1, PreActivation: true}, "PreActivation needs a Dense layer"},
	} {
		t.Run(c.want, func(t *testing.T) {
			m := compiled(t, 5, optimizers.NewAdam(), layers.NewDense(6, nn.ActReLU), layers.NewActivation(nn.ActTanh), layers.NewDense(3, nn.ActSoftmax))
			p := c.p
			_, err := m.Fit(context.Background(), x, y, model.FitOptions{Callbacks: []model.Callback{&p}})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "monitor: ") {
				t.Errorf("got error %v, want one containing %q", err, c.want)
			}
		})
	}
}
