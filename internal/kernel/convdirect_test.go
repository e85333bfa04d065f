package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// The NaNs the tests put in x and w, with different payloads, so that a
// kernel that let the wrong one through an FMA would show.
var (
	cdNaNx = math.Float32frombits(0x7fc00123)
	cdNaNw = math.Float32frombits(0xffc00456)
	// cdSentinel fills y where ConvDirect must write nothing.
	cdSentinel = math.Float32frombits(0x7fc5a5a5)
)

// cdSurelyDirectK is a tap count every AVX-512 direct kernel worth having
// takes: the tests insist on the direct path below it, so that they
// cannot pass by comparing the reference with itself.
const cdSurelyDirectK = 27

// convDirectRef is what ConvDirect must equal to the bit: Im2col, the
// product and the epilogue, one after the other.
func convDirectRef(y, x []float32, g *Window, w []float32, f int, e *Epilogue) {
	cols := make([]float32, g.Rows()*g.Cols())
	Im2col(cols, x, g)
	Sgemm(false, false, g.Rows(), f, g.Cols(), 1, cols, g.Cols(), w, f, 0, y, f)
	ApplyEpilogue(y, y, f, e)
}

// cdValues returns n normal values with some exact zeros and negative
// zeros among them.
func cdValues(n int, rng *rand.Rand) []float32 {
	s := make([]float32, n)
	for i := range s {
		switch rng.IntN(16) {
		case 0:
			s[i] = 0
		case 1:
			s[i] = float32(math.Copysign(0, -1))
		default:
			s[i] = float32(rng.NormFloat64())
		}
	}
	return s
}

// cdEpilogue returns the epilogue with the stages in mask (1 bias, 2
// normalization, 4 ReLU) for f filters; noGamma and noBeta drop the
// normalization's scale or shift.
func cdEpilogue(f, mask int, noGamma, noBeta bool, rng *rand.Rand) *Epilogue {
	e := &Epilogue{ReLU: mask&4 != 0}
	if mask&1 != 0 {
		e.Bias = cdValues(f, rng)
	}
	if mask&2 != 0 {
		e.Mean = cdValues(f, rng)
		e.InvStd = make([]float32, f)
		for j := range e.InvStd {
			e.InvStd[j] = float32(0.25 + 2*rng.Float64())
		}
		if !noGamma {
			e.Gamma = cdValues(f, rng)
		}
		if !noBeta {
			e.Beta = cdValues(f, rng)
		}
	}
	return e
}

// cdDirectExpected reports whether an AVX-512 backend must take the
// direct path for g, f and e by the rules every limit keeps.
func cdDirectExpected(g *Window, f int, e *Epilogue) bool {
	return g.Cols() <= cdSurelyDirectK && f%16 == 0 && f <= 64 && g.Rows() > 4 &&
		g.PadTop == 0 && g.PadLeft == 0 &&
		(g.OH-1)*g.SH+(g.KH-1)*g.DH < g.H && (g.OW-1)*g.SW+(g.KW-1)*g.DW < g.W &&
		(e.Mean == nil || (e.Gamma != nil && e.Beta != nil))
}

// cdAVX512 reports whether the AVX-512 kernels are in use (not a noasm
// build, MYELIN_NOASM=1 or another CPU), where ConvDirect has its kernel.
func cdAVX512() bool { return strings.HasPrefix(GemmKernel(), "avx512") }

// cdRandomWindow returns a geometry from the ranges the tests cover:
// valid windows mostly, some padded, some running past the right or
// bottom edge, some with fewer output rows than fit.
func cdRandomWindow(rng *rand.Rand) Window {
	pick := func(v ...int) int { return v[rng.IntN(len(v))] }
	for {
		g := Window{
			N: pick(1, 3), H: 5 + rng.IntN(26), W: 5 + rng.IntN(26), C: pick(1, 2, 3, 4, 7),
			KH: pick(1, 2, 3, 5), KW: pick(1, 2, 3, 5),
			SH: 1 + rng.IntN(2), SW: 1 + rng.IntN(2), DH: 1 + rng.IntN(2), DW: 1 + rng.IntN(2),
		}
		eh, ew := (g.KH-1)*g.DH+1, (g.KW-1)*g.DW+1 // the window's extent
		if eh > g.H || ew > g.W {
			continue
		}
		g.OH, g.OW = (g.H-eh)/g.SH+1, (g.W-ew)/g.SW+1
		switch rng.IntN(12) {
		case 0: // padded as "same" pads
			g.PadTop, g.PadLeft = (eh-1)/2, (ew-1)/2
			g.OH, g.OW = (g.H-1)/g.SH+1, (g.W-1)/g.SW+1
		case 1: // the last window column past the right edge
			g.OW++
		case 2: // the last window row past the bottom
			g.OH++
		case 3: // fewer rows and columns than fit: still inside
			g.OH, g.OW = max(1, g.OH-1), max(1, g.OW-2)
		}
		return g
	}
}

