package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// sentinel marks memory that Sgemm must not touch (a quiet NaN with a
// recognisable payload).
var sentinel = math.Float32frombits(0x7fc0dead)

type sgemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

type namedSgemm struct {
	name string
	fn   sgemmFunc
}

// blockedWith runs the blocked driver with kernel kern on the default
// pool, as Sgemm does.
func blockedWith(kern *gemmKernel) sgemmFunc { return blockedOn(defaultPool, kern) }

// blockedOn runs the blocked driver with kernel kern on pool pl.
func blockedOn(pl *pool, kern *gemmKernel) sgemmFunc {
	return func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
		if m == 0 || n == 0 {
			return
		}
		if k == 0 || alpha == 0 {
			scaleC(m, n, beta, c, ldc)
			return
		}
		sgemmBlocked(pl, kern, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// tiny returns kern with small blocks so that tests at small sizes cross
// every blocking edge (k blocks, B column blocks).
func tiny(kern gemmKernel) *gemmKernel {
	kern.name += "/tiny"
	kern.kc = 7
	kern.nc = 2 * kern.nr
	return &kern
}

// implementations returns every Sgemm variant to check against the oracle.
func implementations() []namedSgemm {
	impls := []namedSgemm{
		{"generic", sgemmGeneric},
		{"Sgemm", Sgemm},
	}
	goKernels := []gemmKernel{
		{name: "go-8x32", mr: 8, nr: 32, kc: 256, nc: 512, edge: true, fn: goKernel(8, 32)},
		{name: "go-6x16", mr: 6, nr: 16, kc: 256, nc: 512, fn: goKernel(6, 16)},
		{name: "go-1x64", mr: 1, nr: 64, kc: 256, nc: 512, edge: true, fn: goKernel(1, 64)},
		{name: "go-1x32", mr: 1, nr: 32, kc: 256, nc: 512, fn: goKernel(1, 32)},
		{name: "go-12x32", mr: 12, nr: 32, kc: 256, nc: 512, edge: true, exactRows: true, fn: goKernel(12, 32)},
	}
	for i := range goKernels {
		impls = append(impls, namedSgemm{goKernels[i].name, blockedWith(&goKernels[i])})
		t := tiny(goKernels[i])
		impls = append(impls, namedSgemm{t.name, blockedWith(t)})
	}
	for _, kern := range asmGemmKernels {
		impls = append(impls, namedSgemm{kern.name, blockedWith(kern)})
		t := tiny(*kern)
		impls = append(impls, namedSgemm{t.name, blockedWith(t)})
	}
	return impls
}

// gemmCase is one Sgemm problem with its layout.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	padA, padB     int // extra stride beyond the minimum
	padC           int
	offA, offB     int // start offsets into the backing slices
	offC           int
	nanC           bool // fill C with NaN (only meaningful with beta == 0)
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d alpha=%g beta=%g pads=%d/%d/%d offs=%d/%d/%d nanC=%v",
		tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.padA, tc.padB, tc.padC, tc.offA, tc.offB, tc.offC, tc.nanC)
}

type gemmData struct {
	a, b, c0      []float32 // c0: C before the call, with guard bands
	lda, ldb, ldc int
	want, bound   []float64 // per element of C (m×n)
	aRows, bRows  int
	aCols, bCols  int
	cStart        int
}

const guard = 19

// makeGemm returns the operands of tc, C with guard bands, and the
// float64 oracle with its error bounds.
func makeGemm(tc gemmCase, rng *rand.Rand) *gemmData {
	d := makeOperands(tc, rng)
	d.oracle(tc)
	return d
}

