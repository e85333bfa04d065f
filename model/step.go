package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/tensor"
)

// NonFiniteError reports a NaN or infinite loss, gradient, or weight after
// the optimizer's update. The step that produced it was not applied:
// weights, optimizer state, batch-norm moving statistics, the
// shuffling/dropout generator and the epoch's running loss and metrics are
// those of the step before, so a checkpoint written afterwards holds the
// last good step. (For a weight, Fit rebuilds that state by replaying the
// epoch: see Fit for what a replay cannot repeat.)
type NonFiniteError struct {
	Epoch, Step int // 1-based epoch and step within it
	// Layer is where the non-finite value appeared first: for a loss, the
	// first layer (from the input) whose output is not finite; for a
	// gradient, the layer nearest the output whose parameter gradient is
	// not finite, since backpropagation reaches it first and carries the
	// NaN on to every layer before it; for a weight, the first layer
	// (from the input) whose updated weights are not finite. "" if no
	// layer output is at fault.
	Layer string
	What  string // "loss", "gradient" or "weight"

	// rewind: the step updated some weights before it found the
	// non-finite gradient, so Fit must rewind as for a weight (guard.go).
	rewind bool
}

// Error says what was non-finite, where, and what to try.
func (e *NonFiniteError) Error() string {
	where := ""
	if e.Layer != "" {
		where = fmt.Sprintf(", first in layer %q", e.Layer)
	}
	return fmt.Sprintf("model: non-finite %s at epoch %d step %d%s; the step was not applied (try a lower learning rate or gradient clipping)", e.What, e.Epoch, e.Step, where)
}

type fitBuffers struct {
	run        fitRun
	pcgBefore  rand.PCG // the generator before the current step, restored when the step is dropped
	perm       []int
	xb, yb     *tensor.Tensor
	xv, yv     *tensor.Tensor // views of the batch buffers' first rows
	wb, wv     *tensor.Tensor // the batch's loss weights and their view; wv nil without weights
	outs       []*autodiff.Var
	logs       Logs
	stepParams []*autodiff.Var
	pass       layers.Pass
	snap       epochSnapshot // the epoch's start, to undo an update that broke a weight (guard.go)
	shards     shardSet
	ranks      rankSet
	// A sharded batch's sources and rows, copied by the shards (batch).
	gx, gy, gw *tensor.Tensor
	gidx       []int
	// The next batch's rows of gx, which the shards start loading into
	// their cores' caches (prefetch), each its own range.
	gnext []int
}

// trainStep runs forward, backward and the update on one batch and returns
// the batch loss, weighted by the weights batch gathered with it. A non-finite loss or gradient leaves everything unchanged.
// A non-finite weight after the update leaves the update in place, the
// batch-norm statistics and the generator as before the step: Fit undoes
// the update by rewinding the epoch (guard.go).
func (m *Sequential) trainStep(xb, yb *tensor.Tensor, epoch, step int) (float64, error) {
	if m.fit.shards.shardCount(xb.Dim(0)) > 1 {
		return m.trainStepShards(xb, yb, epoch, step)
	}
	m.fit.shards.in.on = false
	m.fit.shards.in.next = m.fit.shards.in.next[:0]
	tp := m.tape
	tp.SetShardGrads(false) // a sharded step turned it on
	tp.Reset()
	b := &m.fit
	b.pcgBefore = *m.trainPCG
	b.pass = layers.Pass{Tape: tp, Training: true, Rand: m.trainRng}
	p := &b.pass // a field, not a local: a local would escape to the heap
	b.outs = b.outs[:0]
	v := m.Forward(p, tp.Const(xb), m.lossWalk(&b.outs))
	loss := m.lossOf(tp, v, yb, b.wv)
	lv := loss.Value.Item()
	if math.IsNaN(lv) || math.IsInf(lv, 0) {
		return 0, m.lossError(b.outs, epoch, step)
	}
	tp.Backward(loss)
	if err := m.finishStep(epoch, step); err != nil {
		return 0, err
	}
	if err := m.updateMetrics(m.predictions(tp, v).Value, yb, epoch, step); err != nil {
		return 0, err
	}
	return lv, nil
}

