package reduce

import (
	"fmt"
	"testing"
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
