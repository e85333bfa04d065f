package nn

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/tensor"
)

// gemm computes c = alpha·op(a)·op(b) + beta·c for row-major matrices
// (op transposes when its flag is set); op(a) is m×k, op(b) is k×n.
func gemm(ta, tb bool, m, n, k int, alpha float64, a, b *tensor.Tensor, beta float64, c *tensor.Tensor) {
	lda, ldb := k, n
	if ta {
		lda = m
	}
	if tb {
		ldb = k
	}
	if is32(c) {
		kernel.Sgemm(ta, tb, m, n, k, float32(alpha), a.Float32s(), lda, b.Float32s(), ldb, float32(beta), c.Float32s(), n)
	} else {
		kernel.Dgemm(ta, tb, m, n, k, alpha, a.Float64s(), lda, b.Float64s(), ldb, beta, c.Float64s(), n)
	}
}

// accumulate is gemm's beta for a gradient buffer from Tape.GradLazy: 0
// overwrites an uncleared (dirty) one, 1 adds into one that holds other
// ops' contributions.
func accumulate(dirty bool) float64 {
	if dirty {
		return 0
	}
	return 1
}

type matmulOp struct{}

func (matmulOp) Name() string { return "nn.MatMul" }

// MatMul returns op(a)·op(b) for matrices a and b, where op transposes its
// argument when the flag is set; the transposes are never materialized.
func MatMul(tp *autodiff.Tape, a, b *autodiff.Var, transA, transB bool) *autodiff.Var {
	const op = "nn.MatMul"
	sameDType(op, a, b)
	as, bs := a.Shape(), b.Shape()
	if len(as) != 2 || len(bs) != 2 {
		tensor.Panicf(op, shapes(a, b), "want two matrices")
	}
	m, k := as[0], as[1]
	if transA {
		m, k = k, m
	}
	k2, n := bs[0], bs[1]
	if transB {
		k2, n = n, k2
	}
	if k != k2 {
		tensor.Panicf(op, shapes(a, b), "inner dimensions %d and %d differ (transA=%v, transB=%v)", k, k2, transA, transB)
	}
	out := tp.Alloc(a.DType(), m, n)
	gemm(transA, transB, m, n, k, 1, a.Value, b.Value, 0, out)
	return tp.Output(out, autodiff.Record{Op: matmulOp{}, In: [4]*autodiff.Var{a, b}, I: [4]int{b2i(transA), b2i(transB), k}})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (matmulOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	a, b, dc := r.In[0], r.In[1], r.Out.Grad
	ta, tb, k := r.I[0] == 1, r.I[1] == 1, r.I[2]
	m, n := dc.Dim(0), dc.Dim(1)
	if da, dirty := tp.GradLazy(a); da != nil {
		if !ta { // dA (m×k) = dC·op(B)ᵀ
			gemm(false, !tb, m, k, n, 1, dc, b.Value, accumulate(dirty), da)
		} else { // dA (k×m) = op(B)·dCᵀ
			gemm(tb, true, k, m, n, 1, b.Value, dc, accumulate(dirty), da)
		}
	}
	if db, dirty := tp.GradLazy(b); db != nil {
		if !tb { // dB (k×n) = op(A)ᵀ·dC
			gemm(!ta, false, k, n, m, 1, a.Value, dc, accumulate(dirty), db)
		} else { // dB (n×k) = dCᵀ·op(A)
			gemm(true, ta, n, k, m, 1, dc, a.Value, accumulate(dirty), db)
		}
	}
}
