package model

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// updateGuard lets a step undo an optimizer update that wrote a NaN or an
// infinity into a weight (a learning rate too large for Adam's ε, a
// numerically broken rule), so that such a step, like one with a
// non-finite gradient, stops training with nothing applied. Before each
// update it copies the parameters' values and their optimizer slots into
// buffers made on first use and reused after (no allocation per step);
// after it, check finds the first layer with a non-finite weight and
// restore puts everything back, the optimizer's step count included.
//
// The copy is the price: one more pass over the weights and slots per
// step. It buys the promise that a model never holds a non-finite weight
// after Fit, so that what Save writes Load reads.
type updateGuard struct {
	opt    optimizers.Optimizer
	params []*autodiff.Var    // the parameters the buffers were made for
	vals   []*tensor.Tensor   // their values before the update
	slots  [][]*tensor.Tensor // the optimizer's own slot tensors of each
	saved  [][]*tensor.Tensor // the slots before the update
	iters  int                // the optimizer's step count before the update
}

// save copies params' values and optimizer slots, and opt's step count.
func (g *updateGuard) save(opt optimizers.Optimizer, params []*autodiff.Var) {
	if !g.fits(opt, params) {
		g.make(opt, params)
	}
	for i, p := range params {
		g.vals[i].CopyFrom(p.Value)
		for k, s := range g.slots[i] {
			g.saved[i][k].CopyFrom(s)
		}
	}
	g.iters = opt.Iterations()
}

// fits reports whether the buffers were made for opt and params.
func (g *updateGuard) fits(opt optimizers.Optimizer, params []*autodiff.Var) bool {
	if g.opt != opt || len(g.params) != len(params) {
		return false
	}
	for i, p := range params {
		if g.params[i] != p || g.vals[i].DType() != p.Value.DType() || g.vals[i].Len() != p.Value.Len() {
			return false
		}
	}
	return true
}

// make allocates the buffers for opt and params. opt.State creates a
// parameter's slots as its first Step would, so the slot tensors taken
// here are the ones Step will write.
func (g *updateGuard) make(opt optimizers.Optimizer, params []*autodiff.Var) {
	g.opt = opt
	g.params = append(g.params[:0], params...)
	g.vals, g.slots, g.saved = g.vals[:0], g.slots[:0], g.saved[:0]
	for _, p := range params {
		g.vals = append(g.vals, p.Value.Clone())
		st := opt.State(p)
		cp := make([]*tensor.Tensor, len(st))
		for k, s := range st {
			cp[k] = s.Clone()
		}
		g.slots = append(g.slots, st)
		g.saved = append(g.saved, cp)
	}
}

// restore undoes the update save preceded.
func (g *updateGuard) restore() {
	for i, p := range g.params {
		p.Value.CopyFrom(g.vals[i])
		for k, s := range g.slots[i] {
			s.CopyFrom(g.saved[i][k])
		}
	}
	g.opt.SetIterations(g.iters)
}
