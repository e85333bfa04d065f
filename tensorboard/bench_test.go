package tensorboard_test

import (
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/tensorboard"
)

func BenchmarkScalar(b *testing.B) {
	w, err := tensorboard.NewWriter(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.ReportAllocs()
	step := int64(0)
	for b.Loop() {
		step++
		if err := w.Scalar("batch/loss", step, 0.5); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHistogram writes the histogram of a 784×64 kernel, the largest
// of the founding model, as the Callback does each epoch.
func BenchmarkHistogram(b *testing.B) {
	w, err := tensorboard.NewWriter(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	r := rand.New(rand.NewPCG(7, 8))
	vals := make([]float64, 784*64)
	for i := range vals {
		vals[i] = r.NormFloat64() * 0.05
	}
	b.SetBytes(int64(8 * len(vals)))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Histogram("dense/kernel", 1, vals); err != nil {
			b.Fatal(err)
		}
	}
}
