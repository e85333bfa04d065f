package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBatchNormVectorBits checks that float32 batch norm gives the same
// bits with the kernel package's vector loops as with the plain Go loops
// alone (forward statistics and output, inference normalization, and the
// backward sums and input gradient), on column counts around the vector
// width. (With GOAMD64=v3 the Go compiler may fuse the Go loops'
// multiply-adds, and this comparison would then fail.)
func TestBatchNormVectorBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(n int, scale float32) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = scale * float32(rng.NormFloat64())
		}
		return s
	}
	for _, c := range []int{1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100} {
		for _, m := range []int{2, 3, 32} {
			x, gamma, beta := fill(m*c, 3), fill(c, 1), fill(c, 1)
			for i := range x {
				x[i] += 5
			}
			dy := fill(m*c, 1)
			type result struct{ y, xhat, mean, variance, invstd, dx, dg, db []float32 }
			run := func(v bnVec[float32], g, b []float32) result {
				r := result{y: make([]float32, m*c), xhat: make([]float32, m*c), mean: make([]float32, c),
					variance: make([]float32, c), invstd: make([]float32, c), dx: fill(m*c, 1), dg: make([]float32, c), db: make([]float32, c)}
				copy(r.dx, dy) // a gradient that already holds something
				bnFwd(v, make([]float64, c), r.y, r.xhat, r.mean, r.variance, r.invstd, x, g, b, c, 1e-3)
				bnBwd(v, r.dx, r.dg, r.db, make([]float32, c), make([]float32, c), make([]float32, c), dy, r.xhat, r.invstd, g, c)
				return r
			}
			for _, affine := range []bool{true, false} {
				g, b := gamma, beta
				if !affine {
					g, b = nil, nil
				}
				want, got := run(bnVec[float32]{}, g, b), run(vec32, g, b)
				for name, pair := range map[string][2][]float32{
					"y": {want.y, got.y}, "xhat": {want.xhat, got.xhat}, "mean": {want.mean, got.mean},
					"variance": {want.variance, got.variance}, "invstd": {want.invstd, got.invstd},
					"dx": {want.dx, got.dx}, "dgamma": {want.dg, got.dg}, "dbeta": {want.db, got.db},
				} {
					for i := range pair[0] {
						if math.Float32bits(pair[0][i]) != math.Float32bits(pair[1][i]) {
							t.Fatalf("c=%d m=%d affine=%v: %s[%d] = %v with vector loops, %v without", c, m, affine, name, i, pair[1][i], pair[0][i])
						}
					}
				}
			}
		}
	}
}
