package nn

import (
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/tensor"
)

// Binary ops broadcast their second operand b when it is a row vector
// (shape (cols,) or (1, cols), cols being a's last axis) or a single
// element; otherwise the shapes must be equal. Broadcasting is undone in
// one place, reduceInto.

const (
	bcNone   = iota // same shape
	bcRow           // b is one row, repeated
	bcScalar        // b is one element
)

func broadcastKind(op string, a, b *autodiff.Var) int {
	sameDType(op, a, b)
	as, bs := a.Shape(), b.Shape()
	switch {
	case as.Equal(bs):
		return bcNone
	case b.Value.Len() == 1:
		return bcScalar
	case len(as) >= 1 && (len(bs) == 1 || len(bs) == 2 && bs[0] == 1) && bs[len(bs)-1] == as[len(as)-1]:
		return bcRow
	}
	tensor.Panicf(op, shapes(a, b), "cannot broadcast the second shape to the first (want equal shapes, a row of %d, or one element)", lastOr1(as))
	return 0
}

func lastOr1(s tensor.Shape) int {
	if len(s) == 0 {
		return 1
	}
	return s[len(s)-1]
}

// bidx maps an index of a to the index of the broadcast operand b.
func bidx(kind, i, cols int) int {
	switch kind {
	case bcRow:
		return i % cols
	case bcScalar:
		return 0
	}
	return i
}

const (
	opAdd = iota
	opSub
	opMul
	opDiv
)

var binaryNames = [...]string{"nn.Add", "nn.Sub", "nn.Mul", "nn.Div"}

type binaryOp struct{}

func (binaryOp) Name() string { return "nn.binary" }

// Add returns a + b.
func Add(tp *autodiff.Tape, a, b *autodiff.Var) *autodiff.Var { return binary(tp, opAdd, a, b) }

// Sub returns a − b.
func Sub(tp *autodiff.Tape, a, b *autodiff.Var) *autodiff.Var { return binary(tp, opSub, a, b) }

// Mul returns the elementwise product a ⊙ b.
func Mul(tp *autodiff.Tape, a, b *autodiff.Var) *autodiff.Var { return binary(tp, opMul, a, b) }

// Div returns the elementwise quotient a / b.
func Div(tp *autodiff.Tape, a, b *autodiff.Var) *autodiff.Var { return binary(tp, opDiv, a, b) }

func binary(tp *autodiff.Tape, kind int, a, b *autodiff.Var) *autodiff.Var {
	if (kind == opAdd || kind == opMul) && a.Value.Len() < b.Value.Len() {
		a, b = b, a // commutative: let the smaller operand broadcast
	}
	bc := broadcastKind(binaryNames[kind], a, b)
	out := tp.Alloc(a.DType(), a.Shape()...)
	_, cols := lastDim(a.Shape())
	if is32(out) {
		binaryFwd(kind, bc, cols, out.Float32s(), a.Value.Float32s(), b.Value.Float32s())
	} else {
		binaryFwd(kind, bc, cols, out.Float64s(), a.Value.Float64s(), b.Value.Float64s())
	}
	return tp.Output(out, autodiff.Record{Op: binaryOp{}, In: [4]*autodiff.Var{a, b}, I: [4]int{kind, bc, cols}})
}

func binaryFwd[T Float](kind, bc, cols int, y, a, b []T) {
	for i := range y {
		bv := b[bidx(bc, i, cols)]
		switch kind {
		case opAdd:
			y[i] = a[i] + bv
		case opSub:
			y[i] = a[i] - bv
		case opMul:
			y[i] = a[i] * bv
		case opDiv:
			y[i] = a[i] / bv
		}
	}
}

func (binaryOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	a, b := r.In[0], r.In[1]
	kind, bc, cols := r.I[0], r.I[1], r.I[2]
	da, db := tp.GradOf(a), tp.GradOf(b)
	dy := r.Out.Grad
	if is32(dy) {
		binaryBwd(kind, bc, cols, dy.Float32s(), a.Value.Float32s(), b.Value.Float32s(), f32s(da), f32s(db))
	} else {
		binaryBwd(kind, bc, cols, dy.Float64s(), a.Value.Float64s(), b.Value.Float64s(), f64s(da), f64s(db))
	}
}

