package model

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// TestInferenceSlicesSameBits checks that Predict, PredictInto and
// Evaluate give the same bits when a large batch runs a slice at a time
// as when it runs in one pass, for float32 and uint8 inputs, and that the
// sliced PredictInto still allocates nothing once warm.
func TestInferenceSlicesSameBits(t *testing.T) {
	m := exampleCNN(t)
	if err := m.Build(784); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 203
	q := make([]uint8, n*784)
	for i := range q {
		q[i] = uint8(rng.IntN(256))
	}
	y := tensor.New(tensor.Float32, n, 10)
	for i := range n {
		y.Set(1, i, rng.IntN(10))
	}
	xu := tensor.FromUint8(q, 255, n, 784)
	xf := xu.As(tensor.Float32)
	// Moving statistics other than 0 and 1, so that inference's batch norm
	// does arithmetic.
	for _, p := range m.Params() {
		if d := p.Value.Float32s(); d != nil {
			for i := range d {
				d[i] += float32(rng.NormFloat64()) * 0.1
			}
		}
	}
	for _, l := range m.Layers {
		if bn, ok := l.(*layers.BatchNormalization); ok {
			mean, variance := bn.MovingMean.Float32s(), bn.MovingVariance.Float32s()
			for i := range mean {
				mean[i] = 0.1 * float32(rng.NormFloat64())
				variance[i] = 0.5 + rng.Float32()
			}
		}
	}

	type result struct {
		pred, into *tensor.Tensor
		eval       map[string]float64
	}
	run := func(x *tensor.Tensor) result {
		t.Helper()
		ctx := context.Background()
		pred, err := m.Predict(ctx, x, EvalOptions{BatchSize: 100}) // [0,100) and [100,200) sliced, [200,203) not
		if err != nil {
			t.Fatal(err)
		}
		into := tensor.New(tensor.Float32, n, 10)
		if err := m.PredictInto(into, x); err != nil {
			t.Fatal(err)
		}
		eval, err := m.Evaluate(ctx, x, y, EvalOptions{BatchSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		return result{pred, into, eval}
	}
	defer func(b, r int) { inferBudget, inferMinRows = b, r }(inferBudget, inferMinRows)
	for _, x := range []*tensor.Tensor{xf, xu} {
		inferBudget = math.MaxInt32 // one pass per batch
		whole := run(x)
		inferBudget, inferMinRows = 1, 32 // passes of 32 rows, the last one overlapping
		if m.sliceRows() != 32 {
			t.Fatalf("sliceRows = %d, want 32", m.sliceRows())
		}
		sliced := run(x)
		if p := whole.pred.Float32s(); p[96*10] == p[68*10] {
			t.Fatal("rows 68 and 96 have the same outputs: the test cannot see rows out of place")
		}
		// Slices of 30 rows: two goroutines share a batch of 100 as four
		// passes of 25 (evenRows).
		inferBudget, inferMinRows = 30*m.rowBytes(), 8
		if m.sliceRows() != 30 || evenRows(100, 30, 2) != 25 {
			t.Fatalf("sliceRows = %d, evenRows(100, 30, 2) = %d, want 30 and 25", m.sliceRows(), evenRows(100, 30, 2))
		}
		even := run(x)
		for name, pair := range map[string][2]*tensor.Tensor{"Predict": {whole.pred, sliced.pred}, "PredictInto": {whole.into, sliced.into}, "Predict (even passes)": {whole.pred, even.pred}} {
			a, b := pair[0].Float32s(), pair[1].Float32s()
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					t.Fatalf("%s of %s x: output %d is %v sliced, %v in one pass", name, x.DType(), i, b[i], a[i])
				}
			}
		}
		for k, v := range whole.eval {
			if sliced.eval[k] != v || even.eval[k] != v {
				t.Errorf("Evaluate of %s x: %s is %v and %v sliced, %v in one pass", x.DType(), k, sliced.eval[k], even.eval[k], v)
			}
		}
		inferBudget, inferMinRows = 1, 32
		if !raceEnabled {
			dst := tensor.New(tensor.Float32, n, 10)
			if a := testing.AllocsPerRun(5, func() { m.PredictInto(dst, x) }); a != 0 {
				t.Errorf("sliced PredictInto of %s x: %v allocations per call, want 0", x.DType(), a)
			}
		}
	}
}

// TestEvenRows checks the rows of the passes that goroutines share.
func TestEvenRows(t *testing.T) {
	defer func(r int) { inferMinRows = r }(inferMinRows)
	inferMinRows = 8
	for _, c := range []struct{ n, rows, w, want int }{
		{100, 10, 1, 10}, // one goroutine: unchanged
		{100, 10, 2, 10}, // ten passes already
		{100, 13, 2, 13}, // eight passes already
		{100, 11, 2, 10}, // ten passes of 10
		{100, 30, 2, 25}, // four passes
		{1000, 10, 2, 10},
		{30, 10, 2, 8}, // four passes of 8
		{20, 8, 2, 8},  // four passes of 5 would be too few rows
		{17, 8, 2, 8},
	} {
		if got := evenRows(c.n, c.rows, c.w); got != c.want {
			t.Errorf("evenRows(%d, %d, %d) = %d, want %d", c.n, c.rows, c.w, got, c.want)
		}
	}
}

// panicLayer panics with a shape error in Forward once armed, to check
// that a pass's panic on a helper goroutine reaches the caller as an
// error.
type panicLayer struct {
	layers.Base
	armed *atomic.Bool
}

func (l *panicLayer) Type() string { return "panicLayer" }
func (l *panicLayer) Build(in tensor.Shape, _ tensor.DType, _ *rand.Rand) (tensor.Shape, error) {
	return in.Clone(), nil
}
func (l *panicLayer) Built() bool { return true }
func (l *panicLayer) Forward(p *layers.Pass, x *autodiff.Var) *autodiff.Var {
	if l.armed.Load() {
		tensor.Panicf("panicLayer", []tensor.Shape{x.Shape()}, "armed")
	}
	return x
}
func (l *panicLayer) Weights() []layers.Weight { return nil }

// TestInferencePanicInPass checks that a shape error in any pass of a
// sliced batch, whichever goroutine runs it, comes back from Predict and
// Evaluate as an error and leaves the model usable.
func TestInferencePanicInPass(t *testing.T) {
	defer func(b, r int) { inferBudget, inferMinRows = b, r }(inferBudget, inferMinRows)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	inferBudget, inferMinRows = 1, 8
	armed := new(atomic.Bool)
	m := NewSequential(layers.NewDense(16, nn.ActReLU), &panicLayer{armed: armed}, layers.NewDense(3, nn.ActSoftmax))
	if err := m.CompileNames("sgd", "categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	if err := m.Build(5); err != nil {
		t.Fatal(err)
	}
	x, y := tensor.New(tensor.Float32, 100, 5), tensor.New(tensor.Float32, 100, 3)
	ctx := context.Background()
	armed.Store(true)
	if _, err := m.Predict(ctx, x, EvalOptions{BatchSize: 100}); err == nil || !strings.Contains(err.Error(), "armed") {
		t.Fatalf("Predict with a panicking layer: err = %v, want the shape error", err)
	}
	if _, err := m.Evaluate(ctx, x, y, EvalOptions{BatchSize: 100}); err == nil || !strings.Contains(err.Error(), "armed") {
		t.Fatalf("Evaluate with a panicking layer: err = %v, want the shape error", err)
	}
	armed.Store(false)
	if _, err := m.Predict(ctx, x, EvalOptions{BatchSize: 100}); err != nil {
		t.Fatalf("Predict after the errors: %v", err)
	}
}