// TestConvDirectMatchesIm2colGemm checks ConvDirect against Im2col, Sgemm
// and ApplyEpilogue, to the bit, over random geometries, every filter
// count the kernel takes and every epilogue; where it declines, y must be
// untouched.
func TestConvDirectMatchesIm2colGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	geometries := 160
	if testing.Short() {
		geometries = 40
	}
	direct, declined := 0, 0
	for gi := 0; gi < geometries; gi++ {
		g := cdRandomWindow(rng)
		x := cdValues(g.N*g.H*g.W*g.C, rng)
		x[rng.IntN(len(x))] = cdNaNx
		x[rng.IntN(len(x))] = float32(math.Inf(1))
		if gi%2 == 0 {
			x[rng.IntN(len(x))] = float32(math.Inf(-1))
		}
		cols := make([]float32, g.Rows()*g.Cols())
		Im2col(cols, x, &g)
		for _, f := range []int{16, 32, 48, 64} {
			w := cdValues(g.Cols()*f, rng)
			if gi%3 == 0 {
				w[rng.IntN(len(w))] = cdNaNw
			}
			prod := make([]float32, g.Rows()*f)
			Sgemm(false, false, g.Rows(), f, g.Cols(), 1, cols, g.Cols(), w, f, 0, prod, f)
			// Every epilogue, then a normalization without its scale or
			// shift (which the kernel declines).
			for mask := 0; mask < 10; mask++ {
				stages := mask
				if mask >= 8 {
					stages = 2 | 4
				}
				e := cdEpilogue(f, stages, mask == 8, mask == 9, rng)
				want := make([]float32, len(prod))
				ApplyEpilogue(want, prod, f, e)
				got := cdFilled(len(prod))
				what := fmt.Sprintf("%+v f=%d bias=%v norm=%v gamma=%v beta=%v relu=%v",
					g, f, e.Bias != nil, e.Mean != nil, e.Gamma != nil, e.Beta != nil, e.ReLU)
				ok := ConvDirect(got, x, &g, w, f, e)
				if !ok {
					declined++
					if cdAVX512() && cdDirectExpected(&g, f, e) {
						t.Fatalf("%s: declined a case the direct kernel must take", what)
					}
					cdUntouched(t, what, got)
					continue
				}
				direct++
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: y[%d] (pixel %d, filter %d) = %v (%#08x), want %v (%#08x)",
							what, i, i/f, i%f, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
					}
				}
			}
		}
	}
	t.Logf("direct %d cases, declined %d", direct, declined)
	if cdAVX512() && direct == 0 {
		t.Fatal("no case took the direct path")
	}
}

// TestConvDirectNaNOrder checks which of two NaNs survives, on products
// of 1 to 20 rows (the GEMM's one-row, tall and 8-row kernels). Of an
// FMA's NaN factors the first survives, and a NaN factor beats a NaN
// sum: so the inputs of a window's last tap (the last channel) are often
// NaNs, and the last tap's weights too, with another payload, and the
// NaN of those windows' outputs tells which factor the kernel put first.
func TestConvDirectNaNOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 48))
	for ow := 1; ow <= 20; ow++ {
		g := Window{N: 1, H: 3, W: ow + 2, C: 2, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, OH: 1, OW: ow}
		x := cdValues(g.N*g.H*g.W*g.C, rng)
		for i := 1; i < len(x); i += 2 * (1 + i%3) {
			x[i] = cdNaNx
		}
		for _, f := range []int{16, 32, 48, 64} {
			w := cdValues(g.Cols()*f, rng)
			for j := 0; j < f; j += 2 {
				w[(g.Cols()-1)*f+j] = cdNaNw
			}
			e := cdEpilogue(f, 7, false, false, rng)
			want := make([]float32, g.Rows()*f)
			convDirectRef(want, x, &g, w, f, e)
			got := cdFilled(len(want))
			if !ConvDirect(got, x, &g, w, f, e) {
				if cdAVX512() && cdDirectExpected(&g, f, e) {
					t.Fatalf("OW=%d f=%d: declined", ow, f)
				}
				cdUntouched(t, fmt.Sprintf("OW=%d f=%d", ow, f), got)
				continue
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("OW=%d f=%d: y[%d] = %#08x, want %#08x", ow, f, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
				}
			}
		}
	}
}

