package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestBNLoopsMatchGeneric checks each batch-norm loop of the backend in
// use against its reference bit for bit, on column counts around the
// vector width, with and without gamma and beta, on misaligned slices with
// guard bands. (With GOAMD64=v3 the Go compiler may fuse the reference's
// multiply-adds, and this comparison would then fail.)
func TestBNLoopsMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []int{1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100} {
		for _, rows := range []int{1, 2, 3, 32} {
			n := rows * c
			x, _ := guarded(n, 1, rng, false)
			for i := range x {
				x[i] = 3*x[i] + 5
			}
			dy, _ := guarded(n, 2, rng, false)
			xhat, _ := guarded(n, 3, rng, false)
			mean, _ := guarded(c, 1, rng, false)
			invstd, _ := guarded(c, 2, rng, false)
			gamma, _ := guarded(c, 3, rng, false)
			beta, _ := guarded(c, 0, rng, false)
			k, _ := guarded(c, 1, rng, false)
			name := fmt.Sprintf("c=%d rows=%d", c, rows)

			s64 := func(fn func(s []float64)) []float64 {
				s := make([]float64, c)
				for j := range s {
					s[j] = float64(j) * 0.25 // sums that already hold something
				}
				fn(s)
				return s
			}
			same64(t, name+" ColSums", s64(func(s []float64) { ColSums(s, x, c) }), s64(func(s []float64) { colSumsGeneric(s, x, c) }))
			same64(t, name+" ColSqDev", s64(func(s []float64) { ColSqDev(s, x, mean, c) }), s64(func(s []float64) { colSqDevGeneric(s, x, mean, c) }))

			for _, affine := range []bool{true, false} {
				g, b := gamma, beta
				if !affine {
					g, b = nil, nil
				}
				y1, yb1 := guarded(n, 1, rng, false)
				h1, hb1 := guarded(n, 2, rng, false)
				y2, h2 := make([]float32, n), make([]float32, n)
				NormalizeRows(y1, h1, x, mean, invstd, g, b, c)
				normRowsGeneric(y2, h2, x, mean, invstd, g, b, c)
				same32(t, fmt.Sprintf("%s affine=%v NormalizeRows y", name, affine), y1, y2)
				same32(t, fmt.Sprintf("%s affine=%v NormalizeRows xhat", name, affine), h1, h2)
				checkGuards(t, "NormalizeRows y", n, 1, yb1)
				checkGuards(t, "NormalizeRows xhat", n, 2, hb1)
			}

			acs1, acs2 := append([]float32(nil), k...), append([]float32(nil), k...)
			AddColSums(acs1, x, c)
			for i := 0; i < n; i += c { // the row-by-row adds it replaces
				addGeneric(acs2, acs2, x[i:i+c])
			}
			same32(t, name+" AddColSums", acs1, acs2)

			sdy1, sdyx1 := append([]float32(nil), k...), append([]float32(nil), mean...)
			sdy2, sdyx2 := append([]float32(nil), k...), append([]float32(nil), mean...)
			BNBackwardSums(sdy1, sdyx1, dy, xhat, c)
			bnBwdSumsGeneric(sdy2, sdyx2, dy, xhat, c)
			same32(t, name+" BNBackwardSums sdy", sdy1, sdy2)
			same32(t, name+" BNBackwardSums sdyx", sdyx1, sdyx2)

			dx1, dxb := guarded(n, 3, rng, false)
			dx2 := append([]float32(nil), dx1...)
			BNBackwardInput(dx1, dy, xhat, k, sdy1, sdyx1, c)
			bnBwdInputGeneric(dx2, dy, xhat, k, sdy1, sdyx1, c)
			same32(t, name+" BNBackwardInput", dx1, dx2)
			checkGuards(t, "BNBackwardInput", n, 3, dxb)
		}
	}
}

func same32(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if !sameBits(got[i], want[i]) {
			t.Fatalf("%s: [%d] got %v, want %v as the reference computes it", what, i, got[i], want[i])
		}
	}
}

func same64(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s: [%d] got %v, want %v as the reference computes it", what, i, got[i], want[i])
		}
	}
}

// TestBNLoopsFloat64 checks that float64 matrices take the reference.
func TestBNLoopsFloat64(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6} // 2×3
	s := make([]float64, 3)
	ColSums(s, x, 3)
	if want := []float64{5, 7, 9}; s[0] != want[0] || s[1] != want[1] || s[2] != want[2] {
		t.Errorf("ColSums of [[1 2 3] [4 5 6]]: got %v, want %v", s, want)
	}
}

// TestBNLoopsPanics checks the length checks, which the assembly relies
// on, whichever backend is in use.
func TestBNLoopsPanics(t *testing.T) {
	x := make([]float32, 3*16)
	s := make([]float64, 16)
	for name, f := range map[string]func(){
		"ragged rows":  func() { ColSums(s, x[:47], 16) },
		"zero columns": func() { ColSums(s, x, 0) },
		"short s":      func() { ColSums(s[:15], x, 16) },
		"short mean":   func() { ColSqDev(s, x, make([]float32, 8), 16) },
		"short xhat":   func() { NormalizeRows(x, x[:32], x, x, x, x, x, 16) },
		"short gamma":  func() { NormalizeRows(x, x, x, x, x, x[:15], nil, 16) },
		"short sdyx":   func() { BNBackwardSums(x, x[:9], x, x, 16) },
		"short output": func() { BNBackwardInput(x[:32], x, x, x, x, x, 16) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: got no panic, want one", name)
				}
			}()
			f()
		}()
	}
}

// TestBNLoopsAllocs checks that the generic entry points, float32 and
// float64, allocate nothing: a training step must not.
func TestBNLoopsAllocs(t *testing.T) {
	x32, s := make([]float32, 4*16), make([]float64, 16)
	x64 := make([]float64, 4*16)
	for name, f := range map[string]func(){
		"float32": func() {
			ColSums(s, x32, 16)
			NormalizeRows(x32, x32, x32, x32[:16], x32[:16], nil, x32[:16], 16)
			BNBackwardInput(x32, x32, x32, x32[:16], x32[:16], x32[:16], 16)
		},
		"float64": func() {
			ColSqDev(s, x64, x64[:16], 16)
			BNBackwardSums(x64[:16], x64[16:32], x64, x64, 16)
		},
	} {
		if got := testing.AllocsPerRun(10, f); got != 0 {
			t.Errorf("%s: got %v allocations per call, want 0", name, got)
		}
	}
}
