package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// maxPoolBackwardRef is MaxPoolBackwardAdd as first written: for each
// output and channel, the window is searched tap by tap.
func maxPoolBackwardRef(dx, dy, x, y []float32, g *Window) {
	c := g.C
	for n := 0; n < g.N; n++ {
		img := x[n*g.H*g.W*c : (n+1)*g.H*g.W*c]
		dimg := dx[n*g.H*g.W*c : (n+1)*g.H*g.W*c]
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				o := ((n*g.OH+oh)*g.OW + ow) * c
			search:
				for ch := 0; ch < c; ch++ {
					for i := 0; i < g.KH; i++ {
						ih := oh*g.SH - g.PadTop + i
						for j := 0; j < g.KW; j++ {
							iw := ow*g.SW - g.PadLeft + j
							if ih < 0 || ih >= g.H || iw < 0 || iw >= g.W {
								continue
							}
							if at := (ih*g.W+iw)*c + ch; img[at] == y[o+ch] {
								dimg[at] += dy[o+ch]
								continue search
							}
						}
					}
				}
			}
		}
	}
}

// TestMaxPoolBackwardMatchesSearch compares MaxPoolBackwardAdd with the
// tap-by-tap search on inputs full of ties and some NaNs, for 2×2 pools
// (the unrolled path) and others, valid and padded, overlapping or not.
func TestMaxPoolBackwardMatchesSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, g := range []Window{
		{N: 2, H: 6, W: 6, C: 5, KH: 2, KW: 2, SH: 2, SW: 2, OH: 3, OW: 3},
		{N: 2, H: 7, W: 5, C: 16, KH: 2, KW: 2, SH: 2, SW: 2, OH: 3, OW: 2},                       // the row kernels: odd sizes drop a row and a column
		{N: 1, H: 5, W: 7, C: 3, KH: 2, KW: 2, SH: 2, SW: 2, OH: 3, OW: 4},                        // "same": a padded last row and column
		{N: 1, H: 6, W: 6, C: 2, KH: 3, KW: 3, SH: 1, SW: 1, PadTop: 1, PadLeft: 1, OH: 6, OW: 6}, // overlapping
		{N: 2, H: 7, W: 6, C: 1, KH: 3, KW: 2, SH: 2, SW: 1, OH: 3, OW: 5},
		{N: 1, H: 9, W: 9, C: 2, KH: 9, KW: 9, SH: 1, SW: 1, OH: 1, OW: 1}, // 81 taps: more than the stack list holds
	} {
		x := make([]float32, g.N*g.H*g.W*g.C)
		for i := range x {
			x[i] = float32(rng.IntN(3)) // many ties
			if rng.IntN(50) == 0 {
				x[i] = float32(math.NaN())
			}
		}
		y := make([]float32, g.N*g.OH*g.OW*g.C)
		MaxPool(y, x, &g)
		for n := range g.N {
			for oh := range g.OH {
				for ow := range g.OW {
					for ch := range g.C {
						first, m := true, float32(0)
						for i := range g.KH {
							for j := range g.KW {
								ih, iw := oh*g.SH-g.PadTop+i, ow*g.SW-g.PadLeft+j
								if ih < 0 || ih >= g.H || iw < 0 || iw >= g.W {
									continue
								}
								if v := x[((n*g.H+ih)*g.W+iw)*g.C+ch]; first {
									first, m = false, v
								} else {
									m = max(m, v)
								}
							}
						}
						if got := y[((n*g.OH+oh)*g.OW+ow)*g.C+ch]; !sameBits(got, m) && !(got != got && m != m) {
							t.Fatalf("%+v: y[%d,%d,%d,%d] = %v, want %v", g, n, oh, ow, ch, got, m)
						}
					}
				}
			}
		}
		dy := make([]float32, len(y))
		for i := range dy {
			dy[i] = rng.Float32()
		}
		got, want := make([]float32, len(x)), make([]float32, len(x))
		for i := range got {
			got[i] = float32(i % 7)
			want[i] = got[i]
		}
		MaxPoolBackwardAdd(got, dy, x, y, &g)
		maxPoolBackwardRef(want, dy, x, y, &g)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v: dx[%d] = %v, want %v", g, i, got[i], want[i])
			}
		}
	}
}

