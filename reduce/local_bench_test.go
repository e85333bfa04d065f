package reduce

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/myelin-go/myelin/internal/kernel"
)

func spinWork(n int) float64 {
	x := 1.0
	for i := 0; i < n; i++ {
		x = x*1.0000001 + 1e-9
	}
	return x
}

var sinkF float64

func BenchmarkLocalStep(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var res [4]float64
			buf := make([][]float64, 4)
			for i := range buf {
				buf[i] = make([]float64, 64)
			}
			l := NewLocal(4, workers, func(g Group) {
				for range 4 {
					res[g.Rank()] += spinWork(5000)
					g.AllReduce(buf[g.Rank()])
				}
			})
			defer l.Close()
			for b.Loop() {
				l.Step()
			}
			sinkF = res[0]
		})
	}
}

// BenchmarkHandoff measures what data parallelism pays per step on a
// machine: two workers each multiply a shard (32×784) by the same weights
// (784×64, the founding model's first layer), then each updates its half
// of the weights, as the ranged optimizer does. "private" gives each
// worker weights of its own, so that nothing crosses between cores; the
// difference is the cost of bringing the other core's half of the weights
// over, each step.
func BenchmarkHandoff(b *testing.B) {
	const k, n, m = 784, 64, 32
	fill := func(s []float32) []float32 {
		for i := range s {
			s[i] = float32(i%13) * 0.01
		}
		return s
	}
	for _, shared := range []bool{false, true} {
		name := "private"
		if shared {
			name = "shared"
		}
		b.Run(name, func(b *testing.B) {
			if runtime.GOMAXPROCS(0) < 2 {
				b.Skip("needs GOMAXPROCS ≥ 2")
			}
			ws := fill(make([]float32, k*n))
			var bar Barrier
			bar.Init(2)
			steps := b.N
			done := make(chan struct{})
			work := func(r int) {
				x, c := fill(make([]float32, m*k)), make([]float32, m*n)
				w := ws
				if !shared {
					w = fill(make([]float32, k*n))
				}
				half := w[r*len(w)/2 : (r+1)*len(w)/2]
				for range steps {
					kernel.Sgemm(false, false, m, n, k, 1, x, k, w, n, 0, c, n)
					bar.Wait()
					for i := range half {
						half[i] += 1e-7
					}
					bar.Wait()
				}
			}
			go func() { work(1); close(done) }()
			work(0)
			<-done
		})
	}
}

// BenchmarkLocalSync measures what a sync costs a Local: ten Barriers or
// ten AllReduces of 64 elements a step, no work between them. With as many
// workers as members each member runs on its worker's goroutine (direct);
// with twice as many members, each worker resumes two coroutines.
func BenchmarkLocalSync(b *testing.B) {
	for _, members := range []int{2, 4} {
		for _, sum := range []bool{false, true} {
			kind := "barrier"
			if sum {
				kind = "allreduce"
			}
			b.Run(fmt.Sprintf("members=%d/workers=2/%s", members, kind), func(b *testing.B) {
				buf := make([][]float64, members)
				for i := range buf {
					buf[i] = make([]float64, 64)
				}
				l := NewLocal(members, 2, func(g Group) {
					for range 10 {
						if sum {
							g.AllReduce(buf[g.Rank()])
						} else {
							g.Barrier()
						}
					}
				})
				defer l.Close()
				for b.Loop() {
					l.Step()
				}
			})
		}
	}
}
