package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSumSqMatchesGeneric checks that the dispatched SumSq and UpdateSums
// give the references' bits, and both agree with a plain float64 sum.
func TestSumSqMatchesGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range append(elemLengths, 4096, 55562) {
		for off := range 3 {
			x, _ := guarded(n, off, rng, false)
			p, _ := guarded(n, off+1, rng, false)
			for i := range x {
				x[i] *= float32(math.Pow(10, float64(rng.IntN(9)-4)))
			}
			var want, wantW, wantD, wantP float64
			for i := range x {
				a, c := float64(x[i]), float64(p[i])
				want += a * a
				wantW += a * a
				wantD += (a - c) * (a - c)
				wantP += c * c
			}
			got := SumSq(x)
			if g := sumSqGeneric(x); math.Float64bits(g) != math.Float64bits(got) {
				t.Fatalf("n=%d off=%d: SumSq %v, Go version %v", n, off, got, g)
			}
			if !close64(got, want) {
				t.Fatalf("n=%d off=%d: SumSq %v, float64 loop %v", n, off, got, want)
			}
			w2, d2, p2 := UpdateSums(x, p)
			gw, gd, gp := updateSumsGeneric(x, p)
			if w2 != gw || d2 != gd || p2 != gp {
				t.Fatalf("n=%d off=%d: UpdateSums %v %v %v, Go version %v %v %v", n, off, w2, d2, p2, gw, gd, gp)
			}
			if !close64(w2, wantW) || !close64(d2, wantD) || !close64(p2, wantP) {
				t.Fatalf("n=%d off=%d: UpdateSums %v %v %v, float64 loop %v %v %v", n, off, w2, d2, p2, wantW, wantD, wantP)
			}
		}
	}
}

// TestSumSqFloat64Range checks that squares of large float32 values do
// not overflow (they are taken in float64) and that NaN propagates.
func TestSumSqFloat64Range(t *testing.T) {
	x := make([]float32, 40)
	for i := range x {
		x[i] = 3e38
	}
	if got, want := SumSq(x), 40*float64(float32(3e38))*float64(float32(3e38)); !close64(got, want) {
		t.Fatalf("SumSq of 40 × 3e38 = %v, want %v", got, want)
	}
	x[17] = float32(math.NaN())
	if got := SumSq(x); !math.IsNaN(got) {
		t.Fatalf("SumSq with a NaN = %v, want NaN", got)
	}
	if _, d2, _ := UpdateSums(x, x); !math.IsNaN(d2) {
		t.Fatalf("UpdateSums d2 with a NaN = %v, want NaN", d2)
	}
}

func TestUpdateSumsShortPrev(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("UpdateSums with a short prev did not panic")
		}
	}()
	UpdateSums(make([]float32, 9), make([]float32, 8))
}

func close64(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12*math.Abs(want)
}

func BenchmarkSumSq(b *testing.B) {
	x := make([]float32, 55562)
	for i := range x {
		x[i] = float32(i%97) * 0.01
	}
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		SumSq(x)
	}
}

func BenchmarkUpdateSums(b *testing.B) {
	x, p := make([]float32, 55562), make([]float32, 55562)
	for i := range x {
		x[i], p[i] = float32(i%97)*0.01, float32(i%89)*0.01
	}
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		UpdateSums(x, p)
	}
}
