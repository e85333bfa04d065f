package model

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// The fused last layer is decided here and only here. When the last layer
// ends in an activation (layers.Activated) that the loss can take the
// logits of instead (losses.Fuser: softmax into categorical
// cross-entropy, sigmoid into binary), training and Evaluate stop the
// forward walk before that activation (lossWalk), compute the loss from
// the logits (lossOf), and apply the activation only for the metrics
// (predictions). Predict and Trace always run the activation.

// resolveFusion decides the fusion once the model is both built and
// compiled; Build and Compile call it.
func (m *Sequential) resolveFusion() {
	m.fusedLoss, m.fusedAct = nil, 0
	if !m.built || !m.compiled || len(m.Layers) == 0 {
		return
	}
	f, ok := m.loss.(losses.Fuser)
	if !ok {
		return
	}
	last, ok := m.Layers[len(m.Layers)-1].(layers.Activated)
	if !ok {
		return
	}
	if fl, ok := f.Fuse(last.Act()); ok {
		m.fusedLoss, m.fusedAct = fl, last.Act()
	}
}

// lossWalk is the walk whose output lossOf takes: through every layer,
// ending before a fused activation, with batch norm and a ReLU after it
// fused (Walk.Fuse); outs, when not nil, receives each layer's output.
func (m *Sequential) lossWalk(outs *[]*autodiff.Var) Walk {
	return Walk{PreActivation: m.fusedLoss != nil, Outputs: outs, Fuse: true}
}

// lossOf computes the loss of lossWalk's output against targets y, each
// sample's term weighed by w when w is not nil (Fit has checked that the
// loss is a losses.Weighted then).
func (m *Sequential) lossOf(tp *autodiff.Tape, out *autodiff.Var, y, w *tensor.Tensor) *autodiff.Var {
	l := m.loss
	if m.fusedLoss != nil {
		l = m.fusedLoss
	}
	if w != nil {
		return m.withPenalties(tp, l.(losses.Weighted).ComputeWeighted(tp, out, y, w))
	}
	return m.withPenalties(tp, l.Compute(tp, out, y))
}

// predictions turns lossWalk's output into the model's outputs, for the
// metrics.
func (m *Sequential) predictions(tp *autodiff.Tape, out *autodiff.Var) *autodiff.Var {
	if m.fusedLoss != nil {
		if m.fusedAct == nn.ActSoftmax {
			if p := nn.SoftmaxOf(tp, out); p != nil {
				return tp.Const(p)
			}
		}
		return m.fusedAct.Apply(tp, out)
	}
	return out
}
