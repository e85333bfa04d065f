package optimizers

import (
	"fmt"
	"math"

	"github.com/myelin-go/myelin/autodiff"
)

// Clip limits the gradients an optimizer applies. At most one of ClipNorm,
// GlobalClipNorm and ClipValue may be set (> 0), as in Keras 3; a zero
// value turns each off. Clipping changes the gradient the update uses, not
// p.Grad, which Step leaves as it found it.
type Clip struct {
	// ClipNorm > 0 rescales each parameter's gradient g to an L2 norm of at
	// most ClipNorm: g·ClipNorm/max(‖g‖, ClipNorm) (Keras clipnorm, per
	// variable; torch.nn.utils.clip_grad_norm_ applied to one parameter at
	// a time uses min(1, c/(‖g‖+1e-6)) instead).
	ClipNorm float64
	// GlobalClipNorm > 0 rescales all gradients of a step together so that
	// their global norm √(Σ‖g‖²) is at most GlobalClipNorm (Keras
	// global_clipnorm; torch.nn.utils.clip_grad_norm_ up to its 1e-6).
	GlobalClipNorm float64
	// ClipValue > 0 clamps each gradient element to [−ClipValue, ClipValue]
	// (Keras clipvalue, torch.nn.utils.clip_grad_value_).
	ClipValue float64
	// RejectNonFinite makes Step return an error wrapping ErrNonFinite, and
	// change nothing, when a gradient's L2 norm is NaN or infinite, which
	// is the case exactly when an element is (for float32 gradients; a
	// float64 gradient whose squares overflow counts as infinite too).
	RejectNonFinite bool
}

// config adds the clipping settings that are on to m, under Keras's keys.
func (c *Clip) config(m map[string]any) {
	if c.ClipNorm > 0 {
		m["clipnorm"] = c.ClipNorm
	}
	if c.GlobalClipNorm > 0 {
		m["global_clipnorm"] = c.GlobalClipNorm
	}
	if c.ClipValue > 0 {
		m["clipvalue"] = c.ClipValue
	}
	if c.RejectNonFinite {
		m["reject_non_finite"] = true
	}
}

func (c *Clip) validate(name string) error {
	set := 0
	for _, v := range [...]struct {
		key string
		x   float64
	}{{"clipnorm", c.ClipNorm}, {"global_clipnorm", c.GlobalClipNorm}, {"clipvalue", c.ClipValue}} {
		if v.x < 0 || math.IsNaN(v.x) || math.IsInf(v.x, 0) {
			return fmt.Errorf("optimizers: %s: %s %g is not a finite number ≥ 0", name, v.key, v.x)
		}
		if v.x > 0 {
			set++
		}
	}
	if set > 1 {
		return fmt.Errorf("optimizers: %s: only one of ClipNorm (%g), GlobalClipNorm (%g) and ClipValue (%g) can be set",
			name, c.ClipNorm, c.GlobalClipNorm, c.ClipValue)
	}
	return nil
}

// ReadsGrads reports whether Prepare reads the gradients' values, to clip
// them by norm or to reject non-finite ones. When it does not, a Ranged
// step may call Prepare before its gradients are complete (a model's
// input-split step does, to meet its members once less).
func (c *Clip) ReadsGrads() bool {
	return c.ClipNorm > 0 || c.GlobalClipNorm > 0 || c.RejectNonFinite
}

// scales writes into s the factor by which each parameter's gradient is
// multiplied this step (1 when no norm clipping applies). It returns an
// error wrapping ErrNonFinite for a NaN or infinite norm when
// RejectNonFinite is set.
func (c *Clip) scales(name string, params []*autodiff.Var, s []float64) error {
	if err := c.validate(name); err != nil {
		return err
	}
	for i := range s {
		s[i] = 1
	}
	if !c.ReadsGrads() {
		return nil
	}
	var total float64
	for i, p := range params {
		sq := sumSquares(p)
		if c.RejectNonFinite && (math.IsNaN(sq) || math.IsInf(sq, 0)) {
			return fmt.Errorf("%w: %s: parameter %q has gradient norm %g", ErrNonFinite, name, p.Name, math.Sqrt(sq))
		}
		total += sq
		if c.ClipNorm > 0 {
			s[i] = c.ClipNorm / max(math.Sqrt(sq), c.ClipNorm)
		}
	}
	if c.GlobalClipNorm > 0 {
		g := c.GlobalClipNorm / max(math.Sqrt(total), c.GlobalClipNorm)
		for i := range s {
			s[i] = g
		}
	}
	return nil
}

// sumSquares returns Σg² over p's gradient, accumulated in float64.
func sumSquares(p *autodiff.Var) float64 {
	var s float64
	if g := p.Grad.Float32s(); g != nil {
		for _, v := range g {
			s += float64(v) * float64(v)
		}
		return s
	}
	for _, v := range p.Grad.Float64s() {
		s += v * v
	}
	return s
}
