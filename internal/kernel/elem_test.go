package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

var elemLengths = []int{0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000, 1027}

// guarded returns a slice of n values at offset off (misaligned) inside a
// larger backing array whose other elements hold sentinel; special mixes
// in NaN, ±Inf, ±0.
func guarded(n, off int, rng *rand.Rand, special bool) (s, backing []float32) {
	backing = make([]float32, off+n+guard)
	for i := range backing {
		backing[i] = sentinel
	}
	s = backing[off : off+n]
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1))}
	for i := range s {
		s[i] = float32(rng.NormFloat64())
		if special && rng.IntN(4) == 0 {
			s[i] = specials[rng.IntN(len(specials))]
		}
	}
	return s, backing
}

// checkGuards reports writes outside s in backing.
func checkGuards(t *testing.T, what string, n, off int, backing []float32) {
	t.Helper()
	for i, v := range backing {
		if (i < off || i >= off+n) && math.Float32bits(v) != math.Float32bits(sentinel) {
			t.Errorf("%s n=%d off=%d: wrote outside the slice at backing[%d]: got %v", what, n, off, i, v)
		}
	}
}

func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

// close32 accepts a difference of a few float32 roundings of size mag.
func close32(got, want, mag float32) bool {
	if got == want || (got != got && want != want) {
		return true
	}
	return math.Abs(float64(got-want)) <= 4*math.Abs(float64(mag))/(1<<23)
}

func TestElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range elemLengths {
		for _, off := range []int{0, 1, 3} {
			// AxpyUnitary: y += alpha*x (a few roundings from the Go version).
			x, _ := guarded(n, off, rng, false)
			y, yb := guarded(n, off+1, rng, false)
			want := append([]float32(nil), y...)
			axpyGeneric(-1.5, x, want)
			y0 := append([]float32(nil), y...)
			AxpyUnitary(-1.5, x, y)
			for i := range y {
				if !close32(y[i], want[i], 1.5*x[i]+y0[i]) {
					t.Errorf("AxpyUnitary n=%d off=%d: y[%d] got %v, want %v", n, off, i, y[i], want[i])
				}
			}
			checkGuards(t, "AxpyUnitary", n, off+1, yb)

			// ScalUnitary: exact.
			x, xb := guarded(n, off, rng, true)
			want = append([]float32(nil), x...)
			scalGeneric(0.3, want)
			ScalUnitary(0.3, x)
			for i := range x {
				if !sameBits(x[i], want[i]) {
					t.Errorf("ScalUnitary n=%d off=%d: x[%d] got %v, want %v", n, off, i, x[i], want[i])
				}
			}
			checkGuards(t, "ScalUnitary", n, off, xb)

			// DotUnitary and Sum: within k roundings of the sum of magnitudes.
			x, _ = guarded(n, off, rng, false)
			y, _ = guarded(n, off+2, rng, false)
			var mag, smag float64
			for i := range x {
				mag += math.Abs(float64(x[i] * y[i]))
				smag += math.Abs(float64(x[i]))
			}
			tol := func(m float64) float64 { return 2*float64(n+2)*m/(1<<24) + 1e-30 }
			if got, want := DotUnitary(x, y), dotGeneric(x, y); math.Abs(float64(got-want)) > tol(mag) {
				t.Errorf("DotUnitary n=%d off=%d: got %v, want %v", n, off, got, want)
			}
			if got, want := Sum(x), sumGeneric(x); math.Abs(float64(got-want)) > tol(smag) {
				t.Errorf("Sum n=%d off=%d: got %v, want %v", n, off, got, want)
			}

			// ReluTo and ReluGradTo: exact, including NaN and -0.
			x, _ = guarded(n, off, rng, true)
			dst, db := guarded(n, off+3, rng, false)
			want = make([]float32, n)
			reluGeneric(want, x)
			ReluTo(dst, x)
			for i := range dst {
				if !sameBits(dst[i], want[i]) {
					t.Errorf("ReluTo n=%d off=%d: relu(%v) got %v, want %v", n, off, x[i], dst[i], want[i])
				}
			}
			checkGuards(t, "ReluTo", n, off+3, db)
			dy, _ := guarded(n, off+1, rng, true)
			reluGradGeneric(want, dy, x)
			ReluGradTo(dst, dy, x)
			for i := range dst {
				if !sameBits(dst[i], want[i]) {
					t.Errorf("ReluGradTo n=%d off=%d: dy=%v y=%v got %v, want %v", n, off, dy[i], x[i], dst[i], want[i])
				}
			}
			checkGuards(t, "ReluGradTo", n, off+3, db)
		}
	}
}

