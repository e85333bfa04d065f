package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/reduce"
	"github.com/myelin-go/myelin/tensor"
)

// Data parallelism inside one process. A training batch larger than the
// shard size is cut into shards of that many rows (the last one shorter).
// Each shard's forward and backward pass runs on its own tape, as a member
// of a reduce.Local, over one worker goroutine per core (the goroutine
// that called Fit is worker 0; with more shards than workers each shard is
// a coroutine its worker resumes in turn). With SplitFirstLayer the shards
// share the first layer by its inputs rather than each running all of it
// on its rows, and the first runs the rest of the network on the whole
// batch (insplit.go).
// Batch normalization meets the other shards through the member's Group to
// normalize with the whole batch's statistics (nn.BatchNormSync). Every
// tape keeps its parameter gradients to itself (SetShardGrads), and each
// shard adds a range of them, in reduce.Tree order, into the parameters'
// Grad. The arithmetic depends on the shard size and never on how many
// workers run the shards, so GOMAXPROCS 1 and 8 give the same bits.
//
// The workers are started when a Fit first needs them and stopped when it
// returns, so no step starts a goroutine.

type shardSet struct {
	size   int
	split  bool // FitOptions.SplitFirstLayer
	shards []*shard
	teams  map[int]*reduce.Local // by the number of shards in a step

	// The step in progress, read by every shard.
	n       int
	batch   int
	xb, yb  *tensor.Tensor // the batch the views were cut from
	wb      *tensor.Tensor
	seed    uint64
	params  []*autodiff.Var   // the parameters with a gradient
	total   int               // their elements
	ranged  optimizers.Ranged // the optimizer, when the shards update the weights
	updated bool              // the shards checked the gradients and updated
	prepErr error             // Ranged.Prepare's error
	workers int               // the team's worker goroutines
	losses  []float64
	in      inSplit // the first layer split by its inputs (insplit.go)
}

type shard struct {
	tape      *autodiff.Tape
	pass      layers.Pass
	pcg       rand.PCG
	rng       *rand.Rand
	x, y, w   *tensor.Tensor // views of the batch's rows
	lo, hi    int
	outs      []*autodiff.Var
	out       *autodiff.Var // the model's output (logits when the loss is fused)
	pred      *autodiff.Var // its predictions for the metrics, nil without metrics
	loss      float64
	t32       treeBufs[float32] // for the gradient sums of its ranges
	t64       treeBufs[float64]
	stepped   bool // on the input split, it updated its rows (runSplit)
	gradBad   bool // a gradient element of this shard's ranges is not finite
	weightBad bool // a weight of this shard's ranges became non-finite
}

// stopShards ends the workers of the last Fit.
func (m *Sequential) stopShards() {
	s := &m.fit.shards
	s.in.next = s.in.next[:0] // x may change before the next Fit
	for n, t := range s.teams {
		t.Close()
		delete(s.teams, n)
	}
}

// shardCount is the number of shards of a batch of n rows.
func (s *shardSet) shardCount(n int) int {
	if s.size <= 0 || n <= s.size {
		return 1
	}
	return (n + s.size - 1) / s.size
}

// prepareShards sizes the set for a step of n shards over the batch xb,
// yb, wb and returns the team that runs them.
func (m *Sequential) prepareShards(xb, yb, wb *tensor.Tensor, n int) *reduce.Local {
	s := &m.fit.shards
	for len(s.shards) < n {
		sh := &shard{tape: autodiff.NewTape()}
		if len(s.shards) == 0 {
			sh.tape = m.tape
		}
		sh.rng = rand.New(&sh.pcg)
		sh.pass = layers.Pass{Tape: sh.tape, Training: true, Rand: sh.rng}
		s.shards = append(s.shards, sh)
	}
	if s.teams == nil {
		s.teams = map[int]*reduce.Local{}
	}
	team := s.teams[n]
	if team == nil {
		// One team per shard count (a Fit has at most two: its batch
		// and its last, shorter one), made on the first step that
		// needs it.
		team = reduce.NewLocal(n, runtime.GOMAXPROCS(0), func(g reduce.Group) {
			sh := s.shards[g.Rank()]
			sh.pass.Shards = g
			m.runShard(sh)
		})
		s.teams[n] = team

	}
	s.workers = team.Workers()
	B := xb.Dim(0)
	same := s.xb == xb && s.yb == yb && s.wb == wb && s.batch == B && s.n == n
	s.n, s.batch, s.xb, s.yb, s.wb = n, B, xb, yb, wb
	for k, sh := range s.shards[:n] {
		sh.tape.SetShardGrads(true)
		lo, hi := k*s.size, min((k+1)*s.size, B)
		if !same || sh.x == nil {
			sh.lo, sh.hi = lo, hi
			sh.x, sh.y = xb.Rows(lo, hi), yb.Rows(lo, hi)
			sh.w = nil
			if wb != nil {
				sh.w = wb.Rows(lo, hi)
			}
		}
	}
	return team
}