// cdCNNLayer is the CNN's first layer at 10 images: 28×28×1 in, 3×3
// valid, 32 filters, bias, normalization and ReLU.
func cdCNNLayer(rng *rand.Rand) (g Window, x, w []float32, f int, e *Epilogue) {
	g = Window{N: 10, H: 28, W: 28, C: 1, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, OH: 26, OW: 26}
	f = 32
	return g, cdValues(g.N*g.H*g.W*g.C, rng), cdValues(g.Cols()*f, rng), f, cdEpilogue(f, 7, false, false, rng)
}

// TestConvDirectCNNLayer checks that the CNN's first layer does take the
// direct path on AVX-512, with the reference's bits at any GOMAXPROCS
// (the reference's product goes parallel; the kernel is serial), and
// without allocating.
func TestConvDirectCNNLayer(t *testing.T) {
	if !cdAVX512() {
		t.Skipf("GEMM kernel %s: no direct convolution kernel", GemmKernel())
	}
	rng := rand.New(rand.NewPCG(43, 44))
	g, x, w, f, e := cdCNNLayer(rng)
	x[100] = cdNaNx
	y := make([]float32, g.Rows()*f)
	for _, procs := range []int{1, 2, 4} {
		setProcs(t, procs)
		want := make([]float32, len(y))
		convDirectRef(want, x, &g, w, f, e)
		clear(y)
		if !ConvDirect(y, x, &g, w, f, e) {
			t.Fatalf("GOMAXPROCS=%d: the CNN's first layer did not take the direct path", procs)
		}
		for i := range want {
			if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
				t.Fatalf("GOMAXPROCS=%d: y[%d] = %v, want %v", procs, i, y[i], want[i])
			}
		}
	}
	if a := testing.AllocsPerRun(20, func() { ConvDirect(y, x, &g, w, f, e) }); a != 0 {
		t.Errorf("ConvDirect allocates %v times per call, want 0", a)
	}
}

// BenchmarkConvDirect compares the direct kernel with the three passes it
// replaces (buffers allocated beforehand), on the CNN's first layer,
// three-channel first layers with 16 to 64 filters and layers of 48 to
// 64 taps, all at 10 images.
// Compare the paths with
//
//	go test ./internal/kernel -run '^$' -bench ConvDirect -cpu 1 -count 6 > b.txt
//	benchstat -col /path b.txt
func BenchmarkConvDirect(b *testing.B) {
	shapes := []struct {
		name string
		g    Window
		f    int
	}{
		{"conv1_28x28x1_3x3_f32", Window{N: 10, H: 28, W: 28, C: 1, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, OH: 26, OW: 26}, 32},
		{"rgb_32x32x3_3x3_f32", Window{N: 10, H: 32, W: 32, C: 3, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, OH: 30, OW: 30}, 32},
		{"rgb_32x32x3_3x3_f16", Window{N: 10, H: 32, W: 32, C: 3, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, OH: 30, OW: 30}, 16},
		{"rgb_32x32x3_3x3_f48", Window{N: 10, H: 32, W: 32, C: 3, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, OH: 30, OW: 30}, 48},
		{"rgb_32x32x3_3x3_f64", Window{N: 10, H: 32, W: 32, C: 3, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, OH: 30, OW: 30}, 64},
		{"k48_32x32x3_4x4_f32", Window{N: 10, H: 32, W: 32, C: 3, KH: 4, KW: 4, SH: 1, SW: 1, DH: 1, DW: 1, OH: 29, OW: 29}, 32},
		{"k63_16x16x7_3x3_f32", Window{N: 10, H: 16, W: 16, C: 7, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, OH: 14, OW: 14}, 32},
		{"k64_28x28x4_4x4_f32", Window{N: 10, H: 28, W: 28, C: 4, KH: 4, KW: 4, SH: 1, SW: 1, DH: 1, DW: 1, OH: 25, OW: 25}, 32},
		{"k64_28x28x16_2x2_f64", Window{N: 10, H: 28, W: 28, C: 16, KH: 2, KW: 2, SH: 1, SW: 1, DH: 1, DW: 1, OH: 27, OW: 27}, 64},
	}
	for _, sh := range shapes {
		g, f := sh.g, sh.f
		rng := rand.New(rand.NewPCG(45, 46))
		x, w := cdValues(g.N*g.H*g.W*g.C, rng), cdValues(g.Cols()*f, rng)
		e := cdEpilogue(f, 7, false, false, rng)
		y := make([]float32, g.Rows()*f)
		b.Run("shape="+sh.name+"/path=direct", func(b *testing.B) {
			if !ConvDirect(y, x, &g, w, f, e) {
				b.Skipf("no direct kernel for this shape (GEMM kernel %s)", GemmKernel())
			}
			for b.Loop() {
				ConvDirect(y, x, &g, w, f, e)
			}
		})
		b.Run("shape="+sh.name+"/path=im2col+gemm+epilogue", func(b *testing.B) {
			cols := make([]float32, g.Rows()*g.Cols())
			for b.Loop() {
				Im2col(cols, x, &g)
				Sgemm(false, false, g.Rows(), f, g.Cols(), 1, cols, g.Cols(), w, f, 0, y, f)
				ApplyEpilogue(y, y, f, e)
			}
		})
	}
}

