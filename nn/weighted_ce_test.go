package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/gradcheck"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

func TestWeightedSoftmaxCrossEntropyGradient(t *testing.T) {
	w := tensor.FromFloat64([]float64{0.5, 0, 2, 1, 3.25}, 5)
	for _, sparse := range []bool{false, true} {
		x := gradcheck.Randn(5, 4)
		var target *tensor.Tensor
		if sparse {
			target = tensor.FromFloat64([]float64{0, 3, 1, 1, 2}, 5)
		} else {
			target = gradcheck.Uniform(0, 1, 5, 4)
		}
		gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
			return nn.WeightedSoftmaxCrossEntropy(tp, v[0], target, w, sparse)
		}, 1e-6, x)
	}
}

// TestWeightedSoftmaxCrossEntropyValue checks Σ wᵢ·Lᵢ / n against the
// per-sample losses taken one row at a time, and that weights of 1 give
// SoftmaxCrossEntropy's value and gradient bit for bit.
func TestWeightedSoftmaxCrossEntropyValue(t *testing.T) {
	x := gradcheck.Randn(4, 3)
	labels := tensor.FromFloat64([]float64{2, 0, 1, 2}, 4)
	wv := []float64{1.5, 0, 0.25, 2}
	tp := autodiff.NewTape()
	got := nn.WeightedSoftmaxCrossEntropy(tp, tp.Const(x), labels, tensor.FromFloat64(wv, 4), true).Value.Item()
	var want float64
	for i := range 4 {
		row := tensor.FromFloat64(x.Float64s()[i*3:(i+1)*3], 1, 3)
		li := nn.SoftmaxCrossEntropy(tp, tp.Const(row), tensor.FromFloat64([]float64{labels.Index(i)}, 1), true).Value.Item()
		want += wv[i] * li
	}
	want /= 4 // sum over batch size, not over Σw
	if math.Abs(got-want) > 1e-12 {
		t.Fatalf("weighted loss %v, want %v", got, want)
	}

	ones := tensor.FromFloat64([]float64{1, 1, 1, 1}, 4)
	for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
		xd, ld, od := x.As(dt), labels.As(dt), ones.As(dt)
		tp1, tp2 := autodiff.NewTape(), autodiff.NewTape()
		v1, v2 := tp1.Variable(xd.Clone()), tp2.Variable(xd.Clone())
		l1 := nn.SoftmaxCrossEntropy(tp1, v1, ld, true)
		l2 := nn.WeightedSoftmaxCrossEntropy(tp2, v2, ld, od, true)
		tp1.Backward(l1)
		tp2.Backward(l2)
		if a, b := l1.Value.Item(), l2.Value.Item(); math.Float64bits(a) != math.Float64bits(b) {
			t.Errorf("%s: weights of 1 give loss %v, want %v", dt, b, a)
		}
		for i := range xd.Len() {
			if a, b := v1.Grad.Index(i), v2.Grad.Index(i); math.Float64bits(a) != math.Float64bits(b) {
				t.Fatalf("%s: weights of 1 give gradient[%d] %v, want %v", dt, i, b, a)
			}
		}
	}
}

// TestSoftmaxCrossEntropyAgreesWithSoftmax checks that the cross-entropy
// and its gradient use bit for bit the probabilities nn.Softmax gives and
// the log-sum-exp of the same sum of exponentials (its loop computes both
// from one pass), and that SoftmaxOf hands those probabilities on.
func TestSoftmaxCrossEntropyAgreesWithSoftmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, c = 7, 10
	x := make([]float32, n*c)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 4)
	}
	labels := make([]float32, n)
	for i := range labels {
		labels[i] = float32(rng.IntN(c))
	}
	tp := autodiff.NewTape()
	logits := tp.Variable(tensor.FromFloat32(x, n, c))
	loss := nn.SoftmaxCrossEntropy(tp, logits, tensor.FromFloat32(labels, n), true)
	p := nn.Softmax(tp, tp.Const(tensor.FromFloat32(x, n, c))).Value.Float32s()
	tp.Backward(loss)
	g := tp.GradOf(logits).Float32s()
	var total float64
	for i := range n {
		row := x[i*c : (i+1)*c]
		m := row[0]
		for _, v := range row {
			m = max(m, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v - m))
		}
		total += float64(m) + math.Log(s) - float64(row[int(labels[i])])
		for j := range c {
			s0 := float32(1) / n // the backward's (softmax − onehot)·(1/n)
			want := s0 * p[i*c+j]
			if j == int(labels[i]) {
				want -= s0
			}
			if g[i*c+j] != want {
				t.Fatalf("gradient [%d,%d] = %g, want (softmax − onehot)/n = %g", i, j, g[i*c+j], want)
			}
		}
	}
	if got, want := loss.Value.Float32s()[0], float32(total/n); got != want {
		t.Fatalf("loss = %g, want %g", got, want)
	}
	sp := nn.SoftmaxOf(tp, logits)
	if sp == nil {
		t.Fatal("SoftmaxOf found no cross-entropy of the logits")
	}
	for i, v := range sp.Float32s() {
		if v != p[i] {
			t.Fatalf("SoftmaxOf element %d = %g, nn.Softmax %g", i, v, p[i])
		}
	}
	if nn.SoftmaxOf(tp, tp.Const(tensor.FromFloat32(x, n, c))) != nil {
		t.Error("SoftmaxOf answered for logits no cross-entropy took")
	}
	ng := autodiff.NewTape()
	ng.NoGrad = true
	nl := ng.Variable(tensor.FromFloat32(x, n, c))
	nn.SoftmaxCrossEntropy(ng, nl, tensor.FromFloat32(labels, n), true)
	if nn.SoftmaxOf(ng, nl) != nil {
		t.Error("SoftmaxOf answered on a tape that records nothing")
	}
}

// TestSoftmaxNaNRow: a NaN anywhere in a row of logits makes that row's
// softmax NaN and the cross-entropy NaN, wherever the NaN stands, and
// leaves the other rows alone.
func TestSoftmaxNaNRow(t *testing.T) {
	nan := float32(math.NaN())
	x := []float32{nan, 1, 2, 0, 1, 2, 1, 2, nan, 3, 1, 0}
	tp := autodiff.NewTape()
	p := nn.Softmax(tp, tp.Const(tensor.FromFloat32(x, 4, 3))).Value.Float32s()
	for i, v := range p {
		if row := i / 3; (row == 0 || row == 2) != (v != v) {
			t.Errorf("softmax element %d (row %d) = %g", i, row, v)
		}
	}
	for _, rows := range [][2]int{{0, 1}, {2, 3}} {
		xs := x[rows[0]*3 : rows[1]*3]
		loss := nn.SoftmaxCrossEntropy(tp, tp.Const(tensor.FromFloat32(xs, 1, 3)), tensor.FromFloat32([]float32{1}, 1), true)
		if v := loss.Value.Float32s()[0]; v == v {
			t.Errorf("cross-entropy of row %d = %g, want NaN", rows[0], v)
		}
	}
}
