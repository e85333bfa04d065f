package model

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/tensor"
)

// EvalOptions configures Evaluate and Predict; the zero value uses batches of 32.
type EvalOptions struct {
	BatchSize int
}

func (o EvalOptions) batch() (int, error) {
	if o.BatchSize < 0 {
		return 0, fmt.Errorf("model: batch size %d must be positive", o.BatchSize)
	}
	if o.BatchSize == 0 {
		return 32, nil
	}
	return o.BatchSize, nil
}

// inference is what one inference call needs, pooled: a no-grad tape and
// the Pass that points at it (kept beside the tape so that it does not
// escape to the heap on every call), the buffer a batch's input rows are
// converted or copied into, and the buffer a sliced batch's outputs are
// gathered in.
type inference struct {
	tape *autodiff.Tape
	pass layers.Pass
	x    rowBuf // a uint8 x's rows in the model's dtype, or a slice of a batch
	out  rowBuf // a sliced batch's outputs
	job  inferJob
}

// rowBuf is a buffer with cached views of its first rows for the last two
// row counts asked (a batch and the shorter last one), so that taking them
// allocates nothing once warm.
type rowBuf struct {
	buf   *tensor.Tensor
	views [2]*tensor.Tensor
}

// first returns a view of the first n rows of the buffer, (re)made with
// shape (n, row...) and dtype dt when it is too small or differs.
func (b *rowBuf) first(n int, dt tensor.DType, row tensor.Shape) *tensor.Tensor {
	if b.buf == nil || b.buf.Dim(0) < n || b.buf.DType() != dt || !b.buf.Shape()[1:].Equal(row) {
		b.buf = tensor.New(dt, append(tensor.Shape{n}, row...)...)
		b.views = [2]*tensor.Tensor{}
	}
	for _, v := range b.views {
		if v != nil && v.Dim(0) == n {
			return v
		}
	}
	v := b.buf.Rows(0, n)
	b.views[1], b.views[0] = b.views[0], v
	return v
}

// input returns rows [lo, hi) of x in the model's dtype dt: a view of x,
// or, for a uint8 x or when own is set, its rows converted or copied into
// in's buffer, which allocates nothing once warm.
func (in *inference) input(x *tensor.Tensor, lo, hi int, dt tensor.DType, own bool) *tensor.Tensor {
	if x.DType() != tensor.Uint8 && !own {
		if lo == 0 && hi == x.Dim(0) {
			return x // no view to allocate
		}
		return x.Rows(lo, hi)
	}
	v := in.x.first(hi-lo, dt, x.Shape()[1:])
	row := x.Len() / max(x.Dim(0), 1)
	if x.DType() == tensor.Uint8 {
		convertRows(v, 0, x.Uint8s()[lo*row:hi*row], x.Divisor())
	} else {
		copyFlat(v, 0, x, lo*row, hi*row)
	}
	return v
}

// copyFlat copies elements [from, to) of src, of dst's float dtype, into
// dst from element off.
func copyFlat(dst *tensor.Tensor, off int, src *tensor.Tensor, from, to int) {
	if d := dst.Float32s(); d != nil {
		copy(d[off:], src.Float32s()[from:to])
	} else {
		copy(dst.Float64s()[off:], src.Float64s()[from:to])
	}
}

// Inference of a large batch runs a slice of it at a time when the
// model's activations are large (a CNN's), so that one slice's activations
// stay in cache and memory holds one slice's, not the batch's: a CNN
// batch of 1000 MNIST images would hold over 200 MB. A sample's arithmetic
// does not depend on the other rows of its batch, so the bits are the same.
var (
	// inferBudget is the activation bytes a slice aims at.
	inferBudget = 4 << 20
	// inferMinRows is the fewest rows a slice has, however large the
	// activations: products of fewer rows run slower.
	inferMinRows = 8
)

// sliceRows returns the rows of a slice of an inference batch.
func (m *Sequential) sliceRows() int {
	return max(inferMinRows, inferBudget/max(m.rowBytes(), 1))
}

// rowBytes returns the bytes of one sample's input and activations.
func (m *Sequential) rowBytes() int {
	per := m.inShape.Len()
	for _, s := range m.shapes {
		per += s.Len()
	}
	return per * m.DType.Size()
}

