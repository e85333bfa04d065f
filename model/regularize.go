package model

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
)

// withPenalties adds every layers.Regularized layer's weight penalty to
// loss, as Keras's compute_loss adds model.losses: the loss that training
// differentiates and that Fit and Evaluate report includes them. This is
// the one place penalties enter a loss; a model without regularizers gets
// loss back unchanged and records nothing more.
func (m *Sequential) withPenalties(tp *autodiff.Tape, loss *autodiff.Var) *autodiff.Var {
	for _, l := range m.Layers {
		r, ok := l.(layers.Regularized)
		if !ok {
			continue
		}
		if p := r.Penalty(tp); p != nil {
			loss = nn.Add(tp, loss, p)
		}
	}
	return loss
}
