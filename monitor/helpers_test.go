package monitor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// blobs returns n samples of f features in k classes (one-hot targets):
// class c has mean c along the first feature, plus unit Gaussian noise.
func blobs(n, f, k int, seed uint64) (x, y *tensor.Tensor) {
	r := rand.New(rand.NewPCG(seed, 7))
	x, y = tensor.New(tensor.Float32, n, f), tensor.New(tensor.Float32, n, k)
	for i := range n {
		c := i % k
		for j := range f {
			v := r.NormFloat64()
			if j == 0 {
				v += float64(c)
			}
			x.Set(v, i, j)
		}
		y.Set(1, i, c)
	}
	return x, y
}

// compiled returns a model of ls compiled with opt and categorical
// cross-entropy, built for inputs of f features.
func compiled(t testing.TB, f int, opt optimizers.Optimizer, ls ...layers.Layer) *model.Sequential {
	t.Helper()
	m := model.NewSequential(ls...)
	if err := m.Compile(opt, losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
		t.Fatal(err)
	}
	if err := m.Build(f); err != nil {
		t.Fatal(err)
	}
	return m
}

// npQuantile is NumPy's default ("linear") quantile, written from its
// definition independently of quantile: sort a copy, then interpolate
// between the order statistics at floor and ceil of (n−1)q.
func npQuantile(a []float64, q float64) float64 {
	s := slices.Clone(a)
	slices.Sort(s)
	h := float64(len(s)-1) * q
	lo, hi := math.Floor(h), math.Ceil(h)
	return s[int(lo)] + (h-lo)*(s[int(hi)]-s[int(lo)])
}

// column returns column j of a (rows, cols) tensor as float64s.
func column(t *tensor.Tensor, j int) []float64 {
	out := make([]float64, t.Dim(0))
	for i := range out {
		out[i] = t.At(i, j)
	}
	return out
}

func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}