func f32s(t *tensor.Tensor) []float32 {
	if t == nil {
		return nil
	}
	return t.Float32s()
}

func f64s(t *tensor.Tensor) []float64 {
	if t == nil {
		return nil
	}
	return t.Float64s()
}

// binaryBwd accumulates into da and db (either may be nil); db receives the
// sum over the broadcast rows, which is how broadcasting is undone.
func binaryBwd[T Float](kind, bc, cols int, dy, a, b, da, db []T) {
	for i, g := range dy {
		j := bidx(bc, i, cols)
		bv := b[j]
		var ga, gb T
		switch kind {
		case opAdd:
			ga, gb = g, g
		case opSub:
			ga, gb = g, -g
		case opMul:
			ga, gb = g*bv, g*a[i]
		case opDiv:
			ga = g / bv
			gb = -g * a[i] / (bv * bv)
		}
		if da != nil {
			da[i] += ga
		}
		if db != nil {
			db[j] += gb
		}
	}
}

// Unary ops. Each derivative is written in terms of the input x and/or the
// output y, whichever is cheaper and more stable.
const (
	uReLU = iota
	uSigmoid
	uTanh
	uExp
	uLog
	uSqrt
	uSquare
	uSoftplus
	uNeg
	uScale // y = c·x
	uClip  // y = min(max(x, lo), hi)
	uAbs
)

type unaryOp struct{}

func (unaryOp) Name() string { return "nn.unary" }

// ReLU returns max(x, 0): 0 where x < 0, x elsewhere (NaN and −0 pass
// through, as in Dense's fused ReLU, so both give the same bits).
func ReLU(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return unary(tp, uReLU, x, 0, 0) }

// Sigmoid returns 1 / (1 + e^−x).
func Sigmoid(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return unary(tp, uSigmoid, x, 0, 0) }

// Tanh returns tanh(x).
func Tanh(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return unary(tp, uTanh, x, 0, 0) }

// Exp returns e^x.
func Exp(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return unary(tp, uExp, x, 0, 0) }

// Log returns the natural logarithm of x.
func Log(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return unary(tp, uLog, x, 0, 0) }

// Sqrt returns √x.
func Sqrt(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return unary(tp, uSqrt, x, 0, 0) }

// Square returns x².
func Square(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return unary(tp, uSquare, x, 0, 0) }

// Softplus returns log(1 + e^x), computed without overflow.
func Softplus(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return unary(tp, uSoftplus, x, 0, 0) }

// Neg returns −x.
func Neg(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return unary(tp, uNeg, x, 0, 0) }

// Abs returns |x| (its derivative at 0 is taken as 0).
func Abs(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return unary(tp, uAbs, x, 0, 0) }

// Scale returns c·x.
func Scale(tp *autodiff.Tape, x *autodiff.Var, c float64) *autodiff.Var {
	return unary(tp, uScale, x, c, 0)
}

// Clip returns x limited to [lo, hi]; the gradient passes where lo ≤ x ≤ hi.
func Clip(tp *autodiff.Tape, x *autodiff.Var, lo, hi float64) *autodiff.Var {
	return unary(tp, uClip, x, lo, hi)
}

func unary(tp *autodiff.Tape, kind int, x *autodiff.Var, c0, c1 float64) *autodiff.Var {
	out := tp.Alloc(x.DType(), x.Shape()...)
	if is32(out) && kind == uReLU {
		kernel.ReluTo(out.Float32s(), x.Value.Float32s())
	} else if is32(out) {
		unaryFwd(kind, out.Float32s(), x.Value.Float32s(), float32(c0), float32(c1))
	} else {
		unaryFwd(kind, out.Float64s(), x.Value.Float64s(), c0, c1)
	}
	return tp.Output(out, autodiff.Record{Op: unaryOp{}, In: [4]*autodiff.Var{x}, I: [4]int{kind}, F: [4]float64{c0, c1}})
}

func sigmoid[T Float](x T) T {
	if x >= 0 {
		return 1 / (1 + T(math.Exp(float64(-x))))
	}
	e := T(math.Exp(float64(x)))
	return e / (1 + e)
}