func TestAddRowTo(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, shape := range [][2]int{{1, 1}, {3, 7}, {4, 8}, {2, 33}, {32, 64}, {5, 10}, {0, 4}} {
		rows, cols := shape[0], shape[1]
		a, _ := guarded(rows*cols, 1, rng, true)
		row, _ := guarded(cols, 2, rng, false)
		dst, db := guarded(rows*cols, 3, rng, false)
		AddRowTo(dst, a, row, cols)
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				if want := a[i*cols+j] + row[j]; !sameBits(dst[i*cols+j], want) {
					t.Errorf("AddRowTo %dx%d: [%d,%d] = %v + %v got %v, want %v", rows, cols, i, j, a[i*cols+j], row[j], dst[i*cols+j], want)
				}
			}
		}
		checkGuards(t, "AddRowTo", rows*cols, 3, db)
	}
	// In place (dst == a) is allowed.
	a := []float32{1, 2, 3, 4}
	AddRowTo(a, a, []float32{10, 20}, 2)
	if want := []float32{11, 22, 13, 24}; a[0] != want[0] || a[1] != want[1] || a[2] != want[2] || a[3] != want[3] {
		t.Errorf("AddRowTo in place: got %v, want %v", a, want)
	}
}

func TestAdamUpdate(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	const lr, b1, b2, eps = 0.001, 0.9, 0.999, 1e-7
	for _, n := range elemLengths {
		w, wb := guarded(n, 1, rng, false)
		g, _ := guarded(n, 2, rng, false)
		m, _ := guarded(n, 3, rng, false)
		v, _ := guarded(n, 0, rng, false)
		for i := range v {
			v[i] = v[i] * v[i] // second moments are not negative
		}
		ww, mw, vw := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
		bc1, bc2 := float32(1-math.Pow(b1, 3)), float32(1-math.Pow(b2, 3))
		adamGeneric(ww, g, mw, vw, lr, b1, b2, eps, bc1, bc2)
		AdamUpdate(w, g, m, v, lr, b1, b2, eps, bc1, bc2)
		for i := range w {
			if !close32(w[i], ww[i], ww[i]) || !close32(m[i], mw[i], mw[i]) || !close32(v[i], vw[i], vw[i]) {
				t.Errorf("AdamUpdate n=%d i=%d g=%v: got w,m,v=%v,%v,%v, want %v,%v,%v", n, i, g[i], w[i], m[i], v[i], ww[i], mw[i], vw[i])
			}
		}
		checkGuards(t, "AdamUpdate", n, 1, wb)
	}
	// One step by hand: from m = v = 0, w moves by lr*sign(g) (up to eps).
	w, m, v := []float32{1}, []float32{0}, []float32{0}
	AdamUpdate(w, []float32{0.5}, m, v, 0.1, 0.9, 0.999, 1e-8, 1-0.9, 1-0.999)
	if got, want := w[0], float32(0.9); math.Abs(float64(got-want)) > 1e-6 {
		t.Errorf("AdamUpdate first step from 1 with g=0.5, lr=0.1: got w=%v, want %v", got, want)
	}
}

func TestElementwisePanics(t *testing.T) {
	s2, s3 := make([]float32, 2), make([]float32, 3)
	tests := []struct {
		name string
		fn   func()
	}{
		{"AxpyUnitary", func() { AxpyUnitary(1, s3, s2) }},
		{"DotUnitary", func() { DotUnitary(s3, s2) }},
		{"ReluTo", func() { ReluTo(s2, s3) }},
		{"ReluGradTo", func() { ReluGradTo(s2, s2, s3) }},
		{"AddRowTo", func() { AddRowTo(s3, s3, s2, 2) }},
		{"AdamUpdate", func() { AdamUpdate(s2, s2, s2, s3, 1, 1, 1, 1, 1, 1) }},
	}
	for _, tt := range tests {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with mismatched lengths: got no panic, want one", tt.name)
				}
			}()
			tt.fn()
		}()
	}
}
