package metrics_test

import (
	"encoding"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/tensor"
)

func update(t *testing.T, m metrics.Metric, pred, target *tensor.Tensor) {
	t.Helper()
	if err := m.Update(pred, target); err != nil {
		t.Fatal(err)
	}
}

// TestPrecisionRecall: predictions 0.9 0.2 0.6 0.4 0.7 0.5 against
// targets 1 1 0 1 1 0 at threshold 0.5 give TP 2 (0.9, 0.7), FP 1 (0.6),
// FN 2 (0.2, 0.4); 0.5 is not above 0.5.
func TestPrecisionRecall(t *testing.T) {
	pred := tensor.FromFloat32([]float32{0.9, 0.2, 0.6, 0.4, 0.7, 0.5}, 6, 1)
	target := tensor.FromFloat64([]float64{1, 1, 0, 1, 1, 0}, 6)
	p, r := metrics.NewPrecision(), metrics.NewRecall()
	update(t, p, pred, target)
	update(t, r, pred, target)
	if got, want := p.Result(), 2.0/3; got != want {
		t.Errorf("precision: got %v, want %v", got, want)
	}
	if got, want := r.Result(), 2.0/4; got != want {
		t.Errorf("recall: got %v, want %v", got, want)
	}
	// A second batch, threshold 0.1: 0.2 and 0.4 become positives.
	p.Threshold, r.Threshold = 0.1, 0.1
	update(t, p, pred, target)
	update(t, r, pred, target)
	if got, want := p.Result(), (2.0+4)/(3+6); got != want {
		t.Errorf("precision after two batches: got %v, want %v", got, want)
	}
	if got, want := r.Result(), (2.0+4)/(4+4); got != want {
		t.Errorf("recall after two batches: got %v, want %v", got, want)
	}
	p.Reset()
	if p.Result() != 0 {
		t.Errorf("precision after Reset: got %v, want 0", p.Result())
	}
	if err := p.Update(pred, tensor.New(tensor.Float64, 5)); err == nil || !strings.Contains(err.Error(), "metrics: precision: prediction shape (6, 1) and target shape (5,)") {
		t.Errorf("mismatched shapes: got error %v", err)
	}
}

// TestAUCThreeThresholds works Keras's rule out by hand with thresholds
// −ε, 0.5, 1+ε. Predictions 0.2 0.7 0.9 0.4 against targets 0 1 0 1:
// (FPR, TPR) = (1, 1), (0.5, 0.5), (0, 0), so the ROC trapezoids give
// 0.5·0.75 + 0.5·0.25 = 0.5; the PR interpolation gives 0.25 on each
// interval (slope ½, intercept 0), 0.5 in all. Case (b): targets
// 0 1 1 0 are separated perfectly at 0.5, area 1.
func TestAUCThreeThresholds(t *testing.T) {
	pred := tensor.FromFloat64([]float64{0.2, 0.7, 0.9, 0.4}, 4)
	for _, c := range []struct {
		curve  string
		target []float64
		want   float64
	}{
		{"ROC", []float64{0, 1, 0, 1}, 0.5},
		{"ROC", []float64{0, 1, 1, 0}, 1},
		{"PR", []float64{0, 1, 0, 1}, 0.5},
		// Targets 1 0 0 1: above 0.5 are 0.7 and 0.9, both negatives, so
		// (FPR, TPR) = (1, 1), (1, 0), (0, 0): area 0·½ + 1·0 = 0.
		{"ROC", []float64{1, 0, 0, 1}, 0},
		{"", []float64{0, 1, 1, 0}, 1}, // the empty curve is ROC
		// PR, targets 1 0 0 1: TP 2 2→0 0, P = TP+FP 4, 2, 0. First
		// interval: slope ΔTP/ΔP = 1, intercept 0 − 1·2 = −2, area
		// 1·(2 − 2·log 2)/(TP+FN = 2) = 1 − log 2; second: ΔTP = 0.
		{"PR", []float64{1, 0, 0, 1}, 1 - math.Log(2)},
	} {
		m := metrics.NewAUC()
		m.NumThresholds, m.Curve = 3, c.curve
		update(t, m, pred, tensor.FromFloat64(c.target, 4))
		if got := m.Result(); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%q %v: got %v, want %v", c.curve, c.target, got, c.want)
		}
	}
}

