package model

import (
	"fmt"
	"math"
	"slices"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/reduce"
	"github.com/myelin-go/myelin/tensor"
)

// The first layer split by its inputs. On the plain shard path every
// shard multiplies its rows by the whole first-layer kernel, and the
// kernel's gradient and update are shared out by element ranges: each
// step the kernel (the founding model's 784×64 is 200 KB, nine tenths of
// its weights) crosses between the cores, as weights both read, as the
// shards' gradients the range's owner adds, and back to the core that
// must take each line from the other before it may write it. Where a
// line another core holds costs tens of nanoseconds to take back (the AMD
// host of BENCHMARKS.md, issue 16), that traffic outweighs what the
// second core saves.
//
// So when a Dense layer comes first, the step's team has one member per
// shard, and member k owns a block of the layer's inputs, rows [r0, r1)
// of its kernel, for the whole batch (runSplit):
//  1. It computes its part of the layer's pre-activations,
//     x[:, r0:r1]·W[r0:r1, :], from its columns of the batch.
//  2. Member 0 adds the parts in Tree order, adds the bias, applies the
//     activation and runs the rest of the network, the loss and the
//     backward pass on the whole batch, on one tape (splitRest). The
//     small layers' weights, gradients and optimizer state stay on its
//     core, and the rest of the step meets no other member: the earlier
//     version ran the rest in shards, with batch norm's six sums across
//     cores and the small layers' gradients added by ranges, and lost
//     more to those syncs and to the small layers' lines crossing than
//     the second core gave (BENCHMARKS.md, sixth session of 6 December).
//     Meanwhile the last member gathers every member's columns of the
//     next batch (preGather), which Fit's prefetch names.
//  3. Each member computes its rows of the kernel's gradient,
//     x[:, r0:r1]ᵀ·dz over the whole batch, and updates them; member 0
//     updates the other parameters. When the optimizer's Prepare reads no
//     gradient, member 0 calls it in step 2 and each member updates as
//     soon as its own rows' gradient is finite; a non-finite one elsewhere
//     makes Fit rewind the epoch, as for a broken weight.
//
// The members meet twice a step besides the step's end (four times when
// Prepare clips by norm).
// Rows of the kernel, of its gradient and of the optimizer's state never
// leave their core; what crosses is the parts, the pre-activation
// gradient (a few KB each) and member 0's columns of the batch.
//
// Splitting the sum over inputs changes its rounding, so the result is
// not the whole batch's bits; it depends on the number of shards (the
// shard size) and never on the number of workers: the path is chosen
// from the model, the optimizer and the shard count alone. Everything
// after the first layer's sum is the whole batch's arithmetic. A batch of
// one shard trains as before.
//
// An earlier try split the kernel by output columns instead, which keeps
// the plain path's bits: two cores writing alternate 128-byte halves of
// each 256-byte row ran Adam's update about 3.5× slower than one core
// writing both (probably the cores' prefetchers pulling in each other's
// lines), and a sharded step ran slower on two cores than on one.

// inSplit is the state of the first layer's input split.
type inSplit struct {
	on      bool
	dense   *layers.Dense
	in, out int
	wi      int       // the kernel's index in shardSet.params, -1 if absent
	dz      []float32 // the batch's pre-activation gradient (B×out)
	members []inPart
	pre     bool           // the members' columns of this batch are gathered (splitNext)
	next    []int          // the rows preGather gathered
	nextX   *tensor.Tensor // from this x
	fresh   bool           // tests: gather every batch afresh
	reused  int            // tests: batches preGather had gathered
	parts   [][]float32    // the members' z, for TreeInto
	scratch []float32      // TreeInto's

	// What splitRest leaves for the members and the caller.
	restOK   bool          // the loss and the gradients it computed are finite
	early    bool          // it called the optimizer's Prepare
	badLayer int           // the layer with a non-finite gradient, or -1
	loss     float64       // the batch's loss
	pred     *autodiff.Var // the predictions for the metrics, nil without metrics
}

// inPart is one member's block of inputs and its buffers.
type inPart struct {
	r0, r1 int
	x      []float32 // its columns of the batch (B×(r1−r0))
	xn     []float32 // its columns of the next batch (preGather)
	z      []float32 // its part of the pre-activations (B×out)
}

