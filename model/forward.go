package model

import (
	"fmt"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Walk selects what a Forward walk runs. The zero value runs every layer
// and returns the model's output.
type Walk struct {
	// From and Upto select the layers [From, Upto); Upto 0 means through
	// the last layer.
	From, Upto int
	// PreActivation ends the walk before the activation of its last layer
	// when that layer is layers.Activated (for an Activation layer, its
	// input): the logits a fused loss takes, or the pre-activations a
	// monitor reads.
	PreActivation bool
	// Outputs, when not nil, receives each layer's output, appended in
	// order; pass a reused slice to allocate nothing.
	Outputs *[]*autodiff.Var
	// Fuse lets the walk run a layer and an Activation layer of ReLU
	// after it as one op (layers.ReLUFuser) even though Outputs is set;
	// Outputs then holds the ReLU's output for both. Without Outputs the
	// walk always fuses, as nothing sees the value in between. Training
	// sets it: its outputs serve the ReLU monitors, which read the ReLU's
	// slot, and the search for the first layer with a non-finite output,
	// which a NaN or +Inf keeps pointing at the right layer (a −Inf that
	// the ReLU turns into 0 is found only later, in the loss).
	Fuse bool
}

// Forward runs x through the layers w selects, in p's mode, and returns
// the last one's output (x itself when there is none). It is the one
// forward walk of the model: training, Evaluate, Predict, Trace and the
// monitor package's callbacks all go through it.
//
// A training-mode Pass leaves batch statistics pending in layers.Stateful
// layers, to be committed or discarded; with a nil Pass.Rand random
// layers such as Dropout act as at inference, so the walk draws nothing.
// Forward panics with a *tensor.ShapeError when x does not fit, as ops do.
func (m *Sequential) Forward(p *layers.Pass, x *autodiff.Var, w Walk) *autodiff.Var {
	upto := w.Upto
	if upto == 0 {
		upto = len(m.Layers)
	}
	for i := w.From; i < upto; i++ {
		l := m.Layers[i]
		if w.Outputs == nil {
			if y, n := fuseNorm(m.Layers, i, upto, p, x, w.PreActivation); n > 0 {
				x = y
				i += n - 1
				continue
			}
		}
		if f, ok := l.(layers.ReLUFuser); ok && (w.Outputs == nil || w.Fuse) && reluNext(m.Layers, i, upto, w.PreActivation) {
			x = f.ForwardReLU(p, x)
			if w.Outputs != nil {
				*w.Outputs = append(*w.Outputs, x, x)
			}
			i++ // the ReLU layer is done
			continue
		}
		if a, ok := l.(layers.Activated); ok && w.PreActivation && i == upto-1 {
			x = a.ForwardLinear(p, x)
		} else {
			x = l.Forward(p, x)
		}
		if w.Outputs != nil {
			*w.Outputs = append(*w.Outputs, x)
		}
	}
	return x
}

// fuseNorm runs layer i and the batch normalization after it as one op
// when layer i is a layers.NormFuser, that batch normalization is in its
// inference form, and nothing needs the value in between; a ReLU after
// them joins in (see reluNext), and then a 2×2 max pool of stride 2
// (layers.HalvingMaxPool). It returns the output and how many layers it
// ran, 0 when it ran none.
func fuseNorm(ls []layers.Layer, i, upto int, p *layers.Pass, x *autodiff.Var, pre bool) (*autodiff.Var, int) {
	if i+1 >= upto {
		return nil, 0
	}
	f, ok := ls[i].(layers.NormFuser)
	if !ok || !f.FusesNorm() {
		return nil, 0
	}
	b, ok := ls[i+1].(layers.InferenceNormer)
	if !ok {
		return nil, 0
	}
	n, ok := b.InferenceNorm(p)
	if !ok {
		return nil, 0
	}
	runs := 2
	relu := reluNext(ls, i+1, upto, pre)
	if relu {
		runs++
	}
	pool := false
	if j := i + runs; j < upto && !(pre && j == upto-1) {
		if h, ok := ls[j].(layers.HalvingMaxPool); ok && h.HalvesByMax() {
			pool = true
			runs++
		}
	}
	return f.ForwardNormalize(p, x, n, relu, pool), runs
}

// reluNext reports whether the layer after i is an Activation layer of
// ReLU that the walk runs in full: then layer i may apply it (a walk that
// keeps each layer's output, or stops before that ReLU, runs it apart).
func reluNext(ls []layers.Layer, i, upto int, pre bool) bool {
	if i+1 >= upto || (pre && i+1 == upto-1) {
		return false
	}
	a, ok := ls[i+1].(*layers.Activation)
	return ok && a.Activation == nn.ActReLU
}

// LayerOutputs returns each layer's output in the last training step
// (for the last layer, the logits when its activation is fused into the
// loss; for a batch normalization followed by an Activation layer of
// ReLU, the ReLU's output for both, as training runs them as one op: see
// Walk.Fuse). Callbacks may read them in OnBatchEnd; they are overwritten
// by the next step.
func (m *Sequential) LayerOutputs() []*autodiff.Var { return m.fit.outs }

// Trace runs x through the model in inference mode and returns a copy of
// every layer's output, for inspecting activations.
func (m *Sequential) Trace(x *tensor.Tensor) (outs []*tensor.Tensor, err error) {
	if !m.built {
		return nil, ErrNotBuilt
	}
	if x == nil || x.Rank() < 2 || !x.Shape()[1:].Equal(m.inShape) {
		return nil, fmt.Errorf("model: Trace: x must have shape (samples, %v)", m.inShape)
	}
	defer catchShape(&err)
	in := m.getInference()
	defer m.tapes.Put(in)
	vs := make([]*autodiff.Var, 0, len(m.Layers))
	m.Forward(&in.pass, in.tape.Const(x.As(m.DType)), Walk{Outputs: &vs})
	for _, v := range vs {
		outs = append(outs, v.Value.Clone())
	}
	return outs, nil
}