// TestAUCMatchesRankStatistic puts each prediction strictly between two
// of Keras's 200 thresholds, in its own interval, where the trapezoidal
// ROC area equals the exact one: the share of (positive, negative) pairs
// ranked correctly (Mann–Whitney).
func TestAUCMatchesRankStatistic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 120
	bins := rng.Perm(199)[:n]
	pred, target := make([]float64, n), make([]float64, n)
	for i, b := range bins {
		pred[i] = (float64(b) + 0.5) / 199
		target[i] = float64(rng.IntN(2))
	}
	var good, pairs float64
	for i := range n {
		for j := range n {
			if target[i] == 1 && target[j] == 0 {
				pairs++
				if pred[i] > pred[j] {
					good++
				}
			}
		}
	}
	m := metrics.NewAUC()
	update(t, m, tensor.FromFloat64(pred[:60], 60), tensor.FromFloat64(target[:60], 60))
	update(t, m, tensor.FromFloat64(pred[60:], 60), tensor.FromFloat64(target[60:], 60))
	if got, want := m.Result(), good/pairs; math.Abs(got-want) > 1e-12 {
		t.Errorf("got %.15g, want %.15g", got, want)
	}
}

func TestAUCValidates(t *testing.T) {
	m := metrics.NewAUC()
	m.Curve = "roc"
	if err := m.Update(tensor.New(tensor.Float64, 2), tensor.New(tensor.Float64, 2)); err == nil || !strings.Contains(err.Error(), `metrics: auc: curve "roc", want ROC or PR`) {
		t.Errorf("got error %v", err)
	}
	m = &metrics.AUC{}
	if err := m.Update(tensor.New(tensor.Float64, 2), tensor.New(tensor.Float64, 2)); err == nil || !strings.Contains(err.Error(), "metrics: auc: 0 thresholds, want at least 2") {
		t.Errorf("got error %v", err)
	}
}

// TestTopK: rows of 4 classes, K 2. Row 0: class 1 (0.3) has one larger
// (0.5): in. Row 1: class 3 (0.1) has three larger: out. Row 2: class 0
// (0.2) ties with class 2 for second place behind 0.6: in (ties count).
func TestTopK(t *testing.T) {
	pred := tensor.FromFloat64([]float64{
		0.5, 0.3, 0.1, 0.1,
		0.4, 0.3, 0.2, 0.1,
		0.2, 0.6, 0.2, 0.0}, 3, 4)
	onehot := tensor.FromFloat64([]float64{0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0}, 3, 4)
	sparse := tensor.FromFloat64([]float64{1, 3, 0}, 3, 1)
	a, s := metrics.NewTopKCategoricalAccuracy(), metrics.NewSparseTopKCategoricalAccuracy()
	if a.K != 5 || s.K != 5 {
		t.Fatalf("default K %d, %d; want 5", a.K, s.K)
	}
	update(t, a, pred, onehot) // K 5 > 4 classes: all in
	if got := a.Result(); got != 1 {
		t.Errorf("K 5: got %v, want 1", got)
	}
	a.Reset()
	a.K, s.K = 2, 2
	update(t, a, pred, onehot)
	update(t, s, pred, sparse)
	for _, m := range []metrics.Metric{a, s} {
		if got, want := m.Result(), 2.0/3; got != want {
			t.Errorf("%s K 2: got %v, want %v", m.Name(), got, want)
		}
	}
	s.K = 1
	s.Reset()
	update(t, s, pred, tensor.FromFloat64([]float64{0, 1, 1}, 3)) // row 1: 0.3 is not the largest
	if got, want := s.Result(), 2.0/3; got != want {
		t.Errorf("K 1: got %v, want %v", got, want)
	}
	s.K = 0
	if err := s.Update(pred, sparse); err == nil || !strings.Contains(err.Error(), "k 0, want at least 1") {
		t.Errorf("K 0: got error %v", err)
	}
}

