// Package autodiff is reverse-mode automatic differentiation on a tape.
//
// Ops (package nn) compute their output and append a Record to the Tape; the
// records are in creation order, which is already a topological order, so
// Backward walks them last to first with no sort. Each op brings its own
// vector-Jacobian product as the Backward method of its Op, written beside
// its forward. Gradients accumulate with += into buffers that GradOf zeroes
// on first touch in each pass, so a value used twice gets the sum of both
// contributions.
//
// A Tape recycles everything between steps: Reset keeps the records, the
// Vars and the value and gradient buffers, and the next step — which asks for
// the same shapes in the same order — reuses them, so a training step
// allocates nothing once warm.
package autodiff

import (
	"fmt"

	"github.com/myelin-go/myelin/tensor"
)

// Var is a value in a computation and, after Backward, its gradient.
type Var struct {
	Value *tensor.Tensor
	// Grad is the gradient of the last Backward's output with respect to
	// Value. For a parameter it persists between steps; HasGrad tells
	// whether the last pass wrote it.
	Grad *tensor.Tensor
	// Name labels parameters, e.g. "dense/kernel".
	Name string

	param     bool   // owned by a layer, lives across tapes
	needsGrad bool   // some gradient must flow to it
	gen       uint64 // pass in which Grad was last zeroed
	tape      *Tape  // tape of the pass that last touched Grad
}

// NewParam returns a trainable parameter holding t, which must be float32
// or float64.
func NewParam(t *tensor.Tensor, name string) *Var {
	floatOnly("autodiff.NewParam", t)
	return &Var{Value: t, Name: name, param: true, needsGrad: true}
}

// NeedsGrad reports whether gradients flow to v.
func (v *Var) NeedsGrad() bool { return v.needsGrad }

// SetTrainable turns gradient tracking of a parameter on or off (Keras's
// layer.trainable). A frozen parameter is treated as a constant.
func (v *Var) SetTrainable(on bool) { v.needsGrad = on }

// Shape returns the value's shape.
func (v *Var) Shape() tensor.Shape { return v.Value.Shape() }

// DType returns the value's element type.
func (v *Var) DType() tensor.DType { return v.Value.DType() }

// Op is an operation's backward rule.
type Op interface {
	// Name is the op's name in error messages, e.g. "nn.MatMul".
	Name() string
	// Backward adds the vector-Jacobian product of r.Out.Grad into the
	// gradients of r's inputs, obtained with tp.GradOf.
	Backward(tp *Tape, r *Record)
}

// Record is one op application: what Backward needs to differentiate it.
type Record struct {
	Op  Op
	Out *Var
	In  [4]*Var           // inputs; unused slots are nil
	Aux [4]*tensor.Tensor // saved intermediate values
	F   [4]float64        // scalar arguments
	I   [4]int            // integer arguments and flags
	// Ctx is what else an op's backward needs that is none of the
	// above, such as the reduce.Group of a synchronized batch norm.
	// Only pointer-shaped values keep a step from allocating.
	Ctx any
}

// Tape records ops for Backward and recycles buffers between steps. A Tape
// is not safe for concurrent use; give each goroutine its own.
type Tape struct {
	// NoGrad disables recording (inference): ops still run and reuse the
	// tape's buffers, but Backward has nothing to do.
	NoGrad bool

	recs  []Record
	vars  []*Var
	nvars int
	vals  arena
	grads arena
	gen   uint64

	// shard keeps parameter gradients in pgrads instead of the
	// parameters' Grad: see SetShardGrads.
	shard  bool
	pgrads map[*Var]*shardGrad
}

type shardGrad struct {
	t   *tensor.Tensor
	gen uint64
}

// arena hands out tensors by position: the k-th request of a pass gets the
// k-th tensor of the previous pass when shapes and dtype agree.
type arena struct {
	ts []*tensor.Tensor
	n  int
}