// makeOperands returns the operands of tc and C with guard bands, without
// the oracle (for tests that compare runs with each other).
func makeOperands(tc gemmCase, rng *rand.Rand) *gemmData {
	d := &gemmData{}
	d.aRows, d.aCols = tc.m, tc.k
	if tc.transA {
		d.aRows, d.aCols = tc.k, tc.m
	}
	d.bRows, d.bCols = tc.k, tc.n
	if tc.transB {
		d.bRows, d.bCols = tc.n, tc.k
	}
	d.lda, d.ldb, d.ldc = max(1, d.aCols)+tc.padA, max(1, d.bCols)+tc.padB, max(1, tc.n)+tc.padC
	fill := func(rows, cols, ld, off int) []float32 {
		s := make([]float32, off+rows*ld)
		for i := range s {
			s[i] = sentinel // padding must never be read into C
		}
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				s[off+i*ld+j] = float32(rng.NormFloat64())
			}
		}
		return s[off:]
	}
	d.a = fill(d.aRows, d.aCols, d.lda, tc.offA)
	d.b = fill(d.bRows, d.bCols, d.ldb, tc.offB)
	// C with guard bands before and after and sentinel in the row padding.
	d.cStart = guard + tc.offC
	d.c0 = make([]float32, d.cStart+tc.m*d.ldc+guard)
	for i := range d.c0 {
		d.c0[i] = sentinel
	}
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			v := float32(rng.NormFloat64())
			if tc.nanC {
				v = float32(math.NaN())
			}
			d.c0[d.cStart+i*d.ldc+j] = v
		}
	}
	return d
}

// oracle computes C in float64 and a bound for float32 summation of k
// terms, per element.
func (d *gemmData) oracle(tc gemmCase) {
	opA := func(i, p int) float64 {
		if tc.transA {
			return float64(d.a[p*d.lda+i])
		}
		return float64(d.a[i*d.lda+p])
	}
	opB := func(p, j int) float64 {
		if tc.transB {
			return float64(d.b[j*d.ldb+p])
		}
		return float64(d.b[p*d.ldb+j])
	}
	d.want = make([]float64, tc.m*tc.n)
	d.bound = make([]float64, tc.m*tc.n)
	const eps = 1.0 / (1 << 24)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			var s, abs float64
			for p := 0; p < tc.k; p++ {
				s += opA(i, p) * opB(p, j)
				abs += math.Abs(opA(i, p) * opB(p, j))
			}
			w := float64(tc.alpha) * s
			mag := math.Abs(float64(tc.alpha)) * abs
			if tc.beta != 0 {
				cv := float64(d.c0[d.cStart+i*d.ldc+j])
				w += float64(tc.beta) * cv
				mag += math.Abs(float64(tc.beta) * cv)
			}
			d.want[i*tc.n+j] = w
			d.bound[i*tc.n+j] = 2*float64(tc.k+4)*eps*mag + 1e-30
		}
	}
}

// check runs fn on a fresh copy of C and reports the first few errors.
// It must run on the test's goroutine; others call problems.
func (d *gemmData) check(t *testing.T, name string, fn sgemmFunc, tc gemmCase) {
	t.Helper()
	report(t, d.problems(name, fn, tc))
}

// report fails t with each problem, and stops the test at maxProblems.
func report(t *testing.T, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) >= maxProblems {
		t.FailNow()
	}
}

// maxProblems is how many wrong elements a check lists before it stops.
const maxProblems = 5

// problems runs fn on a fresh copy of C and describes up to maxProblems
// elements that are wrong or were written outside C.
func (d *gemmData) problems(name string, fn sgemmFunc, tc gemmCase) []string {
	c := append([]float32(nil), d.c0...)
	fn(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, d.a, d.lda, d.b, d.ldb, tc.beta, c[d.cStart:], d.ldc)
	var out []string
	for idx, v := range c {
		off := idx - d.cStart
		i, j := -1, -1
		if off >= 0 {
			i, j = off/d.ldc, off%d.ldc
		}
		if off < 0 || i >= tc.m || j >= tc.n {
			if math.Float32bits(v) != math.Float32bits(d.c0[idx]) {
				out = append(out, fmt.Sprintf("%s %v: wrote outside C at offset %d: got %v, want untouched %v", name, tc, off, v, d.c0[idx]))
			}
		} else {
			want, bound := d.want[i*tc.n+j], d.bound[i*tc.n+j]
			if e := math.Abs(float64(v) - want); !(e <= bound) {
				out = append(out, fmt.Sprintf("%s %v: C[%d,%d] got %v, want %v (error %.3g > bound %.3g)", name, tc, i, j, v, want, e, bound))
			}
		}
		if len(out) >= maxProblems {
			break
		}
	}
	return out
}

