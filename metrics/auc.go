package metrics

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/myelin-go/myelin/tensor"
)

// AUC is the area under the ROC curve (or, with Curve "PR", the
// precision–recall curve), estimated as Keras's keras.metrics.AUC does:
// the true and false positives and negatives are counted at
// NumThresholds thresholds, evenly spaced in [0, 1] with the end ones
// moved to −ε and 1+ε (ε = 1e-7) so that predictions of exactly 0 and 1
// fall inside, and the area is summed between neighbouring thresholds
// with Keras's default summation_method "interpolation":
//
//   - ROC: the trapezoidal rule on (FPR, TPR), TPR = TP/(TP+FN),
//     FPR = FP/(FP+TN) (0 where the denominator is 0);
//   - PR: Davis and Goadrich's (2006) interpolation of precision between
//     thresholds, as Keras's interpolate_pr_auc computes it.
//
// A prediction above a threshold (rounded to the prediction's dtype, as
// Keras's thresholds are) is positive there; a target is positive
// when it is not 0. Every element counts once (multi-label targets are
// pooled, Keras's multi_label=False). Counts are exact integers where
// Keras accumulates float32.
type AUC struct {
	NumThresholds int    // at least 2; Keras's default 200; changing it resets the counts
	Curve         string // "ROC" (the default when empty) or "PR"

	tp, fp, tn, fn []int64 // per threshold
}

// NewAUC returns AUC with Keras's defaults: 200 thresholds, the ROC curve.
func NewAUC() *AUC { return &AUC{NumThresholds: 200, Curve: "ROC"} }

// Name returns "auc".
func (m *AUC) Name() string { return "auc" }

// Reset forgets every update.
func (m *AUC) Reset() {
	for _, s := range [][]int64{m.tp, m.fp, m.tn, m.fn} {
		clear(s)
	}
}

// thresholdAt returns threshold i of n, Keras's: −ε, 1/(n−1), …, (n−2)/(n−1), 1+ε.
func thresholdAt(i, n int) float64 {
	switch i {
	case 0:
		return -1e-7
	case n - 1:
		return 1 + 1e-7
	}
	return float64(i) / float64(n-1)
}

func (m *AUC) check() error {
	if m.NumThresholds < 2 {
		return fmt.Errorf("metrics: auc: %d thresholds, want at least 2", m.NumThresholds)
	}
	if m.Curve != "" && m.Curve != "ROC" && m.Curve != "PR" {
		return fmt.Errorf("metrics: auc: curve %q, want ROC or PR", m.Curve)
	}
	if len(m.tp) != m.NumThresholds {
		m.tp, m.fp = make([]int64, m.NumThresholds), make([]int64, m.NumThresholds)
		m.tn, m.fn = make([]int64, m.NumThresholds), make([]int64, m.NumThresholds)
	}
	return nil
}

// Update adds a batch of predictions in [0, 1] and targets of the same
// shape (up to a trailing axis of 1). It allocates the counts on the
// first call.
func (m *AUC) Update(pred, target *tensor.Tensor) error {
	if err := m.check(); err != nil {
		return err
	}
	if !pred.Shape().EqualUpToTrailingOne(target.Shape()) {
		return shapeError(m.Name(), pred, target, "want equal shapes (up to a trailing axis of 1)")
	}
	n, dt := m.NumThresholds, pred.DType()
	for i := range pred.Len() {
		p, t := pred.Index(i), target.Index(i) != 0
		for k := range n {
			above := p > inDType(thresholdAt(k, n), dt)
			switch {
			case above && t:
				m.tp[k]++
			case above:
				m.fp[k]++
			case t:
				m.fn[k]++
			default:
				m.tn[k]++
			}
		}
	}
	return nil
}

// Result returns the area so far, or 0 before the first update.
func (m *AUC) Result() float64 {
	if len(m.tp) < 2 {
		return 0
	}
	if m.Curve == "PR" {
		return m.prArea()
	}
	div := func(a, b int64) float64 { return ratio(a, b) }
	var area float64
	for k := 0; k+1 < len(m.tp); k++ {
		x0, x1 := div(m.fp[k], m.fp[k]+m.tn[k]), div(m.fp[k+1], m.fp[k+1]+m.tn[k+1])
		y0, y1 := div(m.tp[k], m.tp[k]+m.fn[k]), div(m.tp[k+1], m.tp[k+1]+m.fn[k+1])
		area += (x0 - x1) * (y0 + y1) / 2
	}
	return area
}

// prArea is Keras's interpolate_pr_auc: between thresholds k and k+1,
// precision is interpolated as a function of the number of predicted
// positives p = TP+FP, with slope s = ΔTP/Δp and intercept
// c = TP[k+1] − s·p[k+1], and the area is
// s·(ΔTP + c·log(p[k]/p[k+1]))/(TP[k+1]+FN[k+1]).
func (m *AUC) prArea() float64 {
	noNaN := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	var area float64
	for k := 0; k+1 < len(m.tp); k++ {
		dtp := float64(m.tp[k] - m.tp[k+1])
		p0, p1 := float64(m.tp[k]+m.fp[k]), float64(m.tp[k+1]+m.fp[k+1])
		slope := noNaN(dtp, max(p0-p1, 0))
		intercept := float64(m.tp[k+1]) - slope*p1
		ratio := 1.0
		if p0 > 0 && p1 > 0 {
			ratio = noNaN(p0, max(p1, 0))
		}
		area += noNaN(slope*(dtp+intercept*math.Log(ratio)), max(float64(m.tp[k+1]+m.fn[k+1]), 0))
	}
	return area
}

// MarshalBinary returns the number of thresholds and the four count
// arrays (TP, FP, TN, FN), as little-endian uint64s. The curve is
// configuration, not state.
func (m *AUC) MarshalBinary() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	b := binary.LittleEndian.AppendUint64(make([]byte, 0, 8+32*m.NumThresholds), uint64(m.NumThresholds))
	for _, s := range [][]int64{m.tp, m.fp, m.tn, m.fn} {
		for _, v := range s {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	}
	return b, nil
}

// UnmarshalBinary restores counts written by MarshalBinary; the number of
// thresholds must be m's. On an error m is unchanged.
func (m *AUC) UnmarshalBinary(b []byte) error {
	if err := m.check(); err != nil {
		return err
	}
	n := m.NumThresholds
	if len(b) != 8+32*n || binary.LittleEndian.Uint64(b) != uint64(n) {
		return fmt.Errorf("metrics: auc: state of %d bytes is not one of %d thresholds", len(b), n)
	}
	vals := make([]int64, 4*n)
	for i := range vals {
		vals[i] = int64(binary.LittleEndian.Uint64(b[8+8*i:]))
		if vals[i] < 0 {
			return fmt.Errorf("metrics: auc: state: negative count %d", vals[i])
		}
	}
	for k, s := range [][]int64{m.tp, m.fp, m.tn, m.fn} {
		copy(s, vals[k*n:])
	}
	return nil
}
