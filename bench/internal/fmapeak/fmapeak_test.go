package fmapeak

import (
	"fmt"
	"testing"
	"time"
)

// TestLoopsAgree runs every loop for iteration counts around the ones that
// matter (0, 1, small, and large enough that a skipped or doubled iteration
// would show) and compares with the count the Go twin computes. Sums stay
// below 2²⁴, so every result is exact.
func TestLoopsAgree(t *testing.T) {
	loops := append([]loop{{"go", 1, fmaGeneric}}, asmLoops()...)
	for _, l := range loops {
		for _, iters := range []int{1, 2, 3, 7, 8, 9, 100, 1000, 4321} {
			want := float32(accs * l.lanes * iters)
			if got := l.fn(iters); got != want {
				t.Errorf("%s(%d) = %v, want %v (%d accumulators × %d lanes × %d)", l.name, iters, got, want, accs, l.lanes, iters)
			}
		}
	}
	if got := Run(0); got != 0 {
		t.Errorf("Run(0) = %v, want 0", got)
	}
	if got, want := Run(5), float32(FlopsPerIter()/2*5); got != want {
		t.Errorf("Run(5) = %v with %s, want %v", got, Impl(), want)
	}
}

func TestMeasureRejectsBadArguments(t *testing.T) {
	for _, c := range []struct {
		threads, rounds int
		d               time.Duration
	}{{0, 1, time.Millisecond}, {1, 0, time.Millisecond}, {1, 1, 0}} {
		if _, err := Measure(c.threads, c.d, c.rounds); err == nil {
			t.Errorf("Measure(%d, %v, %d): no error", c.threads, c.d, c.rounds)
		}
	}
	if g, err := Measure(1, time.Millisecond, 1); err != nil || g <= 0 {
		t.Errorf("Measure(1, 1ms, 1) = %v, %v; want a positive figure", g, err)
	}
}

// BenchmarkFMA reports the register-only FMA throughput of each loop on
// one goroutine (-cpu has no effect: see Measure for several).
func BenchmarkFMA(b *testing.B) {
	const iters = 1 << 16
	loops := append([]loop{{"go", 1, fmaGeneric}}, asmLoops()...)
	for _, l := range loops {
		b.Run(fmt.Sprintf("impl=%s", l.name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l.fn(iters)
			}
			b.ReportMetric(float64(2*accs*l.lanes*iters)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
