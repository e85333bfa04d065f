package kernel

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
)

// Run with e.g.
//
//	go test -run - -bench Sgemm -benchtime 200ms -cpu 1,2 ./internal/kernel
//
// -cpu sets GOMAXPROCS; "asm-par" forces the parallel path even below the
// size threshold, to show what it would cost or gain.

type benchShape struct {
	name           string
	transA, transB bool
	m, n, k        int
}

var benchShapes = []benchShape{
	{"fwd_32x784x64", false, false, 32, 64, 784},
	{"fwd_128x784x64", false, false, 128, 64, 784},
	{"fwd_32x64x64", false, false, 32, 64, 64},
	{"fwd_32x64x10", false, false, 32, 10, 64},
	{"dW_AtB_784x32x64", true, false, 784, 64, 32},
	{"fwd_1x784x64", false, false, 1, 64, 784},
	{"fwd_1x64x64", false, false, 1, 64, 64},
	{"fwd_1x64x10", false, false, 1, 10, 64},
	{"fwd_4x784x64", false, false, 4, 64, 784},
	{"fwd_128x64x10", false, false, 128, 10, 64},
	{"fwd_128x64x64", false, false, 128, 64, 64},
	{"dW_AtB_64x128x64", true, false, 64, 64, 128},
	{"dX_ABt_128x64x64", false, true, 128, 64, 64},
	{"dW_AtB_64x128x10", true, false, 64, 10, 128},
	{"dX_ABt_128x10x64", false, true, 128, 64, 10},
	{"dX_ABt_32x64x784", false, true, 32, 784, 64},
	// The CNN of examples/cnn.json at batch 64: its convolutions as im2col
	// products (rows are output pixels, N·OH·OW).
	{"conv1_fwd_43264x9x32", false, false, 43264, 32, 9},
	{"conv1_dW_AtB_9x43264x32", true, false, 9, 32, 43264},
	{"conv1_dW_AtB_9x10816x32", true, false, 9, 32, 10816}, // one shard of 16 rows
	{"conv2_fwd_7744x288x64", false, false, 7744, 64, 288},
	{"conv2_infer_1210x288x64", false, false, 1210, 64, 288}, // an inference pass of 10 images
	{"conv2_dW_AtB_288x7744x64", true, false, 288, 64, 7744},
	{"conv2_dX_ABt_7744x64x288", false, true, 7744, 288, 64},
	{"NN_512", false, false, 512, 512, 512},
	{"TN_512", true, false, 512, 512, 512},
	{"NT_512", false, true, 512, 512, 512},
	{"NN_1024", false, false, 1024, 1024, 1024},
}

func randSlice(n int, rng *rand.Rand) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// Flags to try other blocking without editing the code, e.g.
// go test -bench Sgemm ./internal/kernel -args -kernel.kc=384
var (
	flagKC      = flag.Int("kernel.kc", 0, "benchmarks: k block of the micro-kernel in use (0: default)")
	flagNC      = flag.Int("kernel.nc", 0, "benchmarks: B column block (0: default)")
	flagDirectM = flag.Int("kernel.directm", -1, "benchmarks: directBMaxM (-1: default)")
	flagPackAN  = flag.Int("kernel.packan", -1, "benchmarks: packAMinN (-1: default)")
	flagParWork = flag.Int("kernel.parwork", -1, "benchmarks: parMinWork (-1: default)")
	flagUKC     = flag.Int("kernel.ukc", 256, "BenchmarkMicroKernel: k steps per call")
	flagTall    = flag.Bool("kernel.tall", false, "benchmarks: the tall micro-kernel for every m (same bits)")
)

// applyBenchFlags installs the flag overrides and returns a function that
// restores the defaults.
func applyBenchFlags() func() {
	oldKern, oldD, oldP, oldW := impl.gemm, directBMaxM, packAMinN, parMinWork
	if impl.gemm != nil && *flagTall && impl.gemm.tall != nil {
		impl.gemm = impl.gemm.tall
	}
	if impl.gemm != nil && (*flagKC > 0 || *flagNC > 0) {
		k := *impl.gemm
		if *flagKC > 0 {
			k.kc = *flagKC
		}
		if *flagNC > 0 {
			k.nc = *flagNC
		}
		if k.tall != nil {
			// The tall kernel keeps the big one's blocking.
			t := *k.tall
			t.kc, t.nc = k.kc, k.nc
			k.tall = &t
		}
		impl.gemm = &k
	}
	if *flagDirectM >= 0 {
		directBMaxM = *flagDirectM
	}
	if *flagPackAN >= 0 {
		packAMinN = *flagPackAN
	}
	if *flagParWork >= 0 {
		parMinWork = *flagParWork
	}
	return func() { impl.gemm, directBMaxM, packAMinN, parMinWork = oldKern, oldD, oldP, oldW }
}