// inSplitProblem says why FitOptions.SplitFirstLayer cannot apply to m,
// "" when it can.
func (m *Sequential) inSplitProblem() string {
	if m.DType != tensor.Float32 {
		return "the model must be float32"
	}
	if len(m.Layers) < 2 {
		return "the model needs a layer after the first"
	}
	if _, ok := m.opt.(optimizers.Ranged); !ok {
		return fmt.Sprintf("optimizer %s does not update by ranges; use Adam or AdamW", m.opt.Name())
	}
	d, ok := m.Layers[0].(*layers.Dense)
	switch {
	case !ok:
		return fmt.Sprintf("the first layer is a %s, not a Dense", m.Layers[0].Type())
	case d.Kernel == nil || !d.Kernel.NeedsGrad():
		return "the first layer's kernel is not trainable"
	case d.KernelRegularizer != nil:
		return "the first layer has a kernel regularizer"
	case d.Activation != nn.ActReLU && d.Activation != nn.Linear:
		return fmt.Sprintf("the first layer's activation is %s; want relu or linear", d.Activation)
	case len(m.inShape) != 1:
		return fmt.Sprintf("the inputs have shape %v; want one dimension; flatten x to (samples, features)", m.inShape)
	}
	return ""
}

// inSplitFor decides the path for a step of n shards over a batch of B
// rows and sizes its buffers.
func (m *Sequential) inSplitFor(n, B int) {
	s := &m.fit.shards
	c := &s.in
	c.on = false
	if !s.split || n < 2 || m.inSplitProblem() != "" {
		return
	}
	d := m.Layers[0].(*layers.Dense)
	ks := d.Kernel.Shape()
	c.on, c.dense, c.in, c.out = true, d, ks[0], ks[1]
	c.dz = grow(c.dz, B*c.out)
	for len(c.members) < n {
		c.members = append(c.members, inPart{})
	}
	for k := range c.members[:n] {
		p := &c.members[k]
		p.r0, p.r1 = k*c.in/n, (k+1)*c.in/n
		p.x = grow(p.x, B*(p.r1-p.r0))
		p.xn = grow(p.xn, B*(p.r1-p.r0))
		p.z = grow(p.z, B*c.out)
	}
}

// inGather copies member k's columns of the batch, converting uint8 as
// the shards' gather does.
func (m *Sequential) inGather(k int) {
	b := &m.fit
	s := &b.shards
	p := &s.in.members[k]
	if b.gidx == nil {
		w, row := p.r1-p.r0, s.in.in
		src := s.xb.Float32s()
		for i := range s.batch {
			copy(p.x[i*w:(i+1)*w], src[i*row+p.r0:i*row+p.r1])
		}
		return
	}
	gatherCols(p.x, b.gx, b.gidx, p.r0, p.r1)
}

// gatherCols copies columns [c0, c1) of rows idx of x into dst, converted
// to float32.
func gatherCols(dst []float32, x *tensor.Tensor, idx []int, c0, c1 int) {
	w, row := c1-c0, x.Len()/max(x.Dim(0), 1)
	if x.DType() == tensor.Uint8 {
		q, div := x.Uint8s(), x.Divisor()
		for i, j := range idx {
			kernel.Uint8ToFloat32(dst[i*w:(i+1)*w], q[j*row+c0:j*row+c1], div)
		}
		return
	}
	src := x.Float32s()
	for i, j := range idx {
		copy(dst[i*w:(i+1)*w], src[j*row+c0:j*row+c1])
	}
}

// preGather copies every member's columns of the next batch (Fit's
// prefetch names its rows) into the members' second buffers, on the last
// member while member 0 runs the rest of the network; the next step uses
// them if its rows are those (splitNext).
func (m *Sequential) preGather() {
	b := &m.fit
	s := &b.shards
	c := &s.in
	c.next = c.next[:0]
	if b.gidx == nil || len(b.gnext) != s.batch {
		return
	}
	for k := range c.members[:s.n] {
		p := &c.members[k]
		gatherCols(p.xn, b.gx, b.gnext, p.r0, p.r1)
	}
	c.next = append(c.next, b.gnext...)
	c.nextX = b.gx
}

// splitNext reports whether the members' second buffers hold the batch
// in progress, and if so swaps them in.
func (m *Sequential) splitNext() bool {
	b := &m.fit
	c := &b.shards.in
	if c.fresh || b.gidx == nil || c.nextX != b.gx || !slices.Equal(c.next, b.gidx) {
		return false
	}
	c.reused++
	for k := range c.members[:b.shards.n] {
		p := &c.members[k]
		p.x, p.xn = p.xn, p.x
	}
	c.next = c.next[:0]
	return true
}