// lossError drops a step whose loss is not finite and reports it, naming
// the first layer whose output in outs (one per layer) is not finite.
func (m *Sequential) lossError(outs []*autodiff.Var, epoch, step int) error {
	m.discard()
	layer := ""
	for i, o := range outs {
		if !o.Value.AllFinite() {
			layer = m.Layers[i].Name()
			break
		}
	}
	return &NonFiniteError{Epoch: epoch, Step: step, Layer: layer, What: "loss"}
}

// updateMetrics adds a kept step's predictions for targets y to the
// metrics.
func (m *Sequential) updateMetrics(pred, y *tensor.Tensor, epoch, step int) error {
	for _, mt := range m.metrics {
		if err := mt.Update(pred, y); err != nil {
			return fmt.Errorf("model: epoch %d step %d: %w", epoch, step, err)
		}
	}
	return nil
}

// ensureGrad gives p a Grad of its value's dtype and shape, keeping the
// one it has when that fits.
func ensureGrad(p *autodiff.Var) {
	if p.Grad == nil || !p.Grad.Shape().Equal(p.Value.Shape()) || p.Grad.DType() != p.Value.DType() {
		p.Grad = tensor.New(p.Value.DType(), p.Value.Shape()...)
	}
}

// finishStep checks the gradients that the backward pass left in the
// parameters' Grad, applies the update, checks the weights, and commits
// the layers' state.
func (m *Sequential) finishStep(epoch, step int) error {
	for i := len(m.layerParams) - 1; i >= 0; i-- { // nearest the output first: see NonFiniteError
		for _, p := range m.layerParams[i] {
			if m.hasGrad(p) && !p.Grad.AllFinite() {
				m.discard()
				return &NonFiniteError{Epoch: epoch, Step: step, Layer: m.Layers[i].Name(), What: "gradient"}
			}
		}
	}
	params := m.stepParams()
	if err := m.opt.Step(params); err != nil {
		m.discard()
		return fmt.Errorf("model: epoch %d step %d: %w", epoch, step, err)
	}
	for _, ps := range m.layerParams {
		for _, p := range ps {
			if !p.Value.AllFinite() {
				return m.badWeight(epoch, step)
			}
		}
	}
	m.commit()
	return nil
}

// badWeight drops a step whose update wrote a NaN or an infinity into a
// weight, naming the first layer (from the input) it broke.
func (m *Sequential) badWeight(epoch, step int) error {
	m.discard() // Fit rewinds the update: see rewind
	for i, ps := range m.layerParams {
		for _, p := range ps {
			if !p.Value.AllFinite() {
				return &NonFiniteError{Epoch: epoch, Step: step, Layer: m.Layers[i].Name(), What: "weight"}
			}
		}
	}
	return &NonFiniteError{Epoch: epoch, Step: step, What: "weight"}
}

// commit keeps the state the layers changed in a step that is kept.
func (m *Sequential) commit() {
	for _, l := range m.Layers {
		if s, ok := l.(layers.Stateful); ok {
			s.Commit()
		}
	}
}

func (m *Sequential) stepParams() []*autodiff.Var {
	ps := m.fit.paramsBuf()
	for _, p := range m.params {
		if p.NeedsGrad() && m.hasGrad(p) {
			ps = append(ps, p)
		}
	}
	m.fit.stepParams = ps
	return ps
}

// hasGrad reports whether the step in progress computed a gradient for
// p: on the input-split path (insplit.go) no tape holds the first
// kernel's.
func (m *Sequential) hasGrad(p *autodiff.Var) bool {
	in := &m.fit.shards.in
	return m.tape.HasGrad(p) || in.on && p == in.dense.Kernel
}

func (b *fitBuffers) paramsBuf() []*autodiff.Var { return b.stepParams[:0] }

// discard drops the step in progress: the batch statistics it computed and
// what it drew from the generator (dropout masks).
func (m *Sequential) discard() {
	*m.trainPCG = m.fit.pcgBefore
	for _, l := range m.Layers {
		if s, ok := l.(layers.Stateful); ok {
			s.Discard()
		}
	}
}