// sampledSizes sweeps each of m, n, k over 1..67 with the other two at a
// few values, plus some random triples.
func sampledSizes(rng *rand.Rand) [][3]int {
	var out [][3]int
	others := [][2]int{{1, 1}, {7, 33}, {33, 5}, {67, 64}}
	for s := 1; s <= 67; s++ {
		o := others[s%len(others)]
		out = append(out, [3]int{s, o[0], o[1]}, [3]int{o[0], s, o[1]}, [3]int{o[0], o[1], s})
	}
	for range 40 {
		out = append(out, [3]int{1 + rng.IntN(67), 1 + rng.IntN(67), 1 + rng.IntN(67)})
	}
	return out
}

func TestSgemmSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	impls := implementations()
	for _, sz := range sampledSizes(rng) {
		for _, tr := range [4][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			tc := gemmCase{transA: tr[0], transB: tr[1], m: sz[0], n: sz[1], k: sz[2], alpha: 1, beta: 0}
			d := makeGemm(tc, rng)
			for _, im := range impls {
				d.check(t, im.name, im.fn, tc)
			}
		}
	}
}

// TestSgemmLayouts varies strides, offsets, alpha and beta.
func TestSgemmLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	impls := implementations()
	type ab struct {
		alpha, beta float32
		nanC        bool
	}
	scalars := []ab{{1, 0, true}, {1, 1, false}, {-0.5, 2, false}, {2.5, -1, false}, {0, 0.5, false}, {0, 0, true}, {1.5, 0, true}}
	sizes := [][3]int{{8, 32, 9}, {9, 33, 17}, {17, 10, 64}, {32, 64, 40}, {5, 3, 1}, {70, 75, 20}}
	for _, sz := range sizes {
		for _, tr := range [4][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for si, sc := range scalars {
				tc := gemmCase{
					transA: tr[0], transB: tr[1], m: sz[0], n: sz[1], k: sz[2],
					alpha: sc.alpha, beta: sc.beta, nanC: sc.nanC,
					padA: si % 3, padB: (si + 1) % 4 * 3, padC: si % 2 * 5,
					offA: si % 4, offB: (si + 2) % 3, offC: si % 5,
				}
				d := makeGemm(tc, rng)
				for _, im := range impls {
					d.check(t, im.name, im.fn, tc)
				}
			}
		}
	}
}

// TestSgemmBlockEdges uses the production blocking around its edges: k
// blocks (256), B column blocks (512), the direct-B and pack-A thresholds.
func TestSgemmBlockEdges(t *testing.T) {
	if testing.Short() {
		t.Skip("large sizes")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var impls []namedSgemm
	for _, im := range implementations() {
		if im.name != "generic" {
			impls = append(impls, im)
		}
	}
	sizes := [][3]int{
		{8, 32, 255}, {8, 32, 256}, {9, 31, 257}, {3, 5, 513},
		{64, 127, 20}, {65, 128, 20}, {63, 129, 3},
		{6, 511, 5}, {7, 512, 6}, {12, 513, 7}, {2, 545, 9},
	}
	for _, sz := range sizes {
		for _, tr := range [4][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			tc := gemmCase{transA: tr[0], transB: tr[1], m: sz[0], n: sz[1], k: sz[2], alpha: 0.75, beta: 0.5, padC: 3, offA: 1, offB: 2, offC: 3}
			d := makeGemm(tc, rng)
			for _, im := range impls {
				d.check(t, im.name, im.fn, tc)
			}
		}
	}
}

// TestSgemmDeterministic checks that the bits of C do not depend on
// GOMAXPROCS, with the parallel path forced on.
func TestSgemmDeterministic(t *testing.T) {
	setProcs(t, runtime.GOMAXPROCS(0))
	forceParallel(t)
	rng := rand.New(rand.NewPCG(7, 8))
	sizes := [][3]int{{32, 64, 784}, {784, 64, 32}, {100, 300, 70}, {257, 129, 300}, {5, 700, 40}}
	if raceEnabled {
		// The Go micro-kernel under the race detector would take minutes
		// at those sizes; these keep each kind: long k, m past directBMaxM
		// (B packed once and shared), ragged tiles, a wide thin C.
		sizes = [][3]int{{32, 64, 200}, {136, 40, 20}, {50, 100, 30}, {5, 300, 20}}
	}
	type operands struct {
		tc gemmCase
		d  *gemmData
	}
	var cases []operands
	for _, sz := range sizes {
		for _, tr := range [4][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			tc := gemmCase{transA: tr[0], transB: tr[1], m: sz[0], n: sz[1], k: sz[2], alpha: 1.25, beta: 0.75}
			cases = append(cases, operands{tc, makeOperands(tc, rng)})
		}
	}
	for _, impl := range implementations()[1:] {
		for _, cs := range cases {
			tc, d := cs.tc, cs.d
			var first []float32
			for _, procs := range []int{1, 2, 4, 8} {
				runtime.GOMAXPROCS(procs)
				c := append([]float32(nil), d.c0...)
				impl.fn(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, d.a, d.lda, d.b, d.ldb, tc.beta, c[d.cStart:], d.ldc)
				if first == nil {
					first = c
					continue
				}
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
						t.Fatalf("%s %v: GOMAXPROCS=%d: c[%d] got %v, want %v as with GOMAXPROCS=1", impl.name, tc, procs, i-d.cStart, c[i], first[i])
					}
				}
			}
		}
	}
}

