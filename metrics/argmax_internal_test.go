package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// argmaxRef is argmax by float comparison: the first largest element, or
// the first NaN.
func argmaxRef[T float](row []T) int {
	best := 0
	for j, v := range row {
		if v != v {
			return j
		}
		if v > row[best] {
			best = j
		}
	}
	return best
}

// TestArgmaxMatchesComparison: argmax's integer keys order the floats as
// comparison does, with −0 equal to +0, the first of equals winning, and
// the first NaN returned, in float32 and float64.
func TestArgmaxMatchesComparison(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	rows := [][]float64{
		{}, {1}, {0, 0}, {math.Copysign(0, -1), 0}, {0, math.Copysign(0, -1)},
		{-1, -2, -0.5}, {-inf, -inf}, {-inf, -1e300}, {1, inf, inf}, {3, nan, 5, nan},
		{nan}, {2, 2, 1}, {-3, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64},
		{-1e-40, -1e-39, 0}, {5e-324, 0, -5e-324},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		row := make([]float64, 1+r.IntN(12))
		for j := range row {
			switch r.IntN(6) {
			case 0:
				row[j] = float64(r.IntN(3) - 1) // ties
			case 1:
				row[j] = math.Copysign(0, -1)
			default:
				row[j] = r.NormFloat64() * math.Pow(10, float64(r.IntN(20)-10))
			}
		}
		rows = append(rows, row)
	}
	for _, row := range rows {
		if got, want := argmax(row), argmaxRef(row); got != want {
			t.Fatalf("float64 %v: argmax %d, want %d", row, got, want)
		}
		f := make([]float32, len(row))
		for j, v := range row {
			f[j] = float32(v)
		}
		if got, want := argmax(f), argmaxRef(f); got != want {
			t.Fatalf("float32 %v: argmax %d, want %d", f, got, want)
		}
	}
}

// BenchmarkArgmax: the rows of a shuffled batch of 128 ten-class
// predictions and one-hot targets, as Accuracy.Update meets them.
func BenchmarkArgmax(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const rows = 128 * 400 // more than a branch predictor can learn
	p := make([]float32, rows*10)
	y := make([]float32, rows*10)
	for i := range p {
		p[i] = r.Float32()
	}
	for i := range rows {
		y[i*10+r.IntN(10)] = 1
	}
	for _, f := range []struct {
		name string
		fn   func([]float32) int
	}{{"keys", argmax[float32]}, {"comparison", argmaxRef[float32]}} {
		b.Run(f.name, func(b *testing.B) {
			n, off := 0, 0
			for b.Loop() {
				pp, yy := p[off:off+1280], y[off:off+1280]
				off = (off + 1280) % len(p)
				for i := 0; i < 1280; i += 10 {
					if f.fn(pp[i:i+10]) == f.fn(yy[i:i+10]) {
						n++
					}
				}
			}
		})
	}
}
