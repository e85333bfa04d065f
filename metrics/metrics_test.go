package metrics_test

import (
	"math"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/tensor"
)

func f64(shape []int, data ...float64) *tensor.Tensor { return tensor.FromFloat64(data, shape...) }

func TestAccuracies(t *testing.T) {
	probs := f64([]int{4, 3},
		0.1, 0.7, 0.2, // 1
		0.5, 0.5, 0.0, // tie: 0
		0.2, 0.2, 0.6, // 2
		0.3, 0.3, 0.3) // three-way tie: 0
	onehot := f64([]int{4, 3},
		0, 1, 0,
		0, 1, 0,
		0, 0, 1,
		1, 0, 0)
	labels := f64([]int{4}, 1, 1, 2, 0)
	labelsCol := f64([]int{4, 1}, 1, 1, 2, 0)
	binPred := f64([]int{5, 1}, 0.9, 0.5, 0.51, 0.1, 0.7)
	binTarget := f64([]int{5}, 1, 0, 0, 0, 0.99) // 0.5 is not above the threshold; 0.99 never matches
	for _, c := range []struct {
		name         string
		m            metrics.Metric
		pred, target *tensor.Tensor
		want         float64
	}{
		{"categorical", metrics.NewCategoricalAccuracy(), probs, onehot, 0.75},
		{"sparse", metrics.NewSparseCategoricalAccuracy(), probs, labels, 0.75},
		{"sparse/column", metrics.NewSparseCategoricalAccuracy(), probs, labelsCol, 0.75},
		{"binary", metrics.NewBinaryAccuracy(), binPred, binTarget, 0.6},
		{"binary/threshold", &metrics.BinaryAccuracy{Threshold: 0.8}, binPred, binTarget, 0.8},
		{"binary/elements", metrics.NewBinaryAccuracy(), probs, onehot, 10.0 / 12},
		{"accuracy/categorical", metrics.NewAccuracy(), probs, onehot, 0.75},
		{"accuracy/sparse", metrics.NewAccuracy(), probs, labels, 0.75},
		{"accuracy/sparse/column", metrics.NewAccuracy(), probs, labelsCol, 0.75},
		{"accuracy/binary", metrics.NewAccuracy(), binPred, binTarget, 0.6},
		{"accuracy/binary/rank1", metrics.NewAccuracy(), binPred.Reshape(5), binTarget, 0.6},
		{"categorical/float32", metrics.NewCategoricalAccuracy(), probs.As(tensor.Float32), onehot, 0.75},
		{"sparse/float32 labels", metrics.NewSparseCategoricalAccuracy(), probs, labels.As(tensor.Float32), 0.75},
		{"binary/float32", metrics.NewBinaryAccuracy(), binPred.As(tensor.Float32), binTarget.As(tensor.Float32), 0.6},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.m.Update(c.pred, c.target); err != nil {
				t.Fatal(err)
			}
			if got := c.m.Result(); math.Abs(got-c.want) > 1e-15 {
				t.Errorf("pred %v, target %v: got %v, want %v", c.pred, c.target, got, c.want)
			}
			c.m.Reset()
			if got := c.m.Result(); got != 0 {
				t.Errorf("after Reset: got %v, want 0", got)
			}
		})
	}
}