// runSplit is member k's part of a step on the input-split path (see
// above): its part of the first layer's pre-activations; then the rest
// of the network on member 0 (splitRest) while the last member gathers
// the next batch; then its rows of the kernel's gradient and their
// update. Member 0 also updates the other parameters, whose gradients its
// tape wrote: on the last member their lines would cross between the
// cores twice a step, which cost more than member 0's wait for it
// (BENCHMARKS.md, sixth session of 6 December).
func (m *Sequential) runSplit(sh *shard) {
	b := &m.fit
	s := &b.shards
	c := &s.in
	g := sh.pass.Shards
	k := g.Rank()
	p := &c.members[k]
	if !c.pre {
		m.inGather(k)
	}
	if w := p.r1 - p.r0; w > 0 {
		kernel.Sgemm(false, false, s.batch, c.out, w, 1, p.x, w, c.dense.Kernel.Value.Float32s()[p.r0*c.out:p.r1*c.out], c.out, 0, p.z, c.out)
	} else {
		clear(p.z)
	}
	if k == 0 && b.gidx != nil {
		copyRows(s.yb, b.gy, b.gidx)
		if s.wb != nil {
			copyRows(s.wb, b.gw, b.gidx)
		}
	}
	g.Barrier()
	switch k {
	case 0:
		m.splitRest()
	case s.n - 1:
		m.preGather() // while member 0 works alone
	}
	g.Barrier()
	if !c.restOK {
		return
	}
	sh.gradBad = !m.inGrad(k)
	sh.stepped, sh.weightBad = false, false
	if c.early {
		// Prepare has run, so each member updates its rows as soon as
		// it knows their gradient is finite, without a meeting to hear
		// the others'. Should another's not be, finishSplit has Fit
		// undo the rows updated, as for a broken weight (rewind): a
		// rare event, against a meeting every step.
		if sh.gradBad || s.prepErr != nil {
			return
		}
	} else {
		g.Barrier()
		if k == 0 {
			ok := true
			for _, o := range s.shards[:s.n] {
				ok = ok && !o.gradBad
			}
			if ok {
				s.prepErr = s.ranged.Prepare(s.params)
				s.updated = s.prepErr == nil
			}
		}
		g.Barrier()
		if !s.updated {
			return
		}
	}
	sh.stepped = true
	sh.weightBad = !m.inStep(k)
	if k != 0 {
		return
	}
	s.ranges(0, s.total, func(i, a, c int) {
		s.ranged.StepRange(i, a, c)
		if v := s.params[i].Value; v.DType() == tensor.Float32 {
			sh.weightBad = sh.weightBad || !allFinite(v.Float32s()[a:c])
		} else {
			sh.weightBad = sh.weightBad || !allFinite(v.Float64s()[a:c])
		}
	})
}

// splitRest adds the members' parts of the first layer's pre-activations
// in Tree order, adds the bias, applies the activation, and runs the rest
// of the network, the loss and the backward pass on the whole batch on
// m.tape, as trainStep does. It leaves the loss in c.loss and the
// predictions in c.pred, sets up the step's parameters, and sets c.restOK
// when the loss and the gradients it computed are finite (c.badLayer
// names the layer otherwise).
func (m *Sequential) splitRest() {
	b := &m.fit
	s := &b.shards
	c := &s.in
	d := c.dense
	out := c.out
	c.restOK, c.badLayer, c.pred = false, -1, nil
	tp := m.tape
	tp.SetShardGrads(false)
	tp.Reset()
	b.pass = layers.Pass{Tape: tp, Training: true, Rand: m.trainRng}
	h := tp.Alloc(tensor.Float32, s.batch, out)
	hv := h.Float32s()
	c.parts = c.parts[:0]
	for j := range c.members[:s.n] {
		c.parts = append(c.parts, c.members[j].z[:s.batch*out])
	}
	if want := (s.n + 1) / 2 * 64; len(c.scratch) < want {
		c.scratch = make([]float32, want)
	}
	reduce.TreeInto(hv, c.parts, c.scratch)
	if d.Bias != nil {
		kernel.AddRowTo(hv, hv, d.Bias.Value.Float32s(), out)
	}
	if d.Activation == nn.ActReLU {
		kernel.ReluTo(hv, hv)
	}
	hvar := tp.Output(h, autodiff.Record{Op: inDenseOp{}, In: [4]*autodiff.Var{d.Kernel, d.Bias}, I: [4]int{int(d.Activation)}, Ctx: c})
	b.outs = append(b.outs[:0], hvar)
	walk := m.lossWalk(&b.outs)
	walk.From = 1
	v := m.Forward(&b.pass, hvar, walk)
	loss := m.lossOf(tp, v, s.yb, s.wb)
	c.loss = loss.Value.Item()
	if math.IsNaN(c.loss) || math.IsInf(c.loss, 0) {
		return
	}
	tp.Backward(loss)
	if len(m.metrics) > 0 {
		c.pred = m.predictions(tp, v)
	}
	s.params = m.stepParams()
	s.total = 0
	c.wi = -1
	for i, p := range s.params {
		if p == d.Kernel {
			c.wi = i
		} else {
			s.total += p.Value.Len()
		}
		ensureGrad(p)
	}
	for i := len(m.layerParams) - 1; i >= 0; i-- { // nearest the output first: see NonFiniteError
		for _, p := range m.layerParams[i] {
			if p != d.Kernel && tp.HasGrad(p) && !p.Grad.AllFinite() {
				c.badLayer = i
				return
			}
		}
	}
	c.restOK = true
	// Prepare needs no gradient the members have still to compute
	// unless it clips by norm: then it waits for them (runSplit).
	gr, ok := s.ranged.(interface{ ReadsGrads() bool })
	c.early = ok && !gr.ReadsGrads()
	if c.early {
		s.prepErr = s.ranged.Prepare(s.params)
	}
}