func TestSgemmAllocs(t *testing.T) {
	setProcs(t, runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(9, 10))
	sizes := [][3]int{{32, 64, 784}, {32, 10, 64}, {784, 64, 32}, {200, 200, 200}}
	for _, procs := range []int{1, 4} {
		runtime.GOMAXPROCS(procs)
		for _, sz := range sizes {
			for _, tr := range [4][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				tc := gemmCase{transA: tr[0], transB: tr[1], m: sz[0], n: sz[1], k: sz[2], alpha: 1, beta: 1}
				d := makeGemm(tc, rng)
				c := append([]float32(nil), d.c0...)
				run := func() {
					Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, d.a, d.lda, d.b, d.ldb, tc.beta, c[d.cStart:], d.ldc)
				}
				run() // warm-up: buffers and workers
				if got := testing.AllocsPerRun(20, run); got != 0 {
					t.Errorf("GOMAXPROCS=%d %v: got %v allocations per call, want 0", procs, tc, got)
				}
			}
		}
	}
}

func TestSgemmPanics(t *testing.T) {
	a := make([]float32, 12)
	tests := []struct {
		name string
		fn   func()
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, 1, a, 2, a, 2, 0, a, 2) }},
		{"short lda", func() { Sgemm(false, false, 2, 2, 3, 1, a, 2, a, 2, 0, a, 2) }},
		{"short A", func() { Sgemm(false, false, 5, 2, 3, 1, a, 3, a, 2, 0, a, 2) }},
		{"short B trans", func() { Sgemm(false, true, 2, 5, 3, 1, a, 3, a, 3, 0, a, 5) }},
		{"short C", func() { Sgemm(false, false, 2, 6, 1, 1, a, 1, a, 6, 0, a[:11], 6) }},
	}
	for _, tt := range tests {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: got no panic, want one", tt.name)
				}
			}()
			tt.fn()
		}()
	}
}

func TestDgemm(t *testing.T) {
	// Dgemm against the same loop written out, on a small exact case.
	a := []float64{1, 2, 3, 4, 5, 6}    // 2×3
	b := []float64{7, 8, 9, 10, 11, 12} // 3×2
	c := []float64{1, 1, 1, 1}          // 2×2
	want := []float64{58 + 2, 64 + 2, 139 + 2, 154 + 2}
	Dgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 2, c, 2)
	for i := range want {
		if c[i] != want[i] {
			t.Errorf("Dgemm NN: c[%d] got %v, want %v", i, c[i], want[i])
		}
	}
	// Transposed operands give the same product.
	at := []float64{1, 4, 2, 5, 3, 6}    // A stored 3×2
	bt := []float64{7, 9, 11, 8, 10, 12} // B stored 2×3
	c2 := []float64{9, 9, 9, 9}
	Dgemm(true, true, 2, 2, 3, 1, at, 2, bt, 3, 0, c2, 2)
	for i := range want {
		if c2[i] != want[i]-2 {
			t.Errorf("Dgemm TT: c[%d] got %v, want %v", i, c2[i], want[i]-2)
		}
	}
}

