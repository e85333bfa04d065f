package model

import (
	"fmt"
	"math"
	"strings"

	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/tensor"
)

// Training data: checking it against the model, and gathering each
// step's batch into reused buffers. x may be uint8 (tensor.FromUint8,
// e.g. image pixels): the gather converts its rows to the model's dtype,
// so the data stays in memory at one byte per element and no step
// allocates for it.

// batch gathers the rows idx of x and y into reused buffers, and those of
// the run's loss weights, when it has them, into the buffer trainStep
// reads (nil otherwise). The x buffer has the model's dtype whatever x's.
//
// A batch of more than one shard is only sized here: each shard copies its
// own rows, on its own goroutine (runShard).
func (m *Sequential) batch(x, y *tensor.Tensor, idx []int) (xb, yb *tensor.Tensor) {
	b := &m.fit
	xb0, yb0, wb0 := b.xb, b.yb, b.wb
	w := b.run.w
	lazy := b.shards.shardCount(len(idx)) > 1
	if lazy {
		b.gx, b.gy, b.gw, b.gidx, b.gnext = x, y, w, idx, nil
		b.xb = gatherInto(b.xb, x, m.DType, nil, len(idx))
		b.yb = gatherInto(b.yb, y, y.DType(), nil, len(idx))
		if w != nil {
			b.wb = gatherInto(b.wb, w, w.DType(), nil, len(idx))
		}
	} else {
		b.gidx, b.gnext = nil, nil
		b.xb = gatherInto(b.xb, x, m.DType, idx, len(idx))
		b.yb = gatherInto(b.yb, y, y.DType(), idx, len(idx))
		if w != nil {
			b.wb = gatherInto(b.wb, w, w.DType(), idx, len(idx))
		}
	}
	same := b.xb == xb0 && b.yb == yb0 && b.xv != nil && b.xv.Dim(0) == len(idx)
	if w == nil {
		b.wv = nil
	} else if !same || b.wb != wb0 || b.wv == nil || b.wv.Dim(0) != len(idx) {
		b.wv = b.wb.Rows(0, len(idx))
	}
	if same {
		return b.xv, b.yv // the same views as last step: no allocation
	}
	b.xv, b.yv = b.xb.Rows(0, len(idx)), b.yb.Rows(0, len(idx))
	return b.xv, b.yv
}

// gatherInto copies rows idx of src into dst, converted to dt (float32 or
// float64; src is dt or uint8), first making dst anew when it has fewer
// than n rows or another dtype or row size; it returns dst.
func gatherInto(dst, src *tensor.Tensor, dt tensor.DType, idx []int, n int) *tensor.Tensor {
	row := src.Len() / max(src.Dim(0), 1)
	if dst == nil || dst.Dim(0) < n || dst.DType() != dt || dst.Len()/max(dst.Dim(0), 1) != row {
		s := src.Shape().Clone()
		s[0] = n
		dst = tensor.New(dt, s...)
	}
	copyRows(dst, src, idx)
	return dst
}

// copyRows copies rows idx of src into the first rows of dst, which has
// src's dtype or, for a uint8 src, a float one the rows are converted to.
func copyRows(dst, src *tensor.Tensor, idx []int) {
	row := src.Len() / max(src.Dim(0), 1)
	if src.DType() == tensor.Uint8 {
		q, div := src.Uint8s(), src.Divisor()
		for i, k := range idx {
			convertRows(dst, i*row, q[k*row:(k+1)*row], div)
		}
		return
	}
	if d := dst.Float32s(); d != nil {
		s := src.Float32s()
		for i, k := range idx {
			copy(d[i*row:(i+1)*row], s[k*row:(k+1)*row])
		}
	} else {
		d, s := dst.Float64s(), src.Float64s()
		for i, k := range idx {
			copy(d[i*row:(i+1)*row], s[k*row:(k+1)*row])
		}
	}
}

