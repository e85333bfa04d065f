package losses_test

import (
	"math"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/gradcheck"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/tensor"
)

// TestNewLossGradients checks MeanAbsoluteError, Huber (with elements on
// both sides of δ) and KLDivergence against central differences in
// float64.
func TestNewLossGradients(t *testing.T) {
	dist := func() *tensor.Tensor { // rows of positive values summing to 1
		d := gradcheck.Uniform(0.05, 1, 4, 3)
		for r := range 4 {
			s := 0.0
			for c := range 3 {
				s += d.Index(r*3 + c)
			}
			for c := range 3 {
				d.SetIndex(r*3+c, d.Index(r*3+c)/s)
			}
		}
		return d
	}
	// x − target avoids 0 (the kink of |x|) and ±δ (Huber's seam).
	far := func(scale float64) *tensor.Tensor {
		d := gradcheck.Uniform(0.1, 1, 4, 3)
		for i := range d.Len() {
			if i%2 == 1 {
				d.SetIndex(i, -d.Index(i))
			}
			d.SetIndex(i, d.Index(i)*scale)
		}
		return d
	}
	zero := tensor.New(tensor.Float64, 4, 3)
	for _, c := range []struct {
		name   string
		loss   losses.Loss
		pred   *tensor.Tensor
		target *tensor.Tensor
	}{
		{"mae", losses.MeanAbsoluteError{}, far(1), zero},
		{"mae/column", losses.MeanAbsoluteError{}, gradcheck.Randn(5, 1), tensor.FromFloat64([]float64{7, 8, 9, 10, 11}, 5)},
		{"huber/inside", losses.Huber{}, far(0.9), zero},
		{"huber/outside", losses.Huber{}, far(3), zero},
		{"huber/delta", losses.Huber{Delta: 0.5}, far(1), zero},
		{"kld", losses.KLDivergence{}, dist(), dist()},
	} {
		t.Run(c.name, func(t *testing.T) {
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				return c.loss.Compute(tp, v[0], c.target)
			}, 1e-6, c.pred)
		})
	}
}

// TestNewLossValues checks each loss on values worked out by hand.
func TestNewLossValues(t *testing.T) {
	pred := tensor.FromFloat64([]float64{0.5, -2, 3, 0}, 2, 2)
	target := tensor.FromFloat64([]float64{0, 0, 1, 0.25}, 2, 2)
	// x = 0.5, −2, 2, −0.25.
	for _, c := range []struct {
		name string
		loss losses.Loss
		want float64
	}{
		{"mae", losses.MeanAbsoluteError{}, (0.5 + 2 + 2 + 0.25) / 4},
		// δ = 1: ½·0.25, 1·(2 − ½), 1·(2 − ½), ½·0.0625.
		{"huber", losses.Huber{}, (0.125 + 1.5 + 1.5 + 0.03125) / 4},
		// δ = 2: ½·0.25, ½·4, ½·4, ½·0.0625 (|x| = δ is quadratic).
		{"huber/2", losses.Huber{Delta: 2}, (0.125 + 2 + 2 + 0.03125) / 4},
	} {
		got, _ := lossAndGrad(c.loss, pred, target)
		if math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%s: got %.17g, want %.17g", c.name, got, c.want)
		}
	}
	// KL: rows t = (0.5, 0.5), p = (0.25, 0.75); t = (1, 0), p = (0.5, 0.5):
	// the zero is clipped to ε, ε·log(ε/0.5) ≈ −1.5e-6.
	p := tensor.FromFloat64([]float64{0.25, 0.75, 0.5, 0.5}, 2, 2)
	q := tensor.FromFloat64([]float64{0.5, 0.5, 1, 0}, 2, 2)
	eps := losses.ClipEpsilon
	want := (0.5*math.Log(0.5/0.25) + 0.5*math.Log(0.5/0.75) + math.Log(1/0.5) + eps*math.Log(eps/0.5)) / 2
	if got, _ := lossAndGrad(losses.KLDivergence{}, p, q); math.Abs(got-want) > 1e-15 {
		t.Errorf("kl_divergence: got %.17g, want %.17g", got, want)
	}
}

func TestNewLossNames(t *testing.T) {
	for name, want := range map[string]string{
		"mean_absolute_error": "mean_absolute_error", "mae": "mean_absolute_error", "MeanAbsoluteError": "mean_absolute_error",
		"huber": "huber", "Huber": "huber",
		"kl_divergence": "kl_divergence", "kld": "kl_divergence", "KLDivergence": "kl_divergence",
	} {
		l, err := losses.ByName(name)
		if err != nil {
			t.Fatalf("ByName(%q): %v", name, err)
		}
		if l.Name() != want {
			t.Errorf("ByName(%q).Name() = %q, want %q", name, l.Name(), want)
		}
		if back, err := losses.ByName(l.Name()); err != nil || back.Name() != want {
			t.Errorf("ByName(%q) does not round-trip: %v, %v", l.Name(), back, err)
		}
	}
}

func TestKLDivergenceShapes(t *testing.T) {
	defer func() {
		if _, ok := recover().(*tensor.ShapeError); !ok {
			t.Error("mismatched shapes: got no *tensor.ShapeError panic")
		}
	}()
	lossAndGrad(losses.KLDivergence{}, tensor.New(tensor.Float64, 2, 3), tensor.New(tensor.Float64, 2, 2))
}

func TestToCategorical(t *testing.T) {
	got, err := losses.ToCategorical(tensor.FromFloat64([]float64{2, 0, 1, 2}, 4, 1).As(tensor.Float32), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1}
	if !got.Shape().Equal(tensor.Shape{4, 3}) || got.DType() != tensor.Float32 {
		t.Fatalf("got %s %s, want float32 (4, 3)", got.DType(), got.Shape())
	}
	for i, w := range want {
		if got.Index(i) != w {
			t.Fatalf("element %d: got %v, want %v", i, got.Index(i), w)
		}
	}
	if g, _ := losses.ToCategorical(tensor.FromFloat64([]float64{1}, 1), 4); !g.Shape().Equal(tensor.Shape{1, 4}) {
		t.Errorf("classes 4: got shape %s, want (1, 4)", g.Shape())
	}
	for _, c := range []struct {
		labels  *tensor.Tensor
		classes int
		want    string
	}{
		{tensor.FromFloat64([]float64{0, 3}, 2), 3, "label 1 is 3, want a whole number in [0, 3)"},
		{tensor.FromFloat64([]float64{0.5}, 1), 2, "label 0 is 0.5"},
		{tensor.FromFloat64([]float64{-1}, 1), 2, "label 0 is -1"},
		{tensor.New(tensor.Float64, 2, 2), 2, "labels of shape (2, 2), want (n,) or (n, 1)"},
	} {
		if _, err := losses.ToCategorical(c.labels, c.classes); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got error %v, want one containing %q", err, c.want)
		}
	}
}

func TestOneHot(t *testing.T) {
	rows, classes := losses.OneHot([]string{"dog", "cat", "dog", "eel"})
	if got := strings.Join(classes, ","); got != "cat,dog,eel" {
		t.Fatalf("classes %q, want cat,dog,eel", got)
	}
	want := []float64{0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}
	for i, w := range want {
		if rows.Index(i) != w {
			t.Fatalf("element %d: got %v, want %v", i, rows.Index(i), w)
		}
	}
	rows2, cl := losses.OneHot([]int{10, -3, 10})
	if len(cl) != 2 || cl[0] != -3 || rows2.Index(1) != 1 || rows2.Index(2) != 1 {
		t.Errorf("OneHot(10, -3, 10): classes %v, rows %v", cl, rows2)
	}
}