// inDenseOp is the first layer's op on the input-split path: its backward
// pass writes the pre-activation gradient into the batch's (inSplit.dz),
// for the members (inGrad), and adds the bias's gradient as nn.Dense
// does.
type inDenseOp struct{}

func (inDenseOp) Name() string { return "model.splitDense" }

func (inDenseOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	c := r.Ctx.(*inSplit)
	y, dy := r.Out.Value.Float32s(), r.Out.Grad.Float32s()
	n := r.Out.Value.Dim(1)
	dz := c.dz[:len(dy)]
	if nn.Activation(r.I[0]) == nn.ActReLU {
		kernel.ReluGradTo(dz, dy, y)
	} else {
		copy(dz, dy)
	}
	if b := r.In[1]; b != nil {
		if db := tp.GradOf(b); db != nil {
			kernel.AddColSums(db.Float32s(), dz, n)
		}
	}
}

// inGrad sets member k's rows of the kernel's Grad to its columns of the
// batch, transposed, times the batch's pre-activation gradient, and
// reports whether they are finite.
func (m *Sequential) inGrad(k int) bool {
	s := &m.fit.shards
	c := &s.in
	p := &c.members[k]
	w := p.r1 - p.r0
	if w == 0 {
		return true
	}
	g := c.dense.Kernel.Grad.Float32s()[p.r0*c.out : p.r1*c.out]
	kernel.Sgemm(true, false, w, c.out, s.batch, 1, p.x, w, c.dz, c.out, 0, g, c.out)
	return kernel.AllFinite(g)
}

// inStep updates member k's rows of the kernel and reports whether they
// stayed finite.
func (m *Sequential) inStep(k int) bool {
	c := &m.fit.shards.in
	p := &c.members[k]
	lo, hi := p.r0*c.out, p.r1*c.out
	if lo == hi {
		return true
	}
	m.fit.shards.ranged.StepRange(c.wi, lo, hi)
	return kernel.AllFinite(c.dense.Kernel.Value.Float32s()[lo:hi])
}

// finishSplit is what the caller does after the members of a step on the
// input-split path return: it reports a non-finite loss, gradient or
// weight, and otherwise commits the step and updates the metrics, as
// trainStep does.
func (m *Sequential) finishSplit(epoch, step int) (float64, error) {
	s := &m.fit.shards
	c := &s.in
	if math.IsNaN(c.loss) || math.IsInf(c.loss, 0) {
		return 0, m.lossError(m.fit.outs, epoch, step)
	}
	bad, stepped := -1, false
	if !c.restOK {
		bad = c.badLayer
	} else {
		for _, sh := range s.shards[:s.n] {
			if sh.gradBad {
				bad = 0
			}
			stepped = stepped || sh.stepped
		}
	}
	if bad >= 0 {
		m.discard()
		// Members that found their rows' gradient finite may have
		// updated them (runSplit): then Fit rewinds.
		return 0, &NonFiniteError{Epoch: epoch, Step: step, Layer: m.Layers[bad].Name(), What: "gradient", rewind: stepped}
	}
	if s.prepErr != nil {
		m.discard()
		return 0, fmt.Errorf("model: epoch %d step %d: %w", epoch, step, s.prepErr)
	}
	s.ranged.Finish()
	for _, sh := range s.shards[:s.n] {
		if sh.weightBad {
			return 0, m.badWeight(epoch, step)
		}
	}
	m.commit()
	if c.pred != nil {
		if err := m.updateMetrics(c.pred.Value, s.yb, epoch, step); err != nil {
			return 0, err
		}
	}
	return c.loss, nil
}