// TestMaxPool2 checks the 2×2 row kernels in use (the assembly, where the
// CPU has it) against their references on rows full of ties, NaNs and
// zeros of both signs: the outputs bit for bit (NaN as any NaN), and the
// gradients bit for bit, an untouched −0 included, with nothing written
// past the rows.
func TestMaxPool2(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	vals := []float32{-1, 0, float32(math.Copysign(0, -1)), 1, 2, float32(math.NaN())}
	for _, c := range []int{8, 16, 24, 32, 64, 5} {
		for _, ow := range []int{1, 2, 3, 13} {
			w := 2*ow*c + 3 // a guard band past the taps
			r0, r1 := make([]float32, w), make([]float32, w)
			for i := range r0 {
				r0[i], r1[i] = vals[rng.IntN(len(vals))], vals[rng.IntN(len(vals))]
			}
			got, want := make([]float32, ow*c+2), make([]float32, ow*c+2)
			impl.maxPool2(got[:ow*c], r0, r1, ow, c)
			maxPool2Generic(want[:ow*c], r0, r1, ow, c)
			for i := range got {
				if g, w := got[i], want[i]; !sameBits(g, w) && !(g != g && w != w) {
					t.Fatalf("c=%d ow=%d: y[%d] = %v, want %v", c, ow, i, g, w)
				}
			}
			dy := make([]float32, ow*c)
			for i := range dy {
				dy[i] = float32(rng.NormFloat64())
			}
			g0, g1, w0, w1 := make([]float32, w), make([]float32, w), make([]float32, w), make([]float32, w)
			for i := range g0 {
				g0[i], g1[i] = float32(math.Copysign(0, -1)), float32(i%3)
				w0[i], w1[i] = g0[i], g1[i]
			}
			impl.maxPool2Back(g0, g1, r0, r1, want[:ow*c], dy, ow, c)
			maxPool2BackGeneric(w0, w1, r0, r1, want[:ow*c], dy, ow, c)
			for i := range g0 {
				if !sameBits(g0[i], w0[i]) || !sameBits(g1[i], w1[i]) {
					t.Fatalf("c=%d ow=%d: d0[%d], d1[%d] = %v, %v, want %v, %v", c, ow, i, i, g0[i], g1[i], w0[i], w1[i])
				}
			}

			// The set form against the reference and against clearing,
			// then adding; past the taps it writes nothing.
			s0, s1, z0, z1 := make([]float32, w), make([]float32, w), make([]float32, w), make([]float32, w)
			e0, e1 := make([]float32, w), make([]float32, w)
			for i := range s0 {
				s0[i], s1[i] = float32(math.NaN()), 7
				if i >= 2*ow*c {
					z0[i], z1[i], e0[i], e1[i] = s0[i], s1[i], s0[i], s1[i]
				}
			}
			impl.maxPool2BackSet(s0, s1, r0, r1, want[:ow*c], dy, ow, c)
			maxPool2BackSetGeneric(z0, z1, r0, r1, want[:ow*c], dy, ow, c)
			maxPool2BackGeneric(e0, e1, r0, r1, want[:ow*c], dy, ow, c)
			for i := range s0 {
				if !sameBits(s0[i], z0[i]) || !sameBits(s1[i], z1[i]) {
					t.Fatalf("c=%d ow=%d: set d0[%d], d1[%d] = %v, %v, want %v, %v", c, ow, i, i, s0[i], s1[i], z0[i], z1[i])
				}
				if i < 2*ow*c && (!sameBits(z0[i], e0[i]) || !sameBits(z1[i], e1[i])) {
					t.Fatalf("c=%d ow=%d: reference set d0[%d], d1[%d] = %v, %v, cleared and added %v, %v", c, ow, i, i, z0[i], z1[i], e0[i], e1[i])
				}
			}
		}
	}
}

// TestMaxPoolBackwardSet checks that setting the gradient gives the bits
// of clearing it and adding, on images the 2×2 windows tile and on images
// with a row and column no window reads, in float32 and float64.
func TestMaxPoolBackwardSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct{ h, w, c, kh, sh int }{
		{4, 6, 8, 2, 2}, {5, 5, 8, 2, 2}, {11, 11, 64, 2, 2}, {7, 6, 5, 2, 2}, {7, 7, 8, 3, 2},
	} {
		g := Window{N: 3, H: tc.h, W: tc.w, C: tc.c, KH: tc.kh, KW: tc.kh, SH: tc.sh, SW: tc.sh, DH: 1, DW: 1}
		g.OH, g.OW = (tc.h-tc.kh)/tc.sh+1, (tc.w-tc.kh)/tc.sh+1
		n, m := g.N*g.H*g.W*g.C, g.N*g.OH*g.OW*g.C
		x, dy := make([]float32, n), make([]float32, m)
		for i := range x {
			x[i] = float32(rng.IntN(3)) // ties
		}
		for i := range dy {
			dy[i] = float32(rng.NormFloat64())
		}
		y := make([]float32, m)
		MaxPool(y, x, &g)
		got, want := make([]float32, n), make([]float32, n)
		for i := range got {
			got[i] = float32(math.NaN())
		}
		MaxPoolBackwardSet(got, dy, x, y, &g)
		MaxPoolBackwardAdd(want, dy, x, y, &g)
		for i := range want {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("%+v: dx[%d] = %v, want %v", tc, i, got[i], want[i])
			}
		}
		x64, dy64, y64 := make([]float64, n), make([]float64, m), make([]float64, m)
		for i, v := range x {
			x64[i] = float64(v)
		}
		for i, v := range dy {
			dy64[i] = float64(v)
		}
		MaxPool(y64, x64, &g)
		got64, want64 := make([]float64, n), make([]float64, n)
		for i := range got64 {
			got64[i] = 5
		}
		MaxPoolBackwardSet(got64, dy64, x64, y64, &g)
		MaxPoolBackwardAdd(want64, dy64, x64, y64, &g)
		for i := range want64 {
			if math.Float64bits(got64[i]) != math.Float64bits(want64[i]) {
				t.Fatalf("%+v float64: dx[%d] = %v, want %v", tc, i, got64[i], want64[i])
			}
		}
	}
}
