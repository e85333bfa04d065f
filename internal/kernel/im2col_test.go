package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// windows are geometries with padding on every side, strides, dilations,
// odd sizes and 1×1 windows (as nn computes them for valid and same).
var windows = []Window{
	{N: 2, H: 5, W: 4, C: 3, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 1, PadLeft: 1, OH: 5, OW: 4},
	{N: 1, H: 6, W: 6, C: 2, KH: 2, KW: 2, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 0, PadLeft: 0, OH: 6, OW: 6},
	{N: 2, H: 7, W: 8, C: 1, KH: 3, KW: 3, SH: 2, SW: 3, DH: 1, DW: 1, PadTop: 1, PadLeft: 0, OH: 4, OW: 3},
	{N: 1, H: 7, W: 7, C: 2, KH: 3, KW: 3, SH: 1, SW: 1, DH: 2, DW: 2, PadTop: 0, PadLeft: 0, OH: 3, OW: 3},
	{N: 2, H: 3, W: 5, C: 4, KH: 1, KW: 1, SH: 2, SW: 2, DH: 1, DW: 1, PadTop: 0, PadLeft: 0, OH: 2, OW: 3},
	{N: 2, H: 6, W: 7, C: 1, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 0, PadLeft: 0, OH: 4, OW: 5},
	{N: 1, H: 8, W: 9, C: 1, KH: 3, KW: 3, SH: 2, SW: 2, DH: 2, DW: 1, PadTop: 1, PadLeft: 0, OH: 3, OW: 4},
	{N: 1, H: 5, W: 6, C: 5, KH: 2, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 0, PadLeft: 0, OH: 4, OW: 4},
}

// im2colNaive is Im2col's formula, one element at a time.
func im2colNaive(x []float64, g *Window) []float64 {
	cols := make([]float64, g.Rows()*g.Cols())
	for n := range g.N {
		for oh := range g.OH {
			for ow := range g.OW {
				for i := range g.KH {
					for j := range g.KW {
						for c := range g.C {
							ih, iw := oh*g.SH-g.PadTop+i*g.DH, ow*g.SW-g.PadLeft+j*g.DW
							if ih >= 0 && ih < g.H && iw >= 0 && iw < g.W {
								cols[((n*g.OH+oh)*g.OW+ow)*g.Cols()+(i*g.KW+j)*g.C+c] = x[((n*g.H+ih)*g.W+iw)*g.C+c]
							}
						}
					}
				}
			}
		}
	}
	return cols
}

// TestIm2colCol2im checks Im2col against its formula (over a buffer full
// of NaNs, so every padded entry must be written) with guard bands, and
// Col2imAdd as its transpose: ⟨Im2col(x), r⟩ = ⟨x, Col2imAdd(r)⟩.
func TestIm2colCol2im(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const guard = 5
	for _, g := range windows {
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			x := make([]float64, g.N*g.H*g.W*g.C)
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			buf := make([]float64, g.Rows()*g.Cols()+2*guard)
			for i := range buf {
				buf[i] = math.NaN()
			}
			cols := buf[guard : len(buf)-guard]
			Im2col(cols, x, &g)
			for i, v := range im2colNaive(x, &g) {
				if cols[i] != v {
					t.Fatalf("cols[%d]: got %g, want %g", i, cols[i], v)
				}
			}
			for i := range guard {
				if !math.IsNaN(buf[i]) || !math.IsNaN(buf[len(buf)-1-i]) {
					t.Fatal("Im2col wrote outside cols")
				}
			}
			r := make([]float64, len(cols))
			for i := range r {
				r[i] = rng.NormFloat64()
			}
			dx := make([]float64, len(x))
			Col2imAdd(dx, r, &g)
			var lhs, rhs float64
			for i := range cols {
				lhs += cols[i] * r[i]
			}
			for i := range x {
				rhs += x[i] * dx[i]
			}
			if math.Abs(lhs-rhs) > 1e-9*math.Max(1, math.Abs(lhs)) {
				t.Errorf("⟨Im2col(x), r⟩ = %.12g, ⟨x, Col2imAdd(r)⟩ = %.12g, want equal", lhs, rhs)
			}
		})
	}
}

// TestCol2imFloat32Order checks the float32 paths (short rows by a loop,
// long ones by the vector add) bit for bit against the formula applied
// row by row and tap by tap, the order Col2imAdd promises.
func TestCol2imFloat32Order(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ws := append([]Window{
		{N: 2, H: 6, W: 6, C: 17, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 1, PadLeft: 1, OH: 6, OW: 6},
		{N: 1, H: 9, W: 9, C: 8, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, OH: 7, OW: 7},
		{N: 1, H: 9, W: 9, C: 20, KH: 3, KW: 3, SH: 2, SW: 2, DH: 2, DW: 2, PadTop: 1, PadLeft: 2, OH: 5, OW: 5},
	}, windows...)
	for _, g := range ws {
		x := make([]float32, g.N*g.H*g.W*g.C)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		cols := make([]float32, g.Rows()*g.Cols())
		Im2col(cols, x, &g)
		x64 := make([]float64, len(x))
		for i, v := range x {
			x64[i] = float64(v)
		}
		for i, v := range im2colNaive(x64, &g) {
			if cols[i] != float32(v) {
				t.Fatalf("%+v: cols[%d] = %g, want %g", g, i, cols[i], v)
			}
		}
		for i := range cols {
			cols[i] = float32(rng.NormFloat64())
		}
		got, want := make([]float32, len(x)), make([]float32, len(x))
		Col2imAdd(got, cols, &g)
		for n := range g.N {
			for oh := range g.OH {
				for ow := range g.OW {
					for i := range g.KH {
						for j := range g.KW {
							ih, iw := oh*g.SH-g.PadTop+i*g.DH, ow*g.SW-g.PadLeft+j*g.DW
							if ih < 0 || ih >= g.H || iw < 0 || iw >= g.W {
								continue
							}
							for c := range g.C {
								want[((n*g.H+ih)*g.W+iw)*g.C+c] += cols[((n*g.OH+oh)*g.OW+ow)*g.Cols()+(i*g.KW+j)*g.C+c]
							}
						}
					}
				}
			}
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v: dx[%d] = %g, want %g", g, i, got[i], want[i])
			}
		}
	}
}