// infer runs the model under walk on rows [lo, hi) of x on in's tape and
// returns the output: from one pass, or, for a batch of at least two
// slices, gathered from passes of about sliceRows rows each. Every pass has
// the same rows so that the tape reuses its buffers: the last one ends at
// hi and overlaps the one before, whose rows it recomputes but does not
// copy. With par, the passes are shared from the start with a helper
// goroutine per further core, each on a tape of its own, and their number
// is rounded up to a multiple of the goroutines so that none waits on the
// others at the end; a pass's products then run on its goroutine alone. A
// panic in any pass (a shape error) is raised again on the caller's
// goroutine once every pass has stopped.
func (m *Sequential) infer(in *inference, x *tensor.Tensor, lo, hi int, walk Walk, par bool) *autodiff.Var {
	tp := in.tape
	tp.Reset()
	rows := m.sliceRows()
	if hi-lo < 2*rows {
		return m.Forward(&in.pass, tp.Const(in.input(x, lo, hi, m.DType, false)), walk)
	}
	helpers := 0
	if par {
		helpers = min(runtime.GOMAXPROCS(0), (hi-lo+rows-1)/rows) - 1
	}
	rows = evenRows(hi-lo, rows, helpers+1)
	job := &in.job
	job.m, job.x, job.lo, job.hi, job.rows, job.walk, job.outBuf = m, x, lo, hi, rows, walk, &in.out
	job.next.Store(0)
	if helpers > 0 {
		kernel.SerialBegin()
		defer kernel.SerialEnd()
		job.wg.Add(helpers)
		for range helpers {
			go func() {
				defer job.wg.Done()
				h := m.getInference()
				defer m.tapes.Put(h)
				job.run(h)
			}()
		}
	}
	job.run(in)
	job.wg.Wait()
	out, p := job.out, job.panicked
	job.m, job.x, job.out, job.outBuf, job.panicked = nil, nil, nil, nil, nil // no references kept in the pool
	if p != nil {
		panic(p)
	}
	tp.Reset()
	return tp.Const(out)
}

// evenRows returns the rows per pass when w goroutines share n rows in
// passes of about rows rows: rows itself for one goroutine, else the rows
// that make the number of passes a multiple of w (at n = 100, rows = 11 and
// w = 2, ten passes of 10, not nine of 11 and a tenth that one goroutine
// runs while the other waits), unless that would go below inferMinRows.
func evenRows(n, rows, w int) int {
	if w <= 1 {
		return rows
	}
	passes := (n + rows - 1) / rows
	passes = (passes + w - 1) / w * w
	if r := (n + passes - 1) / passes; r >= inferMinRows {
		return r
	}
	return rows
}

// inferJob is the passes of one sliced inference batch, taken in turn by
// the goroutines that share them.
type inferJob struct {
	m        *Sequential
	x        *tensor.Tensor
	lo, hi   int
	rows     int
	walk     Walk
	outBuf   *rowBuf      // the caller's, which out is taken from
	next     atomic.Int64 // the next pass to take
	wg       sync.WaitGroup
	mu       sync.Mutex
	out      *tensor.Tensor // made by the first pass to finish
	panicked any            // the first pass's panic, if any
}

// run takes passes until none is left, running each on in's tape. A panic
// is recorded for the caller and ends this goroutine's share.
func (j *inferJob) run(in *inference) {
	defer func() {
		if r := recover(); r != nil {
			j.mu.Lock()
			if j.panicked == nil {
				j.panicked = r
			}
			j.mu.Unlock()
			j.next.Store(int64(j.hi)) // a pass index past the last (rows ≥ 1): the others stop at their next pass
		}
	}()
	for {
		s := j.lo + int(j.next.Add(1)-1)*j.rows
		if s >= j.hi {
			return
		}
		a := min(s, j.hi-j.rows)
		in.tape.Reset()
		y := j.m.Forward(&in.pass, in.tape.Const(in.input(j.x, a, a+j.rows, j.m.DType, true)), j.walk).Value
		per := y.Len() / j.rows
		copyFlat(j.output(y), (s-j.lo)*per, y, (s-a)*per, y.Len())
	}
}

// output returns the batch's output buffer, made from the caller's rowBuf
// with the shape of y's rows by the first pass to ask.
func (j *inferJob) output(y *tensor.Tensor) *tensor.Tensor {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.out == nil {
		j.out = j.outBuf.first(j.hi-j.lo, y.DType(), y.Shape()[1:])
	}
	return j.out
}

// getInference returns a pooled inference context, its tape reset.
func (m *Sequential) getInference() *inference {
	in, ok := m.tapes.Get().(*inference)
	if !ok {
		tp := autodiff.NewTape()
		tp.NoGrad = true
		in = &inference{tape: tp, pass: layers.Pass{Tape: tp}}
	}
	in.tape.Reset()
	return in
}

// Evaluate returns the loss and the compiled metrics on (x, y), computed in
// inference mode (batch norm uses its moving statistics). Keys are "loss"
// and each metric's name. x may be uint8 (tensor.FromUint8), converted a
// batch at a time; y must be float. It is safe to call from several
// goroutines.
func (m *Sequential) Evaluate(ctx context.Context, x, y *tensor.Tensor, opt EvalOptions) (res map[string]float64, err error) {
	return m.evaluate(ctx, x, y, nil, opt)
}

