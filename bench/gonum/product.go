package main

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// product is C(m×n) = op(A)(m×k)·op(B)(k×n), row-major: "NN"; "TN" with A
// stored k×m; "NT" with B stored n×k. Transposed operands are passed to
// Sgemm as such, never copied, as NumPy passes its transposed views.
type product struct {
	op      string
	m, k, n int
}

func (p product) flops() float64 { return 2 * float64(p.m) * float64(p.n) * float64(p.k) }

// String names the product as bench/numpy_gemm.py does.
func (p product) String() string {
	suffix := map[string]string{"NN": "", "TN": " (AT.B)", "NT": " (A.BT)"}[p.op]
	return fmt.Sprintf("%dx%d*%dx%d%s", p.m, p.k, p.k, p.n, suffix)
}

// operands returns A and B as stored, filled with standard normals, and
// their leading dimensions and transpose flags.
func (p product) operands() (a []float32, lda int, ta blas.Transpose, b []float32, ldb int, tb blas.Transpose) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	a, lda, ta = fill(p.m*p.k), p.k, blas.NoTrans
	b, ldb, tb = fill(p.k*p.n), p.n, blas.NoTrans
	if p.op == "TN" {
		lda, ta = p.m, blas.Trans
	}
	if p.op == "NT" {
		ldb, tb = p.k, blas.Trans
	}
	return a, lda, ta, b, ldb, tb
}

// newCall returns a function that computes the product into one C,
// overwriting it (β = 0), and that C.
func (p product) newCall() func() {
	call, _ := p.newCallC()
	return call
}

func (p product) newCallC() (func(), []float32) {
	a, lda, ta, b, ldb, tb := p.operands()
	c := make([]float32, p.m*p.n)
	var impl gonum.Implementation
	return func() { impl.Sgemm(ta, tb, p.m, p.n, p.k, 1, a, lda, b, ldb, 0, c, p.n) }, c
}