// TestIm2colWindowsMatchGeneric checks the window copy in use against its
// reference bit for bit (NaN, ±Inf and -0 among the values), on window
// rows around the vector widths, overlapping windows and guard bands.
func TestIm2colWindowsMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kwc := range []int{1, 7, 8, 9, 15, 17, 23, 24, 31, 32, 33, 40, 96, 100, 127, 128, 129, 513} {
		for _, kh := range []int{1, 2, 3} {
			for _, n := range []int{0, 1, 2, 5} {
				step, rowStride := kwc/3+1, 2*kwc+5
				span := kwc
				if n > 0 {
					span = (n-1)*step + (kh-1)*rowStride + kwc
				}
				src, _ := guarded(span, 3, rng, true)
				want := make([]float32, n*kh*kwc)
				im2colWindowsGeneric(want, src, n, kh, kwc, step, rowStride)
				dst, db := guarded(n*kh*kwc, 1, rng, false)
				impl.im2colWindows(dst, src, n, kh, kwc, step, rowStride)
				name := fmt.Sprintf("im2colWindows kwc=%d kh=%d n=%d", kwc, kh, n)
				same32(t, name, dst, want)
				checkGuards(t, name, n*kh*kwc, 1, db)
			}
		}
	}
}

// TestIm2colFloat32 checks float32 Im2col bit for bit (NaN, ±Inf and -0
// among the inputs, a buffer of sentinels to overwrite) on window rows
// longer than 16 values, where whole windows go to im2colWindows: padding
// on every side, strides, row dilation, a single tap row, windows none of
// which fits, and rows too long for im2colWindows.
func TestIm2colFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	ws := append([]Window{
		{N: 2, H: 6, W: 7, C: 17, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 1, PadLeft: 1, OH: 6, OW: 7},
		{N: 2, H: 13, W: 13, C: 32, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, OH: 11, OW: 11},
		{N: 1, H: 9, W: 10, C: 9, KH: 2, KW: 2, SH: 2, SW: 3, DH: 3, DW: 1, PadTop: 1, PadLeft: 2, OH: 4, OW: 4},
		{N: 1, H: 5, W: 5, C: 24, KH: 1, KW: 1, SH: 1, SW: 1, DH: 1, DW: 1, OH: 5, OW: 5},
		{N: 1, H: 4, W: 2, C: 10, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 1, PadLeft: 1, OH: 4, OW: 2},
		{N: 1, H: 5, W: 5, C: 11, KH: 3, KW: 2, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 2, PadLeft: 0, OH: 7, OW: 5},
		{N: 1, H: 4, W: 4, C: 200, KH: 2, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 0, PadLeft: 1, OH: 3, OW: 4},
	}, windows...)
	for _, g := range ws {
		x, _ := guarded(g.N*g.H*g.W*g.C, 0, rng, true)
		// The formula on the indices of x (1-based, 0 for padding).
		idx := make([]float64, len(x))
		for i := range idx {
			idx[i] = float64(i + 1)
		}
		cols := make([]float32, g.Rows()*g.Cols())
		for i := range cols {
			cols[i] = sentinel
		}
		Im2col(cols, x, &g)
		for i, v := range im2colNaive(idx, &g) {
			var want float32
			if v > 0 {
				want = x[int(v)-1]
			}
			if !sameBits(cols[i], want) {
				t.Fatalf("%+v: cols[%d] = %v, want %v", g, i, cols[i], want)
			}
		}
	}
}

// BenchmarkIm2col times the im2col of the CNN's two convolutions
// (examples/cnn.json) over a slice of 16 images.
func BenchmarkIm2col(b *testing.B) {
	for _, tc := range []struct {
		name    string
		h, w, c int
	}{{"conv1-28x28x1", 28, 28, 1}, {"conv2-13x13x32", 13, 13, 32}} {
		g := Window{N: 16, H: tc.h, W: tc.w, C: tc.c, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, OH: tc.h - 2, OW: tc.w - 2}
		x := make([]float32, g.N*g.H*g.W*g.C)
		cols := make([]float32, g.Rows()*g.Cols())
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(cols)))
			for b.Loop() {
				Im2col(cols, x, &g)
			}
		})
	}
}