// evaluate is Evaluate with each sample's loss weighed by w (samples,),
// in the model's dtype, when w is not nil: the loss is then Σ wᵢ·Lᵢ / n,
// Keras's weighted validation loss. The metrics are not weighted.
func (m *Sequential) evaluate(ctx context.Context, x, y, w *tensor.Tensor, opt EvalOptions) (res map[string]float64, err error) {
	if ctx == nil {
		return nil, errNilContext("Evaluate")
	}
	if !m.compiled {
		return nil, ErrNotCompiled
	}
	if !m.built {
		return nil, ErrNotBuilt
	}
	bs, err := opt.batch()
	if err != nil {
		return nil, err
	}
	if x, y, err = m.checkXY("Evaluate", x, y); err != nil {
		return nil, err
	}
	n := x.Dim(0)
	if n == 0 {
		return nil, errors.New("model: Evaluate: no samples")
	}
	defer catchShape(&err)
	// Metrics are stateful; evaluate with fresh copies so that concurrent
	// calls and a running Fit do not share them.
	ms := make([]metrics.Metric, len(m.metrics))
	for i, mt := range m.metrics {
		c, err := metrics.ByName(mt.Name())
		if err != nil {
			c = mt // a custom metric: used as is
		}
		c.Reset()
		ms[i] = c
	}
	in := m.getInference()
	defer m.tapes.Put(in)
	tp := in.tape
	lossSum := 0.0
	for lo := 0; lo < n; lo += bs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("model: Evaluate: %w", err)
		}
		hi := min(lo+bs, n)
		yb := y.Rows(lo, hi)
		var wb *tensor.Tensor
		if w != nil {
			wb = w.Rows(lo, hi)
		}
		out := m.infer(in, x, lo, hi, m.lossWalk(nil), true)
		loss := m.lossOf(tp, out, yb, wb)
		lossSum += loss.Value.Item() * float64(hi-lo)
		pred := m.predictions(tp, out)
		for _, mt := range ms {
			if err := mt.Update(pred.Value, yb); err != nil {
				return nil, fmt.Errorf("model: Evaluate: %w", err)
			}
		}
	}
	res = map[string]float64{"loss": lossSum / float64(n)}
	for _, mt := range ms {
		res[mt.Name()] = mt.Result()
	}
	return res, nil
}

// Predict returns the model's outputs for x, (samples, outputs...), in
// inference mode. x may be uint8 (tensor.FromUint8), converted a batch at
// a time. It is safe to call from several goroutines.
func (m *Sequential) Predict(ctx context.Context, x *tensor.Tensor, opt EvalOptions) (out *tensor.Tensor, err error) {
	if ctx == nil {
		return nil, errNilContext("Predict")
	}
	if !m.built {
		return nil, ErrNotBuilt
	}
	bs, err := opt.batch()
	if err != nil {
		return nil, err
	}
	if x == nil || x.Rank() < 2 || !x.Shape()[1:].Equal(m.inShape) {
		var s tensor.Shape
		if x != nil {
			s = x.Shape()
		}
		return nil, fmt.Errorf("model: Predict: x has shape %s; the model takes (samples, %v)", s, m.inShape)
	}
	if x.DType() != tensor.Uint8 {
		x = x.As(m.DType)
	}
	defer catchShape(&err)
	n := x.Dim(0)
	out = tensor.New(m.DType, append(tensor.Shape{n}, m.outShape...)...)
	in := m.getInference()
	defer m.tapes.Put(in)
	for lo := 0; lo < n; lo += bs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("model: Predict: %w", err)
		}
		hi := min(lo+bs, n)
		y := m.infer(in, x, lo, hi, Walk{}, true)
		out.Rows(lo, hi).CopyFrom(y.Value)
	}
	return out, nil
}

// PredictInto writes the outputs for x into dst, which must have shape
// (samples, outputs...), using one batch. x has the model's dtype or is
// uint8 (tensor.FromUint8). It allocates nothing once warm, for
// low-latency serving.
func (m *Sequential) PredictInto(dst, x *tensor.Tensor) (err error) {
	if !m.built {
		return ErrNotBuilt
	}
	if x == nil || x.Rank() < 2 || !x.Shape()[1:].Equal(m.inShape) || x.DType() != m.DType && x.DType() != tensor.Uint8 {
		return fmt.Errorf("model: PredictInto: x must be %s or uint8 of shape (samples, %v)", m.DType, m.inShape)
	}
	if dst == nil || dst.DType() != m.DType || dst.Rank() < 1 || dst.Dim(0) != x.Dim(0) || dst.Len() != x.Dim(0)*m.outShape.Len() {
		return fmt.Errorf("model: PredictInto: dst must be %s of shape (%d, %v)", m.DType, x.Dim(0), m.outShape)
	}
	defer catchShape(&err)
	in := m.getInference()
	defer m.tapes.Put(in)
	y := m.infer(in, x, 0, x.Dim(0), Walk{}, false) // serial: helpers would allocate
	dst.CopyFrom(y.Value)
	return nil
}
