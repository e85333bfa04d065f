package model

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"

	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/tensor"
)

// Per-sample loss weights: FitOptions.SampleWeight and ClassWeight turned
// into one weight per training sample, which each step gathers with its
// batch (batch) and hands to the loss (lossOf).

// sampleWeights returns the weight of each of the n samples of x and y
// (before the validation split), in the model's dtype, or nil when opt
// sets neither SampleWeight nor ClassWeight. It follows Keras 3 for
// in-memory arrays: a class missing from ClassWeight weighs 1, and
// ClassWeight and SampleWeight together are an error.
func (m *Sequential) sampleWeights(y *tensor.Tensor, opt *FitOptions) (*tensor.Tensor, error) {
	sw, cw := opt.SampleWeight, opt.ClassWeight
	if sw == nil && cw == nil {
		return nil, nil
	}
	if sw != nil && cw != nil {
		return nil, errors.New("model: Fit: set SampleWeight or ClassWeight, not both (Keras 3 refuses the two together; multiply the class weights into the sample weights)")
	}
	if _, ok := m.loss.(losses.Weighted); !ok {
		return nil, fmt.Errorf("model: Fit: loss %s cannot weigh samples (it does not implement losses.Weighted), so SampleWeight and ClassWeight cannot be used with it", m.loss.Name())
	}
	if m.fusedLoss != nil {
		if _, ok := m.fusedLoss.(losses.Weighted); !ok {
			return nil, fmt.Errorf("model: Fit: loss %s fused with the output activation cannot weigh samples", m.fusedLoss.Name())
		}
	}
	n := y.Dim(0)
	if sw != nil {
		if sw.DType() == tensor.Uint8 {
			return nil, errors.New("model: Fit: SampleWeight is uint8; weights must be float32 or float64 (uint8 is for inputs x)")
		}
		if !(sw.Rank() == 1 || sw.Rank() == 2 && sw.Dim(1) == 1) || sw.Dim(0) != n {
			return nil, fmt.Errorf("model: Fit: SampleWeight has shape %s; want (%d,), one weight per sample", sw.Shape(), n)
		}
		if !sw.AllFinite() {
			return nil, errors.New("model: Fit: SampleWeight holds NaN or infinite values")
		}
		return sw.As(m.DType).Reshape(n).Clone(), nil
	}
	if y.Rank() > 2 {
		return nil, fmt.Errorf("model: Fit: ClassWeight needs targets of shape (samples,) or (samples, classes), got %s", y.Shape())
	}
	for k, v := range cw {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("model: Fit: ClassWeight[%d] = %g is not finite", k, v)
		}
	}
	w := tensor.New(m.DType, n)
	for i := range n {
		c, ok := cw[sampleClass(y, i)]
		if !ok {
			c = 1
		}
		w.SetIndex(i, c)
	}
	return w, nil
}

// sampleClass returns sample i's class as Keras 3 reads it off the
// targets: the argmax of a row of several columns (one-hot or soft),
// otherwise the value rounded (a class index, or a binary 0/1 target).
func sampleClass(y *tensor.Tensor, i int) int {
	if y.Rank() == 2 && y.Dim(1) > 1 {
		c := y.Dim(1)
		best := 0
		for j := 1; j < c; j++ {
			if y.Index(i*c+j) > y.Index(i*c+best) {
				best = j
			}
		}
		return best
	}
	return int(math.RoundToEven(y.Index(i)))
}

// weightsSHA256 hashes the training samples' weights and the held-out
// ones' (nil when none weigh the validation loss), for a checkpoint to
// tell whether a resumed run weighs its samples the same.
func weightsSHA256(train, held *tensor.Tensor) string {
	h := sha256.New()
	var b [8]byte
	for _, w := range []*tensor.Tensor{train, held} {
		if w == nil {
			h.Write([]byte("none;"))
			continue
		}
		fmt.Fprintf(h, "%d;", w.Len())
		for i := range w.Len() {
			bits := math.Float64bits(w.Index(i))
			for k := range b {
				b[k] = byte(bits >> (8 * k))
			}
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