// trainStepShards is trainStep for a batch of more than one shard.
func (m *Sequential) trainStepShards(xb, yb *tensor.Tensor, epoch, step int) (float64, error) {
	b := &m.fit
	s := &b.shards
	n := s.shardCount(xb.Dim(0))
	b.pcgBefore = *m.trainPCG
	s.seed = m.trainRng.Uint64() // dropout: shard k draws from (seed, k)
	team := m.prepareShards(xb, yb, b.wv, n)
	s.ranged, _ = m.opt.(optimizers.Ranged)
	m.inSplitFor(n, xb.Dim(0))
	s.in.pre = s.in.on && m.splitNext()
	if !s.in.on {
		s.in.next = s.in.next[:0]
	}
	s.updated, s.prepErr = false, nil
	if s.workers > 1 {
		kernel.SerialBegin() // the shards keep the cores busy
		team.Step()
		kernel.SerialEnd()
	} else {
		team.Step()
	}
	if s.in.on {
		return m.finishSplit(epoch, step)
	}
	b.outs = s.shards[0].outs

	s.losses = s.losses[:0]
	for _, sh := range s.shards[:n] {
		s.losses = append(s.losses, sh.loss)
	}
	lv := reduce.TreeSum(s.losses) // as ranks add theirs
	if math.IsNaN(lv) || math.IsInf(lv, 0) {
		m.discard()
		layer := ""
	find:
		for i := range m.Layers {
			for _, sh := range s.shards[:n] {
				if !sh.outs[i].Value.AllFinite() {
					layer = m.Layers[i].Name()
					break find
				}
			}
		}
		return 0, &NonFiniteError{Epoch: epoch, Step: step, Layer: layer, What: "loss"}
	}
	if s.updated {
		// The shards checked the gradients and applied the update;
		// what is left is finishStep's bookkeeping.
		s.ranged.Finish()
		for _, sh := range s.shards[:n] {
			if sh.weightBad {
				return 0, m.badWeight(epoch, step)
			}
		}
		m.commit()
	} else if s.prepErr != nil {
		m.discard()
		return 0, fmt.Errorf("model: epoch %d step %d: %w", epoch, step, s.prepErr)
	} else if err := m.finishStep(epoch, step); err != nil {
		return 0, err
	}
	for _, sh := range s.shards[:n] {
		if len(m.metrics) > 0 {
			if err := m.updateMetrics(sh.pred.Value, sh.y, epoch, step); err != nil {
				return 0, err
			}
		}
	}
	return lv, nil
}

