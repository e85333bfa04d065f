package losses_test

import (
	"math"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/gradcheck"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// saturated returns logits of 6 samples and 5 classes where the labelled
// class of samples 0–3 has a softmax probability far below 1e-7 (a logit
// 25 to 40 below the others) and that of samples 4 and 5 does not, with
// the labels as indices and as one-hot rows.
func saturated() (logits *tensor.Tensor, labels []int) {
	labels = []int{0, 1, 2, 3, 4, 0}
	x := gradcheck.Randn(6, 5)
	for i, k := range labels[:4] {
		x.Set(x.At(i, k)-25-5*float64(i), i, k)
	}
	return x, labels
}

func oneHot(labels []int, classes int) *tensor.Tensor {
	t := tensor.New(tensor.Float64, len(labels), classes)
	for i, k := range labels {
		t.Set(1, i, k)
	}
	return t
}

// kerasCCE is Keras's categorical cross-entropy rule on logits, written
// out from its definition in float64 (TensorFlow.js categoricalCrossentropy
// with fromLogits: softmax, clip to [1e-7, 1−1e-7], −Σ t·log q, mean over
// samples); with clip false, the exact cross-entropy log Σ e^x − x_k.
func kerasCCE(x *tensor.Tensor, labels []int, clip bool) float64 {
	n, c := x.Shape()[0], x.Shape()[1]
	var total float64
	for i := range n {
		hi := math.Inf(-1)
		for j := range c {
			hi = max(hi, x.At(i, j))
		}
		var s float64
		for j := range c {
			s += math.Exp(x.At(i, j) - hi)
		}
		k := labels[i]
		if !clip {
			total += math.Log(s) - (x.At(i, k) - hi)
			continue
		}
		q := math.Exp(x.At(i, k)-hi) / s
		total -= math.Log(min(max(q, 1e-7), 1-1e-7))
	}
	return total / float64(n)
}

// TestKerasClipMatchesKerasRule checks KerasClip against Keras's rule
// computed independently, on a batch where most probabilities are below
// ε: from logits, and on the softmax output where a model puts the loss
// once Fuse declines. It also checks that the default (fused, unclipped)
// loss is the exact cross-entropy and differs from Keras's here, which is
// what the documentation says and what makes the option matter.
func TestKerasClipMatchesKerasRule(t *testing.T) {
	x, labels := saturated()
	onehot := oneHot(labels, 5)
	idx := tensor.New(tensor.Float64, len(labels))
	for i, k := range labels {
		idx.SetIndex(i, float64(k))
	}
	keras, exact := kerasCCE(x, labels, true), kerasCCE(x, labels, false)
	if exact-keras < 5 {
		t.Fatalf("the batch is not saturated: exact %v, Keras %v", exact, keras)
	}
	for _, c := range []struct {
		name   string
		loss   losses.Loss
		target *tensor.Tensor
	}{
		{"cce", losses.CategoricalCrossentropy{KerasClip: true}, onehot},
		{"sparse", losses.SparseCategoricalCrossentropy{KerasClip: true}, idx},
	} {
		for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
			tol := 1e-12
			if dt == tensor.Float32 {
				tol = 1e-5
			}
			t.Run(c.name+"/"+dt.String(), func(t *testing.T) {
				xs, target := x.As(dt), c.target.As(dt)
				if _, ok := c.loss.(losses.Fuser).Fuse(nn.ActSoftmax); ok {
					t.Fatal("Fuse accepted softmax with KerasClip")
				}
				tp := autodiff.NewTape()
				onSoftmax := c.loss.Compute(tp, nn.Softmax(tp, tp.Const(xs)), target).Value.Item()
				if math.Abs(onSoftmax-keras) > tol*keras {
					t.Errorf("on softmax output: got %.15g, want Keras's %.15g", onSoftmax, keras)
				}
				logitsForm := withLogits(c.loss)
				if got := logitsForm.Compute(tp, tp.Const(xs), target).Value.Item(); math.Abs(got-keras) > tol*keras {
					t.Errorf("%+v on logits: got %.15g, want Keras's %.15g", logitsForm, got, keras)
				}
				fused, _ := withoutClip(c.loss).(losses.Fuser).Fuse(nn.ActSoftmax)
				if got := fused.Compute(tp, tp.Const(xs), target).Value.Item(); math.Abs(got-exact) > tol*exact {
					t.Errorf("default, fused: got %.15g, want the exact %.15g (Keras's is %.15g)", got, exact, keras)
				}
			})
		}
	}
}