// prefetch starts loading rows idx of x, the next batch's, into the
// caches while the current step runs. When the current step runs in
// shards (batch left their rows to them), each shard prefetches its own
// range of them on its own core, where it will copy them next step.
func (m *Sequential) prefetch(x *tensor.Tensor, idx []int) {
	b := &m.fit
	if b.gidx != nil && b.gx == x {
		b.gnext = idx
		return
	}
	b.gnext = nil
	prefetchRows(x, idx)
}

// prefetchRows asks the CPU to start loading rows idx of x into its
// caches (kernel.Prefetch), for the batch after the one in progress: a
// shuffled batch's rows lie scattered over a dataset much larger than
// the caches, and copying them from memory took a sixth of a founding
// model step at batch 32 (CPU profile of BenchmarkTrainStep).
func prefetchRows(x *tensor.Tensor, idx []int) {
	row := x.Len() / max(x.Dim(0), 1)
	switch {
	case x.Float32s() != nil:
		s := x.Float32s()
		for _, k := range idx {
			kernel.Prefetch(s[k*row : (k+1)*row])
		}
	case x.Uint8s() != nil:
		s := x.Uint8s()
		for _, k := range idx {
			kernel.Prefetch(s[k*row : (k+1)*row])
		}
	case x.Float64s() != nil:
		s := x.Float64s()
		for _, k := range idx {
			kernel.Prefetch(s[k*row : (k+1)*row])
		}
	}
}

// convertRows writes q/div, converted to dst's float dtype, into dst's
// elements from off on.
func convertRows(dst *tensor.Tensor, off int, q []uint8, div float32) {
	if d := dst.Float32s(); d != nil {
		kernel.Uint8ToFloat32(d[off:off+len(q)], q, div)
	} else {
		kernel.Uint8ToFloat64(dst.Float64s()[off:off+len(q)], q, div)
	}
}

// checkXY validates a dataset against the model and converts it to the
// model's dtype, except a uint8 x, which stays as it is: the batches
// convert it (batch, inference.input).
func (m *Sequential) checkXY(op string, x, y *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor, error) {
	if x == nil || y == nil {
		return nil, nil, fmt.Errorf("model: %s: x and y must not be nil", op)
	}
	if y.DType() == tensor.Uint8 {
		return nil, nil, fmt.Errorf("model: %s: y is uint8; targets must be float32 or float64 (uint8 is for inputs x)", op)
	}
	if x.Rank() < 2 || !x.Shape()[1:].Equal(m.inShape) {
		return nil, nil, fmt.Errorf("model: %s: x has shape %s; the model takes (samples, %s)", op, x.Shape(), strings.Trim(m.inShape.String(), "(,)"))
	}
	if y.Rank() < 1 || y.Dim(0) != x.Dim(0) {
		return nil, nil, fmt.Errorf("model: %s: x has %d samples but y has shape %s", op, x.Dim(0), y.Shape())
	}
	if x.DType() != tensor.Uint8 {
		x = x.As(m.DType)
	}
	y = y.As(m.DType)
	classes := m.outShape[len(m.outShape)-1]
	if m.loss != nil && losses.Sparse(m.loss) {
		if !(y.Rank() == 1 || y.Rank() == 2 && y.Dim(1) == 1) {
			return nil, nil, fmt.Errorf("model: %s: sparse labels must have shape (samples,), got %s", op, y.Shape())
		}
		for i := range y.Len() {
			v := y.Index(i)
			if v < 0 || v >= float64(classes) || v != math.Trunc(v) {
				return nil, nil, fmt.Errorf("model: %s: label %g of sample %d is not a class index in [0, %d)", op, v, i, classes)
			}
		}
		return x, y.Reshape(y.Dim(0)), nil
	}
	want := append(tensor.Shape{x.Dim(0)}, m.outShape...)
	if y.Rank() == 1 && want.Len() == y.Len() {
		y = y.Reshape(want...)
	}
	if !y.Shape().Equal(want) {
		return nil, nil, fmt.Errorf("model: %s: y has shape %s; the model outputs %s per sample, so want %s (one-hot labels for %d classes)", op, y.Shape(), m.outShape, want, classes)
	}
	if !y.AllFinite() {
		return nil, nil, fmt.Errorf("model: %s: y holds NaN or infinite values", op)
	}
	return x, y, nil
}
