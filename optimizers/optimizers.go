// Package optimizers updates parameters from their gradients: SGD (with
// momentum and Nesterov), Adam (with AMSGrad), AdamW, Nadam, RMSprop and
// Adagrad, with Keras's defaults and update rules, and gradient clipping
// (Clip) and decoupled weight decay (Decay) shared by all of them.
//
// An optimizer is configured through exported fields that its constructor
// sets to Keras's defaults, and used once per training step:
//
//	opt := optimizers.NewAdam()
//	...
//	tp.Backward(loss)
//	if err := opt.Step(paramsWithGrad); err != nil { ... }
//
// ClipOf and DecayOf return any optimizer's clipping and weight-decay
// settings, for code that sets them whatever the optimizer (a CLI flag).
//
// Step reads each parameter's Grad and writes its Value in place. It works
// on float32 and float64 parameters (the arithmetic runs in the parameter's
// own type, as Keras's does; per-step coefficients such as Adam's
// bias-corrected rate are computed in float64 first).
//
// # Keras and PyTorch
//
// The update rules are Keras 3's. Where PyTorch differs the type's doc says
// so, and a field selects the PyTorch form when it is more than a rewriting:
// Adam.PyTorchEpsilon, RMSprop.PyTorchEpsilon and Adagrad.PyTorchEpsilon
// move ε outside the square root (of the bias-corrected second moment, of
// the mean square, of the accumulator), as torch.optim does; Nadam already
// has it there in Keras. Weight decay is Keras 3's (w ← w − lr·wd·w before
// the update, as torch.optim.AdamW); torch's other optimizers add wd·w to
// the gradient instead. Nadam's momentum schedule is Keras 3's, which is
// torch.optim.NAdam's with momentum_decay 1 (see Nadam). SGD's
// momentum forms agree for a constant learning rate. Gradient clipping
// follows Keras (g·c/max(‖g‖, c)); torch.nn.utils.clip_grad_norm_ divides
// by ‖g‖+1e-6 instead, a relative difference of about 1e-6/‖g‖ when it
// clips.
//
// Adam's bias correction counts steps globally (Iterations, like Keras's
// optimizer.iterations), not per parameter as torch.optim.Adam's state
// "step" does; the two differ for a parameter that skips steps.
//
// # State and checkpoints
//
// Per-parameter state (moments, velocities) is allocated on a parameter's
// first Step, with its dtype and shape, and reused: after the first call,
// Step allocates nothing. State returns a parameter's state tensors (in the
// order SlotNames lists them, with Keras's names) for a checkpoint to save,
// or to overwrite when it restores; SetIterations restores the step count.
// Restoring both reproduces the next updates bit for bit.
//
// # Subnormal numbers
//
// A moment whose gradient is almost always zero (the weights of an MNIST
// pixel that is nearly always blank) decays geometrically — Adam's m by β1,
// v by β2 each step — and after a few hundred to a few thousand steps it
// enters the subnormal range (below 2⁻¹²⁶ ≈ 1.2e-38 in float32), where x86
// arithmetic is many times slower. PyTorch's Adam step slows by 40–100% on
// MNIST for this reason. Go cannot safely set the CPU's flush-to-zero mode,
// so the fix lives in these loops: every moment they write passes through
// flushSubnormal, which sets magnitudes below the smallest normal number of
// the parameter's type to zero (2⁻¹²⁶ in float32, 2⁻¹⁰²² in float64, so a
// float64 run keeps every value float64 can hold at full precision and
// agrees with PyTorch's float64 where float32 could not). That changes a
// moment by less than the smallest normal number and an update by at most
// LR·2⁻¹²⁶/ε in float32 — far below float32's resolution of any weight —
// and keeps the step time flat from epoch to epoch (measured with myelin
// train: 459 µs/step in epoch 1 and 661 µs/step in later epochs without
// it). Where two flushed quantities are compared, they are flushed alike:
// centered RMSprop subtracts a² from v only after flushing it as v is
// flushed, so that v − a² stays ≥ 0 (see RMSprop).
//
// # Zero values
//
// Zero is a meaningful value for almost every hyperparameter (a learning
// rate of 0 freezes the weights, β1 = 0 and momentum 0 are legal), so a
// field left at zero is not replaced by a default: start from a
// constructor (NewSGD, NewAdam, NewAdamW, NewNadam, NewRMSprop and
// NewAdagrad take no arguments and set
// Keras's defaults; ByName takes a name and a learning rate) and change
// fields from there. SGD's zero value is plain SGD with learning rate 0.
// Validate reports a configuration that cannot train, such as a bare
// Adam{LR: 0.01} literal, whose ε of 0 turns every never-yet-nonzero
// gradient element into 0/0 = NaN on its first step; Step calls it first.
package optimizers

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unsafe"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/tensor"
)

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	// Name returns the Keras name: "sgd", "adam", "adamw", "nadam",
	// "rmsprop" or "adagrad".
	Name() string
	// Validate reports an error when a hyperparameter is out of range or
	// the configuration cannot train (the errors Step returns for its
	// settings), so that a model can reject it when it is compiled.
	Validate() error
	// Step applies one update to each parameter in params, reading p.Grad
	// and writing p.Value in place. The caller passes only the parameters
	// whose gradient the last backward pass wrote, each once. Step returns
	// an error, and changes nothing, when a hyperparameter is out of range,
	// when a gradient is missing or does not match its parameter, when a
	// parameter's dtype or shape changed since its state was created, or
	// (with Clip.RejectNonFinite) when a gradient norm is NaN or infinite.
	// A Step with no parameters does nothing, as in Keras.
	Step(params []*autodiff.Var) error
	// LearningRate returns the current learning rate.
	LearningRate() float64
	// SetLearningRate changes the learning rate for the following steps
	// (schedules, callbacks).
	SetLearningRate(lr float64)
	// Iterations returns the number of steps taken.
	Iterations() int
	// SetIterations sets the step count, for restoring a checkpoint.
	SetIterations(n int)
	// Config returns the hyperparameters under Keras's get_config keys,
	// for logs and checkpoints.
	Config() map[string]any
	// SlotNames lists the per-parameter state tensors, under Keras's
	// names, that the current configuration uses.
	SlotNames() []string
	// State returns p's state tensors in SlotNames order, creating them as
	// zeros of p's dtype and shape when p has none yet (what its first Step
	// would do), so that a checkpoint can save them or copy saved values
	// into them.
	State(p *autodiff.Var) []*tensor.Tensor
}

