// Package fmapeak measures the machine's floating-point peak: a loop of
// fused multiply-adds on registers only, with enough independent
// accumulators to keep every FMA unit busy, so that memory never limits it.
// bench/compare divides measured GFLOP/s by this figure.
//
// The loop is assembly on amd64 (AVX-512F when the CPU has it, else
// AVX2+FMA); fmaGeneric is its plain Go twin, its reference and its
// fallback (the "noasm" tag, other architectures, MYELIN_NOASM=1). The Go
// twin's figure is the speed of scalar Go, not a hardware peak: Impl says
// which one ran.
package fmapeak

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

// accs is the number of independent accumulators. Two FMA units with a
// latency of 4 cycles need 8 chains in flight; 12 leaves margin.
const accs = 12

// loop is one implementation of the FMA loop.
type loop struct {
	name  string
	lanes int // float32 lanes per accumulator
	fn    func(iters int) float32
}

// inUse is the loop Run calls, chosen once at init.
var inUse = loop{"go", 1, fmaGeneric}

// fmaGeneric is the reference loop: each of accs·lanes accumulators gets
// acc += 1·1 per iteration, and the result is their sum, so it equals
// accs·lanes·iters while that is below 2²⁴ (exact in float32).
func fmaGeneric(iters int) float32 {
	var acc [accs]float32
	one := float32(1)
	for i := 0; i < iters; i++ {
		for j := range acc {
			acc[j] += one * one
		}
	}
	var s float32
	for _, a := range acc {
		s += a
	}
	return s
}

// Impl names the loop in use: "avx512", "avx2" or "go".
func Impl() string { return inUse.name }

// FlopsPerIter is the number of floating-point operations (an FMA counts
// as two) that one iteration of the loop in use performs.
func FlopsPerIter() int { return 2 * accs * inUse.lanes }

// Run performs iters iterations of the loop in use and returns the sum of
// its accumulators (accs·lanes·iters while that is below 2²⁴), so the work
// cannot be skipped.
func Run(iters int) float32 {
	if iters <= 0 {
		return 0
	}
	return inUse.fn(iters)
}

// Measure returns the GFLOP/s of threads goroutines running the loop at
// once for about d, the best of rounds attempts. It calls
// runtime.GOMAXPROCS(threads) for the duration and restores it.
func Measure(threads int, d time.Duration, rounds int) (float64, error) {
	if threads < 1 || d <= 0 || rounds < 1 {
		return 0, fmt.Errorf("fmapeak: Measure(threads=%d, d=%v, rounds=%d): each must be positive", threads, d, rounds)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
	// Calibrate on one goroutine: iterations that take about d.
	iters := 1 << 10
	for {
		t0 := time.Now()
		Run(iters)
		if el := time.Since(t0); el >= d/8 || iters >= 1<<30 {
			iters = int(float64(iters) * float64(d) / float64(max(el, time.Microsecond)))
			break
		}
		iters *= 4
	}
	iters = max(iters, 1)
	best := 0.0
	for r := 0; r < rounds; r++ {
		var wg sync.WaitGroup
		t0 := time.Now()
		for g := 0; g < threads; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				Run(iters)
			}()
		}
		wg.Wait()
		el := time.Since(t0).Seconds()
		best = max(best, float64(threads)*float64(iters)*float64(FlopsPerIter())/el/1e9)
	}
	return best, nil
}
