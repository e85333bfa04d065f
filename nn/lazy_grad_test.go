package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// TestLazyGradsOnReusedTape runs a float32 convolutional block (the ops that
// clear their gradient buffers piecewise, Tape.GradLazy) on a tape whose
// buffers hold the previous pass's gradients, and checks that every
// gradient equals, bit for bit, the one a new tape computes. Its input
// also feeds a second branch, so some gradients are added onto, not
// written first. A piece left uncleared would carry stale values.
func TestLazyGradsOnReusedTape(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	randn := func(shape ...int) *tensor.Tensor {
		x := tensor.New(tensor.Float32, shape...)
		for i := range x.Float32s() {
			x.Float32s()[i] = float32(rng.NormFloat64())
		}
		return x
	}
	w := autodiff.NewParam(randn(3, 3, 8, 16), "w")
	w2 := autodiff.NewParam(randn(1, 1, 8, 8), "w2")
	gamma, beta := autodiff.NewParam(randn(16), "gamma"), autodiff.NewParam(randn(16), "beta")
	r1, r2 := randn(3, 3, 3, 16), randn(3, 7, 7, 8)
	pass := func(tp *autodiff.Tape, x *tensor.Tensor) []float32 {
		xv := tp.Variable(x)
		y := nn.Conv2D(tp, nn.ReLU(tp, xv), w, nil, nn.Conv2DOptions{}, nn.Linear) // 5×5×16; col2im into ReLU's fresh gradient
		y, _, _ = nn.BatchNorm(tp, y, gamma, beta, 1e-3)
		y = nn.ReLU(tp, y)
		y = nn.MaxPool2D(tp, y, [2]int{2, 2}, [2]int{0, 0}, nn.Same) // 3×3×16
		z := nn.ReLU(tp, nn.Conv2D(tp, xv, w2, nil, nn.Conv2DOptions{}, nn.Linear))
		z = nn.MaxPool2D(tp, z, [2]int{1, 1}, [2]int{1, 1}, nn.Valid)
		loss := nn.Add(tp, nn.Sum(tp, nn.Mul(tp, y, tp.Const(r1)), nn.AllAxes), nn.Sum(tp, nn.Mul(tp, z, tp.Const(r2)), nn.AllAxes))
		tp.Backward(loss)
		var g []float32
		for _, v := range []*autodiff.Var{xv, w, w2, gamma, beta} {
			g = append(g, v.Grad.Float32s()...)
		}
		return g
	}
	x := randn(3, 7, 7, 8)
	want := pass(autodiff.NewTape(), x)
	tp := autodiff.NewTape()
	pass(tp, randn(3, 7, 7, 8)) // leaves other gradients in the tape's buffers
	tp.Reset()
	got := pass(tp, x)
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("gradient element %d: %v on a reused tape, %v on a new one", i, got[i], want[i])
		}
	}
}

// TestNormalizeWithoutTape checks that inference's Normalize, which writes
// y over x̂ on a no-grad tape, gives the bits of the recording one.
func TestNormalizeWithoutTape(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x, mean, variance := tensor.New(tensor.Float32, 5, 3, 3, 16), tensor.New(tensor.Float32, 16), tensor.New(tensor.Float32, 16)
	gamma, beta := autodiff.NewParam(tensor.New(tensor.Float32, 16), "gamma"), autodiff.NewParam(tensor.New(tensor.Float32, 16), "beta")
	for _, s := range [][]float32{x.Float32s(), mean.Float32s(), gamma.Value.Float32s(), beta.Value.Float32s()} {
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
	}
	for i := range variance.Float32s() {
		variance.Float32s()[i] = float32(rng.Float64() + 0.1)
	}
	rec := autodiff.NewTape()
	want := nn.Normalize(rec, rec.Const(x), mean, variance, gamma, beta, 1e-3).Value.Float32s()
	inf := autodiff.NewTape()
	inf.NoGrad = true
	got := nn.Normalize(inf, inf.Const(x), mean, variance, gamma, beta, 1e-3).Value.Float32s()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("y[%d] = %v without a tape, %v with one", i, got[i], want[i])
		}
	}
}