func (a *arena) get(dt tensor.DType, shape []int) *tensor.Tensor {
	if a.n < len(a.ts) {
		t := a.ts[a.n]
		if t.DType() == dt && t.Shape().Equal(shape) {
			a.n++
			return t
		}
		t = tensor.New(dt, shape...)
		a.ts[a.n] = t
		a.n++
		return t
	}
	t := tensor.New(dt, shape...)
	a.ts = append(a.ts, t)
	a.n++
	return t
}

// NewTape returns an empty tape.
func NewTape() *Tape { return &Tape{gen: 1} }

// Reset forgets the recorded ops and makes every buffer handed out since the
// last Reset available again. Tensors and Vars from earlier passes must not
// be used after Reset.
func (tp *Tape) Reset() {
	clear(tp.recs) // drop references held by old records
	tp.recs = tp.recs[:0]
	tp.nvars = 0
	tp.vals.n = 0
	tp.grads.n = 0
}

// Len returns the number of recorded ops.
func (tp *Tape) Len() int { return len(tp.recs) }

// Alloc returns a tensor of the given dtype and shape owned by the tape,
// valid until Reset. Its contents are unspecified: the caller overwrites them.
func (tp *Tape) Alloc(dt tensor.DType, shape ...int) *tensor.Tensor {
	return tp.vals.get(dt, shape)
}

// AllocZero is Alloc with the contents set to zero.
func (tp *Tape) AllocZero(dt tensor.DType, shape ...int) *tensor.Tensor {
	t := tp.vals.get(dt, shape)
	t.Zero()
	return t
}

func (tp *Tape) newVar(t *tensor.Tensor, needsGrad bool) *Var {
	if tp.nvars == len(tp.vars) {
		tp.vars = append(tp.vars, new(Var))
	}
	v := tp.vars[tp.nvars]
	tp.nvars++
	*v = Var{Value: t, needsGrad: needsGrad}
	return v
}

// Const wraps t as a value that needs no gradient, valid until Reset. t
// must be float32 or float64.
func (tp *Tape) Const(t *tensor.Tensor) *Var {
	floatOnly("autodiff.Const", t)
	return tp.newVar(t, false)
}

// Variable wraps t as a value whose gradient Backward computes (an input
// whose gradient you want), valid until Reset. t must be float32 or
// float64.
func (tp *Tape) Variable(t *tensor.Tensor) *Var {
	floatOnly("autodiff.Variable", t)
	return tp.newVar(t, !tp.NoGrad)
}

// floatOnly panics with a *tensor.ShapeError for op when t is uint8: ops
// read Float32s or Float64s, both nil for a uint8 tensor, and would
// compute on nothing rather than fail.
func floatOnly(op string, t *tensor.Tensor) {
	if t != nil && t.DType() == tensor.Uint8 {
		tensor.Panicf(op, []tensor.Shape{t.Shape()}, "uint8 tensors are input data; ops compute in float32 or float64 (convert with As)")
	}
}

// Output returns a Var for an op's result out computed from r's inputs, and
// records r with Out set to it when any input needs a gradient.
func (tp *Tape) Output(out *tensor.Tensor, r Record) *Var {
	needs := false
	if !tp.NoGrad {
		for _, in := range r.In {
			if in != nil && in.needsGrad {
				needs = true
				break
			}
		}
	}
	v := tp.newVar(out, needs)
	if needs {
		r.Out = v
		tp.recs = append(tp.recs, r)
	}
	return v
}

// SetShardGrads makes tp keep the gradients of parameters in buffers of
// its own, read with ShardGrad, instead of writing the parameters' Grad:
// the tapes of a batch's shards then run backward passes over the same
// parameters at once, and the caller adds their gradients (package
// reduce). The tape of one shard may keep writing Grad, and receive the
// others' gradients there.
func (tp *Tape) SetShardGrads(on bool) {
	tp.shard = on
	if on && tp.pgrads == nil {
		tp.pgrads = map[*Var]*shardGrad{}
	}
}

