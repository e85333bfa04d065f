package model

import (
	"math"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/reduce"
	"github.com/myelin-go/myelin/tensor"
)

// Data parallelism across processes (FitOptions.Ranks). Every rank holds
// the whole model and the whole data set, shuffles it the same way, and
// trains on its part of each global batch: rows [r·B/N, (r+1)·B/N) of a
// batch of B rows on N ranks. Batch normalization meets the other ranks
// through the Ranks' Group (nn.BatchNormSync); after the backward pass the
// ranks gather each other's parameter gradients and add them in
// reduce.Tree order, so every rank holds the same sum and takes the same
// update, and the weights stay identical without being sent again. The
// predictions and labels of the global batch are gathered too, so that
// every rank's metrics count the whole batch.
//
// This is the arithmetic of one process training with ShardSize B/N when
// N divides B: the same cuts, the same dropout seeds, the same trees.

// rankSet is the state of a Fit over ranks.
type rankSet struct {
	g        reduce.Ranks
	perRank  bool // FitOptions.BatchNormPerRank
	pcg      rand.PCG
	rng      *rand.Rand
	g32      gathered[float32]
	g64      gathered[float64]
	loss     [1]float64
	predSend []float32
	predRecv []float32
	predX    *tensor.Tensor
	predY    *tensor.Tensor
}

// ranksOf returns opt's ranks when there are several, nil otherwise.
func ranksOf(opt *FitOptions) reduce.Ranks {
	if opt.Ranks == nil || opt.Ranks.Size() < 2 {
		return nil
	}
	return opt.Ranks
}

// rankRows returns the rows of a batch [lo, hi) that rank r of n trains.
func rankRows(lo, hi, r, n int) (int, int) {
	b := hi - lo
	return lo + r*b/n, lo + (r+1)*b/n
}

// broadcastWeights makes every rank start from rank 0's weights and
// layer state.
func (m *Sequential) broadcastWeights(g reduce.Ranks) {
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			if w.Value.DType() == tensor.Float32 {
				g.Broadcast(w.Value.Float32s(), 0)
			} else {
				g.Broadcast64(w.Value.Float64s(), 0)
			}
		}
	}
}

// trainStepRanks is trainStep for this rank's rows xb, yb of a global
// batch of rows rows.
func (m *Sequential) trainStepRanks(xb, yb *tensor.Tensor, rows, epoch, step int) (float64, error) {
	b := &m.fit
	rs := &b.ranks
	g := rs.g
	tp := m.tape
	tp.SetShardGrads(false)
	tp.Reset()
	b.pcgBefore = *m.trainPCG
	rs.pcg.Seed(m.trainRng.Uint64(), uint64(g.Rank())) // dropout, as shard Rank would draw
	if rs.rng == nil {
		rs.rng = rand.New(&rs.pcg)
	}
	b.pass = layers.Pass{Tape: tp, Training: true, Rand: rs.rng, Shards: g, Replica: true}
	if rs.perRank {
		b.pass.Shards = nil // each rank's own statistics
	}
	b.outs = b.outs[:0]
	out := m.Forward(&b.pass, tp.Const(xb), m.lossWalk(&b.outs))
	l := m.loss
	if m.fusedLoss != nil {
		l = m.fusedLoss
	}
	var loss *autodiff.Var
	if b.wv != nil {
		loss = l.(losses.Weighted).ComputeWeighted(tp, out, yb, b.wv)
	} else {
		loss = l.Compute(tp, out, yb)
	}
	loss = nn.Scale(tp, loss, float64(xb.Dim(0))/float64(rows))
	if g.Rank() == 0 {
		loss = m.withPenalties(tp, loss)
	}
	rs.loss[0] = loss.Value.Item()
	g.AllReduce(rs.loss[:])
	lv := rs.loss[0]
	// Every rank runs its backward pass, whatever the loss: the others
	// meet it in batch normalization's backward sums.
	tp.Backward(loss)
	if math.IsNaN(lv) || math.IsInf(lv, 0) {
		return 0, m.lossError(b.outs, epoch, step)
	}
	m.sumRankGrads()
	if err := m.finishStep(epoch, step); err != nil {
		return 0, err
	}
	if err := m.rankMetrics(tp, out, yb, rows, epoch, step); err != nil {
		return 0, err
	}
	return lv, nil
}