// ErrNonFinite is returned (wrapped) by Step when Clip.RejectNonFinite is
// set and a gradient norm is NaN or infinite.
var ErrNonFinite = errors.New("optimizers: non-finite gradient")

// ByName returns the optimizer with Keras name name ("sgd", "adam",
// "adamw", "nadam", "rmsprop", "adagrad"; case and underscores are
// ignored, so "RMSprop" and "AdamW" work too) with
// Keras's defaults and learning rate lr, or Keras's default learning rate
// when lr is 0.
func ByName(name string, lr float64) (Optimizer, error) {
	var o Optimizer
	switch strings.ReplaceAll(strings.ToLower(name), "_", "") {
	case "sgd":
		o = NewSGD()
	case "adam":
		o = NewAdam()
	case "adamw":
		o = NewAdamW()
	case "nadam":
		o = NewNadam()
	case "rmsprop":
		o = NewRMSprop()
	case "adagrad":
		o = NewAdagrad()
	default:
		return nil, fmt.Errorf("optimizers: unknown optimizer %q (want one of sgd, adam, adamw, nadam, rmsprop, adagrad)", name)
	}
	if lr < 0 || math.IsNaN(lr) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("optimizers: %s: learning rate %g is not a finite number ≥ 0", o.Name(), lr)
	}
	if lr != 0 {
		o.SetLearningRate(lr)
	}
	return o, nil
}

// float is the element type of the update loops.
type float interface{ ~float32 | ~float64 }

// flushSubnormal sets x to zero when its magnitude is below the smallest
// normal number of T (2⁻¹²⁶ for float32, 2⁻¹⁰²² for float64), as a CPU's
// flush-to-zero mode would. Adam's first moment decays by β1 at every step
// without gradient (weights of always-black pixels), reaching the
// subnormal range within a few hundred steps, where arithmetic is many
// times slower; see the package documentation.
func flushSubnormal[T float](x T) T {
	tiny := smallestNormal[T]()
	if x < tiny && x > -tiny {
		return 0
	}
	return x
}

// smallestNormal returns the smallest positive normal number of T. The
// size test is a constant for each instantiation, so it costs nothing in
// the update loops.
func smallestNormal[T float]() T {
	var x T
	if unsafe.Sizeof(x) == 4 {
		return 0x1p-126
	}
	return 0x1p-1022
}

// maxSlots is the largest number of state tensors an optimizer keeps per
// parameter (RMSprop: velocity, momentum, average gradient; Adam with
// AMSGrad: momentum, velocity, velocity_hat).
const maxSlots = 3

// core is what the optimizers share: the step count, the per-parameter
// state, the per-step gradient scales from clipping, and the Step around
// each one's update rule (run).
type core struct {
	iterations int
	state      map[*autodiff.Var]*[maxSlots]*tensor.Tensor
	scale      []float64       // per parameter of this step: the factor clipping applies to its gradient
	cur        []*autodiff.Var // the parameters of a Ranged step, from Prepare to Finish
}

// Iterations returns the number of steps taken.
func (c *core) Iterations() int { return c.iterations }

// SetIterations sets the step count, for restoring a checkpoint.
func (c *core) SetIterations(n int) { c.iterations = n }

// slot returns p's state tensor i, creating it (zeros) on first use.
func (c *core) slot(p *autodiff.Var, i int) *tensor.Tensor {
	st := c.state[p]
	if st == nil {
		if c.state == nil {
			c.state = make(map[*autodiff.Var]*[maxSlots]*tensor.Tensor)
		}
		st = new([maxSlots]*tensor.Tensor)
		c.state[p] = st
	}
	if st[i] == nil {
		st[i] = tensor.New(p.DType(), p.Shape()...)
	}
	return st[i]
}