// ShardGrad returns the gradient that the last Backward on a tape in
// shard mode (SetShardGrads) computed for parameter v, or nil if it wrote
// none.
func (tp *Tape) ShardGrad(v *Var) *tensor.Tensor {
	if g := tp.pgrads[v]; g != nil && g.gen == tp.gen {
		return g.t
	}
	return nil
}

// GradOf returns v's gradient buffer for accumulation in the current
// Backward pass, zeroed on first touch, or nil when v needs no gradient.
func (tp *Tape) GradOf(v *Var) *tensor.Tensor {
	g, dirty := tp.GradLazy(v)
	if dirty {
		g.Zero()
	}
	return g
}

// GradLazy is GradOf for an op that zeroes the buffer itself: on first
// touch it returns the buffer as it was (dirty true), and the op must
// clear each part before adding into it, or overwrite it. An op that
// clears a cache-sized piece just before adding into it saves a pass over
// memory, which for large activations costs as much as the add; a product
// that overwrites a weight's gradient (beta 0) saves the pass entirely.
func (tp *Tape) GradLazy(v *Var) (g *tensor.Tensor, dirty bool) {
	if v == nil || !v.needsGrad {
		return nil, false
	}
	if v.param && tp.shard {
		g := tp.pgrads[v]
		if g == nil {
			g = &shardGrad{}
			tp.pgrads[v] = g
		}
		if g.gen != tp.gen {
			if g.t == nil || !g.t.Shape().Equal(v.Value.Shape()) || g.t.DType() != v.Value.DType() {
				g.t = tensor.New(v.Value.DType(), v.Value.Shape()...)
			}
			g.gen = tp.gen
			return g.t, true
		}
		return g.t, false
	}
	if v.gen == tp.gen && v.tape == tp && v.Grad != nil {
		return v.Grad, false
	}
	if v.param {
		if v.Grad == nil || !v.Grad.Shape().Equal(v.Value.Shape()) || v.Grad.DType() != v.Value.DType() {
			v.Grad = tensor.New(v.Value.DType(), v.Value.Shape()...)
		}
	} else {
		v.Grad = tp.grads.get(v.Value.DType(), v.Value.Shape())
	}
	v.gen, v.tape = tp.gen, tp
	return v.Grad, true
}

// HasGrad reports whether the last Backward on tp wrote v.Grad.
func (tp *Tape) HasGrad(v *Var) bool {
	if v.param && tp.shard {
		return tp.ShardGrad(v) != nil
	}
	return v.tape == tp && v.gen == tp.gen && v.Grad != nil
}

// Backward computes the gradient of the one-element value loss with respect
// to every recorded value that needs one. It may be called once per pass.
func (tp *Tape) Backward(loss *Var) {
	if loss.Value.Len() != 1 {
		tensor.Panicf("autodiff.Backward", []tensor.Shape{loss.Shape()}, "loss must hold one element")
	}
	tp.BackwardFrom(loss, nil)
}

// BackwardFrom runs the backward pass seeded with grad as the gradient of out
// (ones when grad is nil): the vector-Jacobian product with grad.
func (tp *Tape) BackwardFrom(out *Var, grad *tensor.Tensor) {
	tp.gen++
	if !out.needsGrad {
		return
	}
	g := tp.GradOf(out)
	if grad == nil {
		g.Fill(1)
	} else {
		g.CopyFrom(grad)
	}
	for i := len(tp.recs) - 1; i >= 0; i-- {
		r := &tp.recs[i]
		if !tp.HasGrad(r.Out) {
			continue // nothing flows back through this op
		}
		r.Op.Backward(tp, r)
	}
}

// Records returns the ops recorded since the last Reset, oldest first,
// for an op that reuses what an earlier one saved (nn.SoftmaxOf). The
// slice is the tape's own: read it, do not keep it.
func (tp *Tape) Records() []Record { return tp.recs }

// String describes the tape for debugging.
func (tp *Tape) String() string {
	return fmt.Sprintf("autodiff.Tape{%d ops, %d vars}", len(tp.recs), tp.nvars)
}