// TestNewMetricsState saves each new metric's state part way through,
// restores it into a fresh one that has seen other data, and checks that
// both then agree bit for bit; a state of the wrong size is rejected.
func TestNewMetricsState(t *testing.T) {
	bp := tensor.FromFloat64([]float64{0.9, 0.2, 0.6, 0.4, 0.7, 0.5}, 6)
	bt := tensor.FromFloat64([]float64{1, 1, 0, 1, 1, 0}, 6)
	cp := tensor.FromFloat64([]float64{0.5, 0.3, 0.2, 0.1, 0.6, 0.3}, 2, 3)
	ct := tensor.FromFloat64([]float64{0, 1, 0, 0, 0, 1}, 2, 3)
	for _, c := range []struct {
		mk           func() metrics.Metric
		pred, target *tensor.Tensor
	}{
		{func() metrics.Metric { return metrics.NewPrecision() }, bp, bt},
		{func() metrics.Metric { return metrics.NewRecall() }, bp, bt},
		{func() metrics.Metric { return metrics.NewAUC() }, bp, bt},
		{func() metrics.Metric { m := metrics.NewAUC(); m.Curve = "PR"; return m }, bp, bt},
		{func() metrics.Metric { m := metrics.NewTopKCategoricalAccuracy(); m.K = 1; return m }, cp, ct},
		{func() metrics.Metric { m := metrics.NewSparseTopKCategoricalAccuracy(); m.K = 1; return m }, cp, tensor.FromFloat64([]float64{1, 0}, 2)},
	} {
		a, b := c.mk(), c.mk()
		update(t, a, c.pred, c.target)
		update(t, a, c.pred, c.target)
		update(t, b, c.pred, c.target)
		st, err := a.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := b.(encoding.BinaryUnmarshaler).UnmarshalBinary(st); err != nil {
			t.Fatalf("%s: %v", a.Name(), err)
		}
		for i := range 2 {
			if ra, rb := a.Result(), b.Result(); ra != rb {
				t.Fatalf("%s after %d more updates: restored %v, original %v", a.Name(), i, rb, ra)
			}
			update(t, a, c.pred, c.target)
			update(t, b, c.pred, c.target)
		}
		if err := b.(encoding.BinaryUnmarshaler).UnmarshalBinary(st[:len(st)-1]); err == nil {
			t.Errorf("%s: a truncated state was accepted", a.Name())
		}
	}
}

func TestNewMetricsAllocateNothing(t *testing.T) {
	bp := tensor.FromFloat32([]float32{0.9, 0.2, 0.6, 0.4}, 4)
	bt := tensor.FromFloat32([]float32{1, 1, 0, 1}, 4)
	cp := tensor.FromFloat64([]float64{0.5, 0.3, 0.2, 0.1, 0.6, 0.3}, 2, 3)
	ct := tensor.FromFloat64([]float64{0, 1, 0, 0, 0, 1}, 2, 3)
	for _, c := range []struct {
		m            metrics.Metric
		pred, target *tensor.Tensor
	}{
		{metrics.NewPrecision(), bp, bt},
		{metrics.NewRecall(), bp, bt},
		{metrics.NewAUC(), bp, bt},
		{metrics.NewTopKCategoricalAccuracy(), cp, ct},
		{metrics.NewSparseTopKCategoricalAccuracy(), cp, tensor.FromFloat64([]float64{1, 0}, 2)},
	} {
		update(t, c.m, c.pred, c.target)
		if got := testing.AllocsPerRun(10, func() { c.m.Update(c.pred, c.target) }); got != 0 {
			t.Errorf("%s: %v allocations per Update, want 0", c.m.Name(), got)
		}
	}
}

// TestThresholdInPredictionDType: a float32 prediction of 0.1 is not above
// a threshold of 0.1, compared in float32 as Keras compares it, although
// float32(0.1) > 0.1 in float64.
func TestThresholdInPredictionDType(t *testing.T) {
	p := metrics.NewPrecision()
	p.Threshold = 0.1
	update(t, p, tensor.FromFloat32([]float32{0.1, 0.5}, 2), tensor.FromFloat32([]float32{0, 1}, 2))
	if got := p.Result(); got != 1 {
		t.Errorf("got precision %v, want 1 (0.1 is not a positive)", got)
	}
}