// slotFilled is slot, with a new tensor filled with v instead of zeros
// (Adagrad's initial accumulator).
func (c *core) slotFilled(p *autodiff.Var, i int, v float64) *tensor.Tensor {
	if st := c.state[p]; st != nil && st[i] != nil {
		return st[i]
	}
	t := c.slot(p, i)
	t.Fill(v)
	return t
}

// slots returns the state tensors with the given indices, creating them.
func (c *core) slots(p *autodiff.Var, idx ...int) []*tensor.Tensor {
	ts := make([]*tensor.Tensor, len(idx))
	for k, i := range idx {
		ts[k] = c.slot(p, i)
	}
	return ts
}

// run is the Step every optimizer shares around its update rule. With no
// parameters it does nothing. Otherwise it validates the settings (validate
// is the optimizer's Validate), checks every parameter and computes the
// clipping scales, all before anything changes, so that a rejected step
// changes nothing; then, parameter by parameter in order, it applies the
// decoupled weight decay d at learning rate lr and calls update with the
// parameter and its gradient scale s (see clipGrad); last it counts the
// step. validate and update are only called, never kept, so their
// closures stay on the caller's stack: a step allocates nothing.
func (c *core) run(name string, params []*autodiff.Var, validate func() error, cl *Clip, d *Decay, lr float64,
	update func(p *autodiff.Var, s float64)) error {
	if len(params) == 0 {
		return nil
	}
	if err := validate(); err != nil {
		return err
	}
	if err := c.prepare(name, cl, params); err != nil {
		return err
	}
	for i, p := range params {
		d.apply(p, lr)
		update(p, c.scale[i])
	}
	c.iterations++
	return nil
}

// prepare checks params against their gradients and state and computes
// c.scale from the clipping settings, changing nothing visible, so that
// Step can return an error before it updates anything.
func (c *core) prepare(name string, cl *Clip, params []*autodiff.Var) error {
	for _, p := range params {
		if err := c.check(name, p); err != nil {
			return err
		}
	}
	if cap(c.scale) < len(params) {
		c.scale = make([]float64, len(params))
	}
	c.scale = c.scale[:len(params)]
	return cl.scales(name, params, c.scale)
}

func (c *core) check(name string, p *autodiff.Var) error {
	if p == nil || p.Value == nil {
		return fmt.Errorf("optimizers: %s: nil parameter", name)
	}
	dt, shape := p.DType(), p.Shape()
	if p.Grad == nil {
		return fmt.Errorf("optimizers: %s: parameter %q has no gradient", name, p.Name)
	}
	if p.Grad.DType() != dt || !p.Grad.Shape().Equal(shape) {
		return fmt.Errorf("optimizers: %s: parameter %q is %s %s but its gradient is %s %s",
			name, p.Name, dt, shape, p.Grad.DType(), p.Grad.Shape())
	}
	if st := c.state[p]; st != nil {
		for _, t := range st {
			if t != nil && (t.DType() != dt || !t.Shape().Equal(shape)) {
				return fmt.Errorf("optimizers: %s: parameter %q is %s %s but was %s %s when its state was created",
					name, p.Name, dt, shape, t.DType(), t.Shape())
			}
		}
	}
	return nil
}

// checkLR reports an error unless lr is a finite number ≥ 0.
func checkLR(name string, lr float64) error {
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("optimizers: %s: learning rate %g is not a finite number ≥ 0", name, lr)
	}
	return nil
}

// checkUnit reports an error unless lo ≤ x < 1 (or ≤ 1 when closed).
func checkUnit(name, field string, x float64, closed bool) error {
	if x >= 0 && (x < 1 || closed && x == 1) {
		return nil
	}
	if closed {
		return fmt.Errorf("optimizers: %s: %s %g outside [0, 1]", name, field, x)
	}
	return fmt.Errorf("optimizers: %s: %s %g outside [0, 1)", name, field, x)
}

// checkEps reports an error unless eps is a finite number > 0. Adam and
// RMSprop divide by a root of a moment plus ε, and a parameter element
// whose gradient has been zero at every step so far has a zero moment, so
// ε = 0 makes its update 0/0 = NaN. Keras and PyTorch accept ε = 0 and
// produce that NaN; rejecting it here names the cause instead.
func checkEps(name string, eps float64) error {
	if !(eps > 0) || math.IsInf(eps, 0) {
		return fmt.Errorf("optimizers: %s: epsilon %g is not a finite number > 0 (with 0, a zero gradient gives 0/0 = NaN; Keras's default is 1e-7)", name, eps)
	}
	return nil
}

// names returns the slot names whose flag is on, in order.
func names(all []string, on ...bool) []string {
	var out []string
	for i, n := range all {
		if on[i] {
			out = append(out, n)
		}
	}
	return slices.Clip(out)
}

// clipGrad returns gradient element g scaled by s and, when cv > 0,
// clamped to [−cv, cv].
func clipGrad[T float](g, s, cv T) T {
	g *= s
	if cv > 0 {
		g = min(max(g, -cv), cv)
	}
	return g
}

func sqrt[T float](x T) T { return T(math.Sqrt(float64(x))) }
