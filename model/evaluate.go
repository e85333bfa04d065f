package model

import (
	"context"
	"errors"
	"fmt"

	"github.com/myelin-go/myelin/autodiff"
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
// escape to the heap on every call), and the buffer a uint8 x's batches
// are converted into.
type inference struct {
	tape *autodiff.Tape
	pass layers.Pass
	xbuf *tensor.Tensor // a uint8 x's batch in the model's dtype
	xv   *tensor.Tensor // the view of xbuf's first rows that input returned last
}

// input returns rows [lo, hi) of x in the model's dtype dt: a view of x,
// or, for a uint8 x, its rows converted into in's buffer, which allocates
// nothing once the buffer is large enough and the row count repeats.
func (in *inference) input(x *tensor.Tensor, lo, hi int, dt tensor.DType) *tensor.Tensor {
	if x.DType() != tensor.Uint8 {
		return x.Rows(lo, hi)
	}
	n := hi - lo
	buf := in.xbuf
	in.xbuf = gatherInto(in.xbuf, x, dt, nil, n) // sized only: no rows given
	if in.xbuf != buf || in.xv == nil || in.xv.Dim(0) != n {
		in.xv = in.xbuf.Rows(0, n)
	}
	row := x.Len() / max(x.Dim(0), 1)
	convertRows(in.xv, 0, x.Uint8s()[lo*row:hi*row], x.Divisor())
	return in.xv
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
	tp, p := in.tape, &in.pass
	lossSum := 0.0
	for lo := 0; lo < n; lo += bs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("model: Evaluate: %w", err)
		}
		hi := min(lo+bs, n)
		tp.Reset()
		xb, yb := in.input(x, lo, hi, m.DType), y.Rows(lo, hi)
		var wb *tensor.Tensor
		if w != nil {
			wb = w.Rows(lo, hi)
		}
		out := m.Forward(p, tp.Const(xb), m.lossWalk(nil))
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
	tp, p := in.tape, &in.pass
	for lo := 0; lo < n; lo += bs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("model: Predict: %w", err)
		}
		hi := min(lo+bs, n)
		tp.Reset()
		y := m.Forward(p, tp.Const(in.input(x, lo, hi, m.DType)), Walk{})
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
	tp, p := in.tape, &in.pass
	if x.DType() == tensor.Uint8 {
		x = in.input(x, 0, x.Dim(0), m.DType)
	}
	y := m.Forward(p, tp.Const(x), Walk{})
	dst.CopyFrom(y.Value)
	return nil
}