func BenchmarkSgemm(b *testing.B) {
	defer applyBenchFlags()()
	rng := rand.New(rand.NewPCG(1, 1))
	for _, sh := range benchShapes {
		a := randSlice(sh.m*sh.k, rng)
		bm := randSlice(sh.k*sh.n, rng)
		c := randSlice(sh.m*sh.n, rng)
		lda, ldb := sh.k, sh.n
		if sh.transA {
			lda = sh.m
		}
		if sh.transB {
			ldb = sh.k
		}
		impls := []struct {
			name  string
			fn    sgemmFunc
			force bool
		}{{"generic", sgemmGeneric, false}}
		if impl.gemm != nil {
			impls = append(impls,
				struct {
					name  string
					fn    sgemmFunc
					force bool
				}{"asm", Sgemm, false},
				struct {
					name  string
					fn    sgemmFunc
					force bool
				}{"asm-par", Sgemm, true})
		}
		for _, im := range impls {
			if im.name == "generic" && sh.m*sh.n*sh.k > 1<<26 {
				continue // too slow to be worth the wait
			}
			b.Run(fmt.Sprintf("%s/%s", sh.name, im.name), func(b *testing.B) {
				if im.force {
					old := parMinWork
					parMinWork = 1
					defer func() { parMinWork = old }()
				}
				b.ReportAllocs()
				for b.Loop() {
					im.fn(sh.transA, sh.transB, sh.m, sh.n, sh.k, 1, a, lda, bm, ldb, 0, c, sh.n)
				}
				b.ReportMetric(2*float64(sh.m*sh.n*sh.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkMicroKernel times the micro-kernels alone on L1-resident data.
func BenchmarkMicroKernel(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	kc := *flagUKC
	kernels := append([]*gemmKernel{{name: "go-8x32", mr: 8, nr: 32, fn: goKernel(8, 32)}}, asmGemmKernels...)
	for _, kern := range kernels {
		a := randSlice(kern.mr*kc, rng)
		bp := randSlice(kc*kern.nr, rng)
		c := randSlice(kern.mr*kern.nr, rng)
		b.Run(kern.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				kern.fn(kc, &a[0], 4, uintptr(kern.mr)*4, &bp[0], uintptr(kern.nr)*4, &c[0], uintptr(kern.nr)*4, 1, 1, tileFlags(kern.mr, kern.nr))
			}
			b.ReportMetric(2*float64(kern.mr*kern.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkElementwise compares the dispatched helpers with the Go ones
// at a weight-matrix size (784×64) and an activation size (32×64).
func BenchmarkElementwise(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{2048, 50176} {
		x, y, w := randSlice(n, rng), randSlice(n, rng), randSlice(n, rng)
		type op struct {
			name       string
			asm, plain func()
		}
		var sink float32
		ops := []op{
			{"sum", func() { sink += Sum(x) }, func() { sink += sumGeneric(x) }},
			{"addrow", func() { AddRowTo(w, x, y[:64], 64) }, func() {
				for i := 0; i < n; i += 64 {
					addGeneric(w[i:i+64], x[i:i+64], y[:64])
				}
			}},
			{"relu", func() { ReluTo(w, x) }, func() { reluGeneric(w, x) }},
			{"relugrad", func() { ReluGradTo(w, y, x) }, func() { reluGradGeneric(w, y, x) }},
		}
		for _, o := range ops {
			for _, v := range []struct {
				name string
				fn   func()
			}{{"dispatch", o.asm}, {"generic", o.plain}} {
				b.Run(fmt.Sprintf("%s/n=%d/%s", o.name, n, v.name), func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(4 * n))
					for b.Loop() {
						v.fn()
					}
				})
			}
		}
		_ = sink
	}
}