func withLogits(l losses.Loss) losses.Loss {
	switch l := l.(type) {
	case losses.CategoricalCrossentropy:
		l.FromLogits = true
		return l
	case losses.SparseCategoricalCrossentropy:
		l.FromLogits = true
		return l
	}
	panic("not a categorical cross-entropy")
}

func withoutClip(l losses.Loss) losses.Loss {
	switch l := l.(type) {
	case losses.CategoricalCrossentropy:
		l.KerasClip = false
		return l
	case losses.SparseCategoricalCrossentropy:
		l.KerasClip = false
		return l
	}
	panic("not a categorical cross-entropy")
}

// TestKerasClipGradient checks the clipped logits form's gradient by
// finite differences away from the clip bounds, and that a saturated
// sample passes no gradient to its logits, as Keras's clip does.
func TestKerasClipGradient(t *testing.T) {
	labels := []int{1, 0, 3, 2, 1}
	for _, l := range []losses.Loss{
		losses.CategoricalCrossentropy{FromLogits: true, KerasClip: true},
		losses.SparseCategoricalCrossentropy{FromLogits: true, KerasClip: true},
	} {
		target := oneHot(labels, 4)
		if losses.Sparse(l) {
			target = tensor.FromFloat64([]float64{1, 0, 3, 2, 1}, 5)
		}
		t.Run(l.Name(), func(t *testing.T) {
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				return l.Compute(tp, v[0], target)
			}, 1e-6, gradcheck.Randn(5, 4))

			x := gradcheck.Randn(5, 4)
			x.Set(x.At(0, 1)-40, 0, 1) // sample 0's label: probability ≈ e^-40
			_, grad := lossAndGrad(l, x, target)
			for j := range 4 {
				if grad[j] != 0 {
					t.Errorf("saturated sample, logit %d: got gradient %g, want 0", j, grad[j])
				}
			}
			if grad[4] == 0 {
				t.Error("unsaturated sample 1 got no gradient")
			}
		})
	}
}

// customLoss reports sparse labels as told, for TestSparse.
type customLoss struct {
	losses.MeanSquaredError
	sparse bool
}

func (c customLoss) SparseLabels() bool { return c.sparse }

func TestSparse(t *testing.T) {
	for _, c := range []struct {
		loss losses.Loss
		want bool
	}{
		{losses.SparseCategoricalCrossentropy{}, true},
		{losses.SparseCategoricalCrossentropy{FromLogits: true, KerasClip: true}, true},
		{losses.CategoricalCrossentropy{}, false},
		{losses.BinaryCrossentropy{}, false},
		{losses.MeanSquaredError{}, false},
		{customLoss{sparse: true}, true},
		{customLoss{sparse: false}, false},
	} {
		if got := losses.Sparse(c.loss); got != c.want {
			t.Errorf("Sparse(%#v) = %v, want %v", c.loss, got, c.want)
		}
	}
}

// TestClippedNamesRoundTrip checks that the clipped losses' names bring
// back the same loss through ByName, as a saved model needs.
func TestClippedNamesRoundTrip(t *testing.T) {
	for _, l := range []losses.Loss{
		losses.CategoricalCrossentropy{KerasClip: true},
		losses.SparseCategoricalCrossentropy{KerasClip: true},
		losses.CategoricalCrossentropy{},
		losses.SparseCategoricalCrossentropy{},
	} {
		got, err := losses.ByName(l.Name())
		if err != nil || got != l {
			t.Errorf("ByName(%q) = %#v, %v; want %#v", l.Name(), got, err, l)
		}
	}
}
