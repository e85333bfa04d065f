package kernel

import (
	"fmt"
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

func TestElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range elemLengths {
		for _, off := range []int{0, 1, 3} {
			// Sum: within k roundings of the sum of magnitudes.
			x, _ := guarded(n, off, rng, false)
			var smag float64
			for i := range x {
				smag += math.Abs(float64(x[i]))
			}
			tol := func(m float64) float64 { return 2*float64(n+2)*m/(1<<24) + 1e-30 }
			if got, want := Sum(x), sumGeneric(x); math.Abs(float64(got-want)) > tol(smag) {
				t.Errorf("Sum n=%d off=%d: got %v, want %v", n, off, got, want)
			}

			// ReluTo and ReluGradTo: exact, including NaN and -0.
			x, _ = guarded(n, off, rng, true)
			dst, db := guarded(n, off+3, rng, false)
			want := make([]float32, n)
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
			// ReluGradAddTo: into a gradient that holds values, -0
			// among them, which stay where x ≤ 0.
			acc, ab := guarded(n, off+2, rng, true)
			for i := 0; i < n; i += 5 {
				acc[i] = float32(math.Copysign(0, -1))
			}
			wantAcc := append([]float32(nil), acc...)
			reluGradAddGeneric(wantAcc, dy, x)
			ReluGradAddTo(acc, dy, x)
			for i := range acc {
				if !sameBits(acc[i], wantAcc[i]) {
					t.Errorf("ReluGradAddTo n=%d off=%d: dy=%v x=%v got %v, want %v", n, off, dy[i], x[i], acc[i], wantAcc[i])
				}
			}
			checkGuards(t, "ReluGradAddTo", n, off+2, ab)
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

// TestAddRowsMatchGeneric checks the bias add in use against its
// reference bit for bit: column counts inside and outside the register
// loops (multiples of 8 up to 64), 0 and 1 rows, NaN, ±Inf and -0 in both
// the matrix and the row, misaligned slices with guard bands, and in place.
func TestAddRowsMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, cols := range []int{1, 3, 7, 8, 9, 10, 15, 16, 17, 24, 31, 32, 33, 40, 48, 56, 63, 64, 65, 72, 100, 128} {
		for _, rows := range []int{0, 1, 2, 3, 17} {
			n := rows * cols
			a, _ := guarded(n, 1, rng, true)
			row, rb := guarded(cols, 2, rng, true)
			want := make([]float32, n)
			addRowsGeneric(want, a, row, cols)

			dst, db := guarded(n, 3, rng, false)
			AddRowTo(dst, a, row, cols)
			same32(t, fmt.Sprintf("AddRowTo %dx%d", rows, cols), dst, want)
			checkGuards(t, "AddRowTo", n, 3, db)

			dst, db = guarded(n, 0, rng, false)
			impl.addRows(dst, a, row, cols)
			same32(t, fmt.Sprintf("addRows %dx%d", rows, cols), dst, want)
			checkGuards(t, "addRows", n, 0, db)

			in, ib := guarded(n, 1, rng, false)
			copy(in, a)
			AddRowTo(in, in, row, cols)
			same32(t, fmt.Sprintf("AddRowTo in place %dx%d", rows, cols), in, want)
			checkGuards(t, "AddRowTo in place", n, 1, ib)
			checkGuards(t, "AddRowTo row", cols, 2, rb)
		}
	}
}

func TestElementwisePanics(t *testing.T) {
	s2, s3 := make([]float32, 2), make([]float32, 3)
	tests := []struct {
		name string
		fn   func()
	}{
		{"ReluTo", func() { ReluTo(s2, s3) }},
		{"ReluGradTo", func() { ReluGradTo(s2, s2, s3) }},
		{"AddRowTo", func() { AddRowTo(s3, s3, s2, 2) }},
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

// BenchmarkAddRowTo times the bias add in place, as nn does it: the CNN's
// convolutions at batch 64 (43264 rows of conv1's 32 filters, 7744 of
// conv2's 64) and, for comparison, 43264 rows of 64 and of a Dense output's
// 10 columns.
func BenchmarkAddRowTo(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, sh := range [][2]int{{43264, 32}, {43264, 64}, {7744, 64}, {43264, 10}} {
		rows, cols := sh[0], sh[1]
		y, bias := randSlice(rows*cols, rng), randSlice(cols, rng)
		b.Run(fmt.Sprintf("rows=%d/cols=%d", rows, cols), func(b *testing.B) {
			b.SetBytes(int64(4 * len(y)))
			for b.Loop() {
				AddRowTo(y, y, bias, cols)
			}
		})
	}
}