// TestConvDirectMaxPool2 checks ConvDirectMaxPool2 against the
// convolution's reference followed by MaxPool (2×2, stride 2), to the
// bit, over random geometries (odd output sizes drop their last row or
// column, as "valid" pooling does); where it declines, y must be
// untouched.
func TestConvDirectMaxPool2(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	direct := 0
	for gi := 0; gi < 80; gi++ {
		g := cdRandomWindow(rng)
		x := cdValues(g.N*g.H*g.W*g.C, rng)
		x[rng.IntN(len(x))] = cdNaNx
		for _, f := range []int{16, 32, 48, 64} {
			w := cdValues(g.Cols()*f, rng)
			for _, stages := range []int{0, 7} {
				e := cdEpilogue(f, stages, false, false, rng)
				conv := make([]float32, g.Rows()*f)
				convDirectRef(conv, x, &g, w, f, e)
				pg := Window{N: g.N, H: g.OH, W: g.OW, C: f, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1, OH: g.OH / 2, OW: g.OW / 2}
				got := cdFilled(g.N * pg.OH * pg.OW * f)
				what := fmt.Sprintf("%+v f=%d stages=%d", g, f, stages)
				if !ConvDirectMaxPool2(got, x, &g, w, f, e) {
					if cdAVX512() && cdDirectExpected(&g, f, e) && g.OH >= 2 && g.OW >= 2 && 2*g.OW*f <= 4096 {
						t.Fatalf("%s: declined a case the direct kernel must take", what)
					}
					cdUntouched(t, what, got)
					continue
				}
				direct++
				want := make([]float32, len(got))
				MaxPool(want, conv, &pg)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: y[%d] = %v (%#08x), want %v (%#08x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
					}
				}
			}
		}
	}
	if cdAVX512() && direct == 0 {
		t.Fatal("no case took the direct path")
	}
}

// BenchmarkConvDirectMaxPool2 times the CNN's first layer and the pool
// after it at 10 images: banded through the first-level cache, against
// ConvDirect then MaxPool.
func BenchmarkConvDirectMaxPool2(b *testing.B) {
	rng := rand.New(rand.NewPCG(53, 54))
	g, x, w, f, e := cdCNNLayer(rng)
	pg := Window{N: g.N, H: g.OH, W: g.OW, C: f, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1, OH: g.OH / 2, OW: g.OW / 2}
	y, conv := make([]float32, g.N*pg.OH*pg.OW*f), make([]float32, g.Rows()*f)
	b.Run("banded", func(b *testing.B) {
		if !ConvDirectMaxPool2(y, x, &g, w, f, e) {
			b.Skip("no direct kernel")
		}
		for b.Loop() {
			ConvDirectMaxPool2(y, x, &g, w, f, e)
		}
	})
	b.Run("apart", func(b *testing.B) {
		if !ConvDirect(conv, x, &g, w, f, e) {
			b.Skip("no direct kernel")
		}
		for b.Loop() {
			ConvDirect(conv, x, &g, w, f, e)
			MaxPool(y, conv, &pg)
		}
	})
}

// cdFilled returns n floats of cdSentinel, for y.
func cdFilled(n int) []float32 {
	y := make([]float32, n)
	for i := range y {
		y[i] = cdSentinel
	}
	return y
}

// cdUntouched fails unless a kernel that declined left y as cdFilled made it.
func cdUntouched(t *testing.T, what string, y []float32) {
	t.Helper()
	for i, v := range y {
		if math.Float32bits(v) != math.Float32bits(cdSentinel) {
			t.Fatalf("%s: declined but wrote y[%d] = %v", what, i, v)
		}
	}
}