func softplus[T Float](x T) T {
	// log(1+e^x) = max(x,0) + log1p(e^−|x|)
	return max(x, 0) + T(math.Log1p(math.Exp(-math.Abs(float64(x)))))
}

func unaryFwd[T Float](kind int, y, x []T, c0, c1 T) {
	switch kind {
	case uReLU:
		for i, v := range x {
			if v < 0 {
				v = 0
			}
			y[i] = v
		}
	case uSigmoid:
		for i, v := range x {
			y[i] = sigmoid(v)
		}
	case uTanh:
		for i, v := range x {
			y[i] = T(math.Tanh(float64(v)))
		}
	case uExp:
		for i, v := range x {
			y[i] = T(math.Exp(float64(v)))
		}
	case uLog:
		for i, v := range x {
			y[i] = T(math.Log(float64(v)))
		}
	case uSqrt:
		for i, v := range x {
			y[i] = T(math.Sqrt(float64(v)))
		}
	case uSquare:
		for i, v := range x {
			y[i] = v * v
		}
	case uSoftplus:
		for i, v := range x {
			y[i] = softplus(v)
		}
	case uNeg:
		for i, v := range x {
			y[i] = -v
		}
	case uScale:
		for i, v := range x {
			y[i] = c0 * v
		}
	case uClip:
		for i, v := range x {
			y[i] = min(max(v, c0), c1)
		}
	case uAbs:
		for i, v := range x {
			y[i] = T(math.Abs(float64(v)))
		}
	}
}

func (unaryOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	x := r.In[0]
	dx, dirty := tp.GradLazy(x)
	if dx == nil {
		return
	}
	if is32(dx) && r.I[0] == uReLU {
		// The vector kernel (its bits are the loop's, unaryBwd's), into
		// pieces cleared just before.
		d, dy, xv := dx.Float32s(), r.Out.Grad.Float32s(), x.Value.Float32s()
		for lo := 0; lo < len(d); lo += lazyChunk {
			hi := min(lo+lazyChunk, len(d))
			if dirty {
				clear(d[lo:hi])
			}
			kernel.ReluGradAddTo(d[lo:hi], dy[lo:hi], xv[lo:hi])
		}
		return
	}
	if dirty {
		dx.Zero()
	}
	switch {
	case is32(dx):
		unaryBwd(r.I[0], dx.Float32s(), r.Out.Grad.Float32s(), x.Value.Float32s(), r.Out.Value.Float32s(), float32(r.F[0]), float32(r.F[1]))
	default:
		unaryBwd(r.I[0], dx.Float64s(), r.Out.Grad.Float64s(), x.Value.Float64s(), r.Out.Value.Float64s(), r.F[0], r.F[1])
	}
}

func unaryBwd[T Float](kind int, dx, dy, x, y []T, c0, c1 T) {
	switch kind {
	case uReLU:
		for i, g := range dy {
			if x[i] > 0 {
				dx[i] += g
			}
		}
	case uSigmoid:
		for i, g := range dy {
			dx[i] += g * y[i] * (1 - y[i])
		}
	case uTanh:
		for i, g := range dy {
			dx[i] += g * (1 - y[i]*y[i])
		}
	case uExp:
		for i, g := range dy {
			dx[i] += g * y[i]
		}
	case uLog:
		for i, g := range dy {
			dx[i] += g / x[i]
		}
	case uSqrt:
		for i, g := range dy {
			dx[i] += g / (2 * y[i])
		}
	case uSquare:
		for i, g := range dy {
			dx[i] += 2 * g * x[i]
		}
	case uSoftplus:
		for i, g := range dy {
			dx[i] += g * sigmoid(x[i])
		}
	case uNeg:
		for i, g := range dy {
			dx[i] -= g
		}
	case uScale:
		for i, g := range dy {
			dx[i] += c0 * g
		}
	case uClip:
		for i, g := range dy {
			if x[i] >= c0 && x[i] <= c1 {
				dx[i] += g
			}
		}
	case uAbs:
		for i, g := range dy {
			switch {
			case x[i] > 0:
				dx[i] += g
			case x[i] < 0:
				dx[i] -= g
			}
		}
	}
}
