package optimizers

import (
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/tensor"
)

// Ranged is implemented by optimizers whose update of an element reads
// only that element's gradient and state, and numbers fixed for the whole
// step, so that goroutines can share one step by element ranges (a
// model's shards do). A step is Prepare, then StepRange over disjoint
// ranges, concurrently if the caller likes, covering every element of
// every parameter once, then Finish. It writes the same bits as Step.
type Ranged interface {
	Optimizer
	// Prepare does what Step does before it changes anything: it checks
	// the settings and params (returning Step's errors), computes the
	// clipping scales from the whole gradients, and creates the state.
	Prepare(params []*autodiff.Var) error
	// StepRange updates elements [lo, hi) of params[i], the params given
	// to Prepare.
	StepRange(i, lo, hi int)
	// Finish counts the step.
	Finish()
}

// Prepare is Ranged's; see there.
func (o *Adam) Prepare(params []*autodiff.Var) error {
	return o.prepareRanged("adam", params, o.Validate)
}

// Prepare is Ranged's; see there.
func (o *AdamW) Prepare(params []*autodiff.Var) error {
	return o.prepareRanged("adamw", params, o.Validate)
}

func (o *Adam) prepareRanged(name string, params []*autodiff.Var, validate func() error) error {
	o.cur = o.cur[:0]
	if len(params) == 0 {
		return nil
	}
	if err := validate(); err != nil {
		return err
	}
	if err := o.prepare(name, &o.Clip, params); err != nil {
		return err
	}
	t := float64(o.iterations + 1)
	bc1 := 1 - math.Pow(o.Beta1, t)
	bc2 := 1 - math.Pow(o.Beta2, t)
	o.ra, o.rr = o.LR*math.Sqrt(bc2)/bc1, 1.0 // see step
	if o.PyTorchEpsilon {
		o.ra, o.rr = o.LR/bc1, 1/math.Sqrt(bc2)
	}
	for _, p := range params {
		o.slot(p, adamMomentum)
		o.slot(p, adamVelocity)
		if o.AMSGrad {
			o.slot(p, adamVelocityHat)
		}
	}
	o.cur = append(o.cur, params...)
	return nil
}

// StepRange is Ranged's; see there.
func (o *Adam) StepRange(i, lo, hi int) {
	p, s := o.cur[i], o.scale[i]
	st := o.state[p]
	m, v, vh := st[adamMomentum], st[adamVelocity], st[adamVelocityHat]
	if p.DType() == tensor.Float32 {
		w := p.Value.Float32s()[lo:hi]
		if o.Decay.Decays(p) {
			decayStep(w, float32(o.WeightDecay), float32(o.LR))
		}
		var h []float32
		if vh != nil {
			h = vh.Float32s()[lo:hi]
		}
		kernel.AdamStep(w, p.Grad.Float32s()[lo:hi], m.Float32s()[lo:hi], v.Float32s()[lo:hi], h,
			float32(o.ra), float32(o.rr), float32(o.Epsilon), float32(1-o.Beta1), float32(1-o.Beta2), float32(s), float32(o.ClipValue))
		return
	}
	w := p.Value.Float64s()[lo:hi]
	if o.Decay.Decays(p) {
		decayStep(w, o.WeightDecay, o.LR)
	}
	var h []float64
	if vh != nil {
		h = vh.Float64s()[lo:hi]
	}
	kernel.AdamStep64(w, p.Grad.Float64s()[lo:hi], m.Float64s()[lo:hi], v.Float64s()[lo:hi], h,
		o.ra, o.rr, o.Epsilon, 1-o.Beta1, 1-o.Beta2, s, o.ClipValue)
}

// Finish is Ranged's; see there.
func (o *Adam) Finish() {
	if len(o.cur) > 0 {
		o.iterations++
	}
	o.cur = o.cur[:0]
}