// TestWeightedByBatchSize checks that a batch weighs in by its size: 3 of
// 3 right, then 0 of 1, is 0.75, not the mean of 1 and 0.
func TestWeightedByBatchSize(t *testing.T) {
	m := metrics.NewSparseCategoricalAccuracy()
	if err := m.Update(f64([]int{3, 2}, 1, 0, 0, 1, 1, 0), f64([]int{3}, 0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := m.Update(f64([]int{1, 2}, 1, 0), f64([]int{1}, 1)); err != nil {
		t.Fatal(err)
	}
	if got := m.Result(); got != 0.75 {
		t.Errorf("got %v, want 0.75", got)
	}
}

func TestArgmaxNaN(t *testing.T) {
	m := metrics.NewSparseCategoricalAccuracy()
	// NumPy's argmax returns the first NaN.
	if err := m.Update(f64([]int{2, 3}, 0.9, math.NaN(), 0.1, math.NaN(), 0.5, 0.9), f64([]int{2}, 1, 0)); err != nil {
		t.Fatal(err)
	}
	if got := m.Result(); got != 1 {
		t.Errorf("got %v, want 1", got)
	}
}

func TestShapeErrors(t *testing.T) {
	for _, c := range []struct {
		m            metrics.Metric
		pred, target *tensor.Tensor
		want         string
	}{
		{metrics.NewCategoricalAccuracy(), tensor.New(tensor.Float32, 32, 10), tensor.New(tensor.Float32, 32, 9),
			"metrics: categorical_accuracy: prediction shape (32, 10) and target shape (32, 9) do not fit"},
		{metrics.NewSparseCategoricalAccuracy(), tensor.New(tensor.Float32, 32, 10), tensor.New(tensor.Float32, 31),
			"metrics: sparse_categorical_accuracy: prediction shape (32, 10) and target shape (31,) do not fit"},
		{metrics.NewBinaryAccuracy(), tensor.New(tensor.Float32, 8, 2), tensor.New(tensor.Float32, 8),
			"metrics: binary_accuracy: prediction shape (8, 2) and target shape (8,) do not fit"},
		{metrics.NewAccuracy(), tensor.New(tensor.Float32, 4, 3), tensor.New(tensor.Float32, 4, 2),
			"metrics: accuracy: prediction shape (4, 3) and target shape (4, 2) do not fit"},
		{metrics.NewCategoricalAccuracy(), tensor.New(tensor.Float32, 4, 0), tensor.New(tensor.Float32, 4, 0),
			"at least one class"},
		{metrics.NewMean("loss"), tensor.New(tensor.Float32, 4), tensor.New(tensor.Float32, 3),
			"metrics: loss: values shape (4,) and weights shape (3,) do not fit"},
	} {
		err := c.m.Update(c.pred, c.target)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s.Update(%s, %s): got error %v, want one containing %q", c.m.Name(), c.pred.Shape(), c.target.Shape(), err, c.want)
		}
		if got := c.m.Result(); got != 0 {
			t.Errorf("%s: a failed Update changed the result to %v", c.m.Name(), got)
		}
	}
}

func TestUpdateAllocatesNothing(t *testing.T) {
	probs := tensor.New(tensor.Float32, 32, 10)
	onehot := tensor.New(tensor.Float32, 32, 10)
	labels := tensor.New(tensor.Float64, 32)
	for i := range 32 {
		probs.Set(1, i, (i*7)%10)
		onehot.Set(1, i, i%10)
		labels.SetIndex(i, float64(i%10))
	}
	bin := tensor.New(tensor.Float32, 32, 1)
	for _, c := range []struct {
		m            metrics.Metric
		pred, target *tensor.Tensor
	}{
		{metrics.NewAccuracy(), probs, onehot},
		{metrics.NewAccuracy(), probs, labels},
		{metrics.NewAccuracy(), bin, labels},
		{metrics.NewCategoricalAccuracy(), probs, onehot},
		{metrics.NewSparseCategoricalAccuracy(), probs, labels},
		{metrics.NewBinaryAccuracy(), bin, labels},
		{metrics.NewMean("loss"), labels, nil},
		{metrics.NewMean("loss"), labels, labels},
	} {
		if got := testing.AllocsPerRun(20, func() {
			if err := c.m.Update(c.pred, c.target); err != nil {
				t.Fatal(err)
			}
		}); got != 0 {
			t.Errorf("%s: got %v allocations per Update, want 0", c.m.Name(), got)
		}
	}
}

func TestMean(t *testing.T) {
	m := metrics.NewMean("loss")
	m.Add(2, 32)
	m.Add(5, 8) // a short last batch
	if got, want := m.Result(), (2*32+5*8)/40.0; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	if err := m.Update(f64([]int{2}, 1, 3), f64([]int{2, 1}, 0, 10)); err != nil {
		t.Fatal(err)
	}
	if got, want := m.Result(), (2*32+5*8+3*10)/50.0; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	m.Reset()
	if err := m.Update(f64([]int{3}, 1, 2, 6), nil); err != nil {
		t.Fatal(err)
	}
	if got := m.Result(); got != 3 {
		t.Errorf("got %v, want 3", got)
	}
	if got := m.Name(); got != "loss" {
		t.Errorf("Name() = %q, want loss", got)
	}
	var zero metrics.Mean
	if zero.Name() != "mean" || zero.Result() != 0 {
		t.Errorf("zero Mean: Name %q, Result %v; want mean, 0", zero.Name(), zero.Result())
	}
}

func TestByName(t *testing.T) {
	for name, want := range map[string]string{
		"accuracy":                          "accuracy",
		"acc":                               "accuracy",
		"categorical_accuracy":              "categorical_accuracy",
		"sparse_categorical_accuracy":       "sparse_categorical_accuracy",
		"binary_accuracy":                   "binary_accuracy",
		"precision":                         "precision",
		"recall":                            "recall",
		"auc":                               "auc",
		"top_k_categorical_accuracy":        "top_k_categorical_accuracy",
		"sparse_top_k_categorical_accuracy": "sparse_top_k_categorical_accuracy",
	} {
		m, err := metrics.ByName(name)
		if err != nil || m.Name() != want {
			t.Errorf("ByName(%q) = %v, %v; want %s", name, m, err, want)
		}
	}
	if _, err := metrics.ByName("f1_score"); err == nil || !strings.Contains(err.Error(), `metrics: unknown metric "f1_score" (want one of accuracy,`) {
		t.Errorf("ByName(f1_score): got %v", err)
	}
	a, _ := metrics.ByName("binary_accuracy")
	if a.(*metrics.BinaryAccuracy).Threshold != 0.5 {
		t.Error("binary_accuracy threshold is not 0.5")
	}
}

// TestUint8Targets: uint8 targets count by their values (bytes over the
// divisor), the same as the float32 tensor they stand for.
func TestUint8Targets(t *testing.T) {
	pred := tensor.FromFloat32([]float32{0.1, 0.2, 0.7, 0.5, 0.25, 0.25, 0.3, 0.6, 0.1}, 3, 3)
	for _, c := range []struct {
		name   string
		target *tensor.Tensor
	}{
		{"accuracy", tensor.FromUint8([]uint8{0, 0, 255, 255, 0, 0, 255, 0, 0}, 255, 3, 3)},
		{"categorical_accuracy", tensor.FromUint8([]uint8{0, 0, 1, 1, 0, 0, 1, 0, 0}, 1, 3, 3)},
		{"sparse_categorical_accuracy", tensor.FromUint8([]uint8{2, 0, 0}, 1, 3)},
		{"binary_accuracy", tensor.FromUint8([]uint8{0, 0, 1, 1, 0, 0, 1, 1, 0}, 1, 3, 3)},
	} {
		a, _ := metrics.ByName(c.name)
		b, _ := metrics.ByName(c.name)
		if err := a.Update(pred, c.target); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := b.Update(pred, c.target.As(tensor.Float32)); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if a.Result() != b.Result() || a.Result() == 0 {
			t.Errorf("%s: uint8 targets give %v, their float32 values %v", c.name, a.Result(), b.Result())
		}
	}
}