// runShard runs one shard's part of a step: it copies its rows of the
// batch (converting a uint8 x's), runs its forward and backward pass, adds its range of the
// shards' gradients and checks it, and (when the optimizer is Ranged and
// every check passed) updates its range of the weights. Every shard runs
// to the end, even on a non-finite loss, since the others meet it in
// batch normalization and at the barriers.
func (m *Sequential) runShard(sh *shard) {
	b := &m.fit
	s := &b.shards
	if s.in.on {
		m.runSplit(sh)
		return
	}
	tp := sh.tape
	tp.Reset()
	k := sh.pass.Shards.Rank()
	if b.gidx != nil {
		idx := b.gidx[sh.lo:sh.hi]
		copyRows(sh.x, b.gx, idx)
		copyRows(sh.y, b.gy, idx)
		if sh.w != nil {
			copyRows(sh.w, b.gw, idx)
		}
	}
	sh.pcg.Seed(s.seed, uint64(k))
	sh.outs = sh.outs[:0]
	sh.out = m.Forward(&sh.pass, tp.Const(sh.x), m.lossWalk(&sh.outs))
	l := m.loss
	if m.fusedLoss != nil {
		l = m.fusedLoss
	}
	var loss *autodiff.Var
	if sh.w != nil {
		loss = l.(losses.Weighted).ComputeWeighted(tp, sh.out, sh.y, sh.w)
	} else {
		loss = l.Compute(tp, sh.out, sh.y)
	}
	// The loss is a mean over the batch: this shard's mean weighs its
	// share of the rows. Penalties are the batch's once, on shard 0.
	loss = nn.Scale(tp, loss, float64(sh.hi-sh.lo)/float64(s.batch))
	if k == 0 {
		loss = m.withPenalties(tp, loss)
	}
	sh.loss = loss.Value.Item()
	tp.Backward(loss)
	// The metrics' predictions (a softmax when the loss is fused) are
	// each shard's own work; only the metrics' updates run serially.
	sh.pred = nil
	if len(m.metrics) > 0 {
		sh.pred = m.predictions(tp, sh.out)
	}
	defer m.prefetchShard(sh)

	g := sh.pass.Shards
	if k == 0 {
		// Shard 0's tape alone says which parameters have a gradient,
		// so this needs no other shard's backward pass: it is done
		// before the barrier that the others pass after theirs.
		s.params = m.stepParams()
		s.total = 0
		for _, p := range s.params {
			s.total += p.Value.Len()
			ensureGrad(p)
		}
	}
	g.Barrier()
	sh.gradBad = false
	lo, hi := k*s.total/s.n, (k+1)*s.total/s.n
	s.ranges(lo, hi, func(i, a, c int) {
		p := s.params[i]
		if p.Grad.DType() == tensor.Float32 {
			sh.gradBad = !sh.t32.sumRange(s.shards[:s.n], p, a, c) || sh.gradBad
		} else {
			sh.gradBad = !sh.t64.sumRange(s.shards[:s.n], p, a, c) || sh.gradBad
		}
	})
	if s.ranged == nil {
		return // finishStep updates on the calling goroutine
	}
	g.Barrier()
	if k == 0 {
		ok := true
		for _, o := range s.shards[:s.n] {
			ok = ok && !o.gradBad && !math.IsNaN(o.loss) && !math.IsInf(o.loss, 0)
		}
		if ok {
			s.prepErr = s.ranged.Prepare(s.params)
			s.updated = s.prepErr == nil
		}
	}
	g.Barrier()
	sh.weightBad = false
	if !s.updated {
		return
	}
	s.ranges(lo, hi, func(i, a, c int) {
		s.ranged.StepRange(i, a, c)
		if v := s.params[i].Value; v.DType() == tensor.Float32 {
			sh.weightBad = sh.weightBad || !allFinite(v.Float32s()[a:c])
		} else {
			sh.weightBad = sh.weightBad || !allFinite(v.Float64s()[a:c])
		}
	})
}

// prefetchShard starts loading the shard's rows of the next batch (see
// Sequential.prefetch) into its core's caches, where it copies them on the
// next step: the same shard runs on the same worker every step.
func (m *Sequential) prefetchShard(sh *shard) {
	b := &m.fit
	if next := b.gnext; next != nil {
		prefetchRows(b.gx, next[min(sh.lo, len(next)):min(sh.hi, len(next))])
	}
}

// treeBufs holds a shard's buffers for adding gradient ranges.
type treeBufs[T float32 | float64] struct {
	parts   [][]T
	scratch []T
}

// sumRange sets elements [a, c) of p's Grad to the sum, in Tree order, of
// the shards' gradients of p, and reports whether the sum is finite.
func (b *treeBufs[T]) sumRange(shards []*shard, p *autodiff.Var, a, c int) bool {
	b.parts = b.parts[:0]
	for _, o := range shards {
		b.parts = append(b.parts, values[T](o.tape.ShardGrad(p))[a:c])
	}
	if want := (len(shards) + 1) / 2 * 256; len(b.scratch) < want {
		b.scratch = make([]T, want)
	}
	dst := values[T](p.Grad)[a:c]
	reduce.TreeInto(dst, b.parts, b.scratch)
	return allFinite(dst)
}

// ranges calls f(i, a, c) for each parameter i whose elements [a, c)
// fall in [lo, hi) of the parameters laid end to end.
func (s *shardSet) ranges(lo, hi int, f func(i, a, c int)) {
	off := 0
	for i, p := range s.params {
		if i == s.in.wi && s.in.on {
			continue // inGrad's and inStep's
		}
		n := p.Value.Len()
		a, c := max(lo-off, 0), min(hi-off, n)
		off += n
		if a < c {
			f(i, a, c)
		}
	}
}

// allFinite reports whether x holds no NaN and no infinity.
func allFinite[T float32 | float64](x []T) bool {
	if f, ok := any(x).([]float32); ok {
		return kernel.AllFinite(f)
	}
	for _, v := range x {
		if v-v != 0 {
			return false
		}
	}
	return true
}