// TestPackBT checks each kernel's transposed-B packer against the generic
// one bit for bit, including the zero padding.
func TestPackBT(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, kern := range asmGemmKernels {
		if kern.packBT == nil {
			continue
		}
		for _, kc := range []int{1, 2, 7, 64, 257} {
			for _, w := range []int{1, 5, 8, 9, 16, 17, 31, 33, 63, kern.nr} {
				if w > kern.nr {
					continue
				}
				ldb := kc + rng.IntN(5)
				b := randSlice((w-1)*ldb+kc, rng)
				got := make([]float32, kc*kern.nr)
				want := make([]float32, kc*kern.nr)
				for i := range got {
					got[i], want[i] = sentinel, sentinel
				}
				kern.packBT(got, b, ldb, kc, w, kern.nr)
				packBTGeneric(want, b, ldb, kc, w, kern.nr)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s packBT kc=%d w=%d ldb=%d: d[%d] got %v, want %v", kern.name, kc, w, ldb, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestSgemmSmallM sweeps the shapes the small-m kernels get: m up to a
// little past smallMMax, n and k over 1..67 and past a 64-column tile,
// every transpose, misaligned starts and padded strides.
func TestSgemmSmallM(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	impls := implementations()
	ks := []int{1, 2, 7, 64, 65}
	if !testing.Short() {
		ks = append(ks, 257, 784)
	}
	for m := 1; m <= smallMMax+1; m++ {
		for n := 1; n <= 67; n += 1 + n/8 {
			for ki, k := range ks {
				for _, tr := range [4][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					tc := gemmCase{
						transA: tr[0], transB: tr[1], m: m, n: n, k: k, alpha: 1.5, beta: float32(ki % 2),
						padA: (n + ki) % 3, padB: n % 5, padC: m % 2 * 3,
						offA: (m + n) % 4, offB: (n + k) % 3, offC: (m + k) % 5, nanC: ki%2 == 0,
					}
					d := makeGemm(tc, rng)
					for _, im := range impls {
						d.check(t, im.name, im.fn, tc)
					}
				}
			}
		}
	}
	for _, n := range []int{127, 128, 129, 511, 512, 513, 600} {
		tc := gemmCase{m: 1, n: n, k: 300, alpha: 0.5, beta: 2, offA: 1, offB: 3, offC: 2}
		d := makeGemm(tc, rng)
		for _, im := range impls {
			d.check(t, im.name, im.fn, tc)
		}
	}
}

// TestSmallKernelSameBits checks that a kernel pair that handles its own
// edges gives each row of C the same bits whichever of the two computes
// it, so Predict on one sample matches the same sample inside a batch.
func TestSmallKernelSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	pairs := [][2]*gemmKernel{{
		{name: "go-8x32", mr: 8, nr: 32, kc: 256, nc: 512, edge: true, fn: goKernel(8, 32)},
		{name: "go-1x64", mr: 1, nr: 64, kc: 256, nc: 512, edge: true, fn: goKernel(1, 64)},
	}}
	if impl.gemm != nil && impl.gemmSmall != nil && impl.gemm.edge && impl.gemmSmall.edge {
		pairs = append(pairs, [2]*gemmKernel{impl.gemm, impl.gemmSmall})
	}
	sizes := [][3]int{{9, 64, 784}, {5, 10, 64}, {3, 100, 600}, {17, 64, 64}, {2, 1, 3}}
	for _, pr := range pairs {
		for _, sz := range sizes {
			for _, tr := range [4][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				tc := gemmCase{transA: tr[0], transB: tr[1], m: sz[0], n: sz[1], k: sz[2], alpha: 1.25, beta: 0.5}
				d := makeGemm(tc, rng)
				big := append([]float32(nil), d.c0...)
				small := append([]float32(nil), d.c0...)
				blockedWith(pr[0])(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, d.a, d.lda, d.b, d.ldb, tc.beta, big[d.cStart:], d.ldc)
				blockedWith(pr[1])(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, d.a, d.lda, d.b, d.ldb, tc.beta, small[d.cStart:], d.ldc)
				for i := range big {
					if math.Float32bits(big[i]) != math.Float32bits(small[i]) {
						t.Fatalf("%s vs %s %v: c[%d] got %v, want %v", pr[1].name, pr[0].name, tc, i-d.cStart, small[i], big[i])
					}
				}
			}
		}
	}
}

// TestTallKernelSameBits checks that a tall kernel gives every element of
// C the same bits as its big kernel (the path Sgemm took before there was
// one), over the shapes it gets: few rows, up to two column tiles, k
// within one block, around a block edge and long; then that Sgemm, which
// picks it, gives the big kernel's bits at every GOMAXPROCS.
func TestTallKernelSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	goBig := &gemmKernel{name: "go-8x32", mr: 8, nr: 32, kc: 256, nc: 512, edge: true, fn: goKernel(8, 32)}
	goTall := &gemmKernel{name: "go-12x32", mr: 12, nr: 32, kc: 256, nc: 512, edge: true, exactRows: true, fn: goKernel(12, 32)}
	type pair struct {
		big, tall *gemmKernel
		ks        []int
	}
	// The Go kernels are slow: k past two blocks stands for the long one.
	pairs := []pair{{goBig, goTall, []int{1, 255, 256, 257, 600}}}
	if impl.gemm != nil && impl.gemm.tall != nil {
		ks := []int{1, 255, 256, 257, 10816}
		if raceEnabled {
			ks = ks[:4]
		}
		pairs = append(pairs, pair{impl.gemm, impl.gemm.tall, ks})
		if impl.gemm.tall.kc != impl.gemm.kc || !impl.gemm.tall.edge || !impl.gemm.edge {
			t.Fatalf("%s and %s: want the same kc and both handling edges", impl.gemm.tall.name, impl.gemm.name)
		}
	}
	for _, pr := range pairs {
		for m := 1; m <= 17; m++ {
			for _, n := range []int{1, 9, 32, 33, 64} {
				for _, k := range pr.ks {
					for _, tr := range [4][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
						tc := gemmCase{transA: tr[0], transB: tr[1], m: m, n: n, k: k, padC: m % 3, offA: n % 2, offC: 1}
						d := makeOperands(tc, rng)
						for _, sc := range [4][2]float32{{1, 0}, {1, 1}, {0.5, 0}, {0.5, 1}} {
							tc.alpha, tc.beta = sc[0], sc[1]
							want := runCase(blockedWith(pr.big), tc, d)
							got := runCase(blockedWith(pr.tall), tc, d)
							sameC(t, pr.tall.name+" vs "+pr.big.name, tc, d, got, want)
						}
					}
				}
			}
		}
	}
	if impl.gemm == nil || impl.gemm.tall == nil {
		return
	}
	// Sgemm picks the tall kernel; products may be shared out.
	setProcs(t, runtime.GOMAXPROCS(0))
	forceParallel(t)
	sizes := [][3]int{{9, 32, 43264}, {9, 32, 10816}, {13, 600, 300}, {7, 33, 257}, {15, 64, 2000}, {9, 10, 5000}}
	if raceEnabled {
		sizes = [][3]int{{9, 32, 600}, {13, 100, 300}, {7, 33, 257}}
	}
	for _, sz := range sizes {
		for _, tr := range [2]bool{false, true} {
			tc := gemmCase{transA: tr, m: sz[0], n: sz[1], k: sz[2], alpha: 1, beta: 1}
			d := makeOperands(tc, rng)
			runtime.GOMAXPROCS(1)
			want := runCase(blockedWith(impl.gemm), tc, d)
			for _, procs := range []int{1, 2, 4, 8} {
				runtime.GOMAXPROCS(procs)
				sameC(t, fmt.Sprintf("Sgemm GOMAXPROCS=%d vs %s", procs, impl.gemm.name), tc, d, runCase(Sgemm, tc, d), want)
			}
		}
	}
}

// runCase runs fn on a fresh copy of d's C and returns it, guard bands
// included.
func runCase(fn sgemmFunc, tc gemmCase, d *gemmData) []float32 {
	c := append([]float32(nil), d.c0...)
	fn(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, d.a, d.lda, d.b, d.ldb, tc.beta, c[d.cStart:], d.ldc)
	return c
}

// sameC fails t at the first element of got (C with its guard bands)
// whose bits differ from want's.
func sameC(t *testing.T, name string, tc gemmCase, d *gemmData, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s %v: c[%d] got %v (%#08x), want %v (%#08x)", name, tc, i-d.cStart, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}