// sumRankGrads gathers every rank's parameter gradients, packed into one
// buffer, and sets each parameter's Grad to their sum in Tree order.
func (m *Sequential) sumRankGrads() {
	rs := &m.fit.ranks
	params := m.stepParams()
	if m.DType == tensor.Float64 {
		rs.g64.sum(params, rs.g.Size(), rs.g.AllGather64)
	} else {
		rs.g32.sum(params, rs.g.Size(), rs.g.AllGather)
	}
}

// gathered holds the buffers of sumRankGrads for one float type.
type gathered[T float32 | float64] struct {
	send, recv []T
	parts      [][]T
}

// sum packs params' gradients, gathers every rank's with gather, and sets
// each Grad to their sum in Tree order.
func (b *gathered[T]) sum(params []*autodiff.Var, n int, gather func(send, recv []T)) {
	total := 0
	for _, p := range params {
		total += p.Value.Len()
	}
	b.send, b.recv = grow(b.send, total), grow(b.recv, n*total)
	off := 0
	for _, p := range params {
		off += copy(b.send[off:], values[T](p.Grad))
	}
	gather(b.send, b.recv)
	b.parts = b.parts[:0]
	for k := range n {
		b.parts = append(b.parts, b.recv[k*total:(k+1)*total])
	}
	reduce.Tree(b.parts)
	off = 0
	for _, p := range params {
		off += copy(values[T](p.Grad), b.parts[0][off:])
	}
}

// values returns t's elements as []T, which must be t's type.
func values[T float32 | float64](t *tensor.Tensor) []T {
	if v, ok := any(t.Float32s()).([]T); ok {
		return v
	}
	return any(t.Float64s()).([]T)
}

// rankMetrics updates the metrics with the predictions and labels of the
// whole global batch, gathered from the ranks (in float32, as metrics
// count), so that every rank's metrics are those of one process.
func (m *Sequential) rankMetrics(tp *autodiff.Tape, out *autodiff.Var, yb *tensor.Tensor, rows, epoch, step int) error {
	if len(m.metrics) == 0 {
		return nil
	}
	rs := &m.fit.ranks
	n := rs.g.Size()
	pred := m.predictions(tp, out).Value
	r := yb.Dim(0)
	pc, yc := pred.Len()/max(r, 1), yb.Len()/max(r, 1)
	if r == 0 {
		pc, yc = pred.Shape()[len(pred.Shape())-1], yb.Shape()[len(yb.Shape())-1]
	}
	most := (rows + n - 1) / n // the most rows a rank has
	width := 1 + most*(pc+yc)  // row count, predictions, labels
	rs.predSend, rs.predRecv = grow(rs.predSend, width), grow(rs.predRecv, n*width)
	clear(rs.predSend)
	rs.predSend[0] = float32(r)
	for i := range r * pc {
		rs.predSend[1+i] = float32(pred.Index(i))
	}
	for i := range r * yc {
		rs.predSend[1+most*pc+i] = float32(yb.Index(i))
	}
	rs.g.AllGather(rs.predSend, rs.predRecv)
	if rs.predX == nil || rs.predX.Dim(0) != rows || rs.predX.Len() != rows*pc || rs.predY.Len() != rows*yc {
		rs.predX = tensor.New(tensor.Float32, rows, pc)
		rs.predY = tensor.New(tensor.Float32, rows, yc)
		if yc == 1 && len(yb.Shape()) == 1 {
			rs.predY = tensor.New(tensor.Float32, rows)
		}
	}
	px, py := rs.predX.Float32s(), rs.predY.Float32s()
	at := 0
	for k := range n {
		blk := rs.predRecv[k*width : (k+1)*width]
		kr := int(blk[0])
		copy(px[at*pc:], blk[1:1+kr*pc])
		copy(py[at*yc:], blk[1+most*pc:1+most*pc+kr*yc])
		at += kr
	}
	return m.updateMetrics(rs.predX, rs.predY, epoch, step)
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
