package model_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// weightedModel is the founding model with batch norm and Adam, without
// metrics unless asked (metrics are not weighted, so they see targets
// that the loss weighs by 0).
func weightedModel(t testing.TB, ms ...metrics.Metric) *model.Sequential {
	t.Helper()
	m := founding(true)
	if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, ms...); err != nil {
		t.Fatal(err)
	}
	return m
}

func fitHashes(t *testing.T, m *model.Sequential, x, y *tensor.Tensor, o model.FitOptions) (string, string, *model.History) {
	t.Helper()
	h, err := m.Fit(context.Background(), x, y, o)
	if err != nil {
		t.Fatal(err)
	}
	w, opt := ckStateHash(m)
	return w, opt, h
}

// TestFitWeightsOfOneAreNoWeights: sample weights of 1, and class weights
// of 1 for every class or for none, train bit for bit as no weights.
func TestFitWeightsOfOneAreNoWeights(t *testing.T) {
	x, y, _, _ := data(t, 300, 10)
	base := model.FitOptions{Epochs: 2, BatchSize: 32, ValidationSplit: 0.2}
	wantW, wantO, wantH := fitHashes(t, weightedModel(t, metrics.NewAccuracy()), x, y, base)
	ones := tensor.New(tensor.Float32, 300)
	ones.Fill(1)
	all := map[int]float64{}
	for k := range 10 {
		all[k] = 1
	}
	for name, o := range map[string]model.FitOptions{
		"sample weights":        {SampleWeight: ones},
		"class weights":         {ClassWeight: all},
		"class weights, absent": {ClassWeight: map[int]float64{42: 3}},
	} {
		o.Epochs, o.BatchSize, o.ValidationSplit = base.Epochs, base.BatchSize, base.ValidationSplit
		gotW, gotO, gotH := fitHashes(t, weightedModel(t, metrics.NewAccuracy()), x, y, o)
		if gotW != wantW || gotO != wantO {
			t.Errorf("%s: weights or optimizer state differ from training without weights", name)
		}
		if d := ckSameHistory(gotH, wantH); d != "" {
			t.Errorf("%s: history: %s", name, d)
		}
	}
}

// TestFitZeroWeightFollowsShuffle: samples of weight 0 do not move the
// model, so changing their targets changes nothing, bit for bit. With
// shuffling and a validation split, that holds only if each weight travels
// with its sample, and the split takes the weights from the end.
func TestFitZeroWeightFollowsShuffle(t *testing.T) {
	const n = 250 // 200 training samples, 50 held out
	x, y, _, _ := data(t, n, 10)
	w := tensor.New(tensor.Float32, n)
	y2 := y.Clone()
	for i := range n {
		w.SetIndex(i, 1+float64(i%3)/2)
		if i%5 == 2 && i < 200 {
			w.SetIndex(i, 0)
			for k := range 10 { // a different class for the zero-weight sample
				y2.Set(0, i, k)
			}
			y2.Set(1, i, (i+1)%10)
		}
	}
	o := model.FitOptions{Epochs: 2, BatchSize: 16, ValidationSplit: 0.2, SampleWeight: w}
	w1, o1, h1 := fitHashes(t, weightedModel(t), x, y, o)
	w2, o2, h2 := fitHashes(t, weightedModel(t), x, y2, o)
	if w1 != w2 || o1 != o2 {
		t.Errorf("targets of zero-weight samples changed the training")
	}
	if d := ckSameHistory(h2, h1); d != "" {
		t.Errorf("history: %s", d)
	}
	// The same change with the weights ignored does move the model: the
	// test can see a difference.
	o.SampleWeight = nil
	w3, _, _ := fitHashes(t, weightedModel(t), x, y, o)
	w4, _, _ := fitHashes(t, weightedModel(t), x, y2, o)
	if w3 == w4 {
		t.Fatal("changing the targets did not change unweighted training; the test above proves nothing")
	}
}

// TestFitWeightedLossByHand trains one step on one batch and compares the
// loss History reports with Σ wᵢ·(−log pᵢ[yᵢ]) / n computed from the
// predictions of an identical untrained model.
func TestFitWeightedLossByHand(t *testing.T) {
	const n = 12
	x, y, _, _ := data(t, n, 1)
	labels := make([]float64, n)
	for i := range n {
		for k := range 10 {
			if y.At(i, k) == 1 {
				labels[i] = float64(k)
			}
		}
	}
	mk := func() *model.Sequential {
		m := model.NewSequential(layers.NewDense(16, nn.ActTanh), layers.NewDense(10, nn.ActSoftmax))
		m.Seed = 3
		m.DType = tensor.Float64
		if err := m.Compile(&optimizers.SGD{LR: 0.1}, losses.SparseCategoricalCrossentropy{}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	ref := mk()
	if err := ref.Build(784); err != nil {
		t.Fatal(err)
	}
	p, err := ref.Predict(context.Background(), x, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sw := make([]float64, n)
	for i := range sw {
		sw[i] = float64(i%4) * 0.75
	}
	cw := map[int]float64{int(labels[0]): 0, int(labels[1]): 2.5}
	for _, tc := range []struct {
		name string
		o    model.FitOptions
		w    func(i int) float64
	}{
		{"sample weights", model.FitOptions{SampleWeight: tensor.FromFloat64(sw, n)}, func(i int) float64 { return sw[i] }},
		{"class weights", model.FitOptions{ClassWeight: cw}, func(i int) float64 {
			if v, ok := cw[int(labels[i])]; ok {
				return v
			}
			return 1
		}},
	} {
		var want float64
		for i := range n {
			want += tc.w(i) * -math.Log(p.At(i, int(labels[i])))
		}
		want /= n // sum over batch size
		tc.o.BatchSize, tc.o.NoShuffle = n, true
		h, err := mk().Fit(context.Background(), x, tensor.FromFloat64(labels, n), tc.o)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Metrics["loss"][0]; math.Abs(got-want) > 1e-12*math.Max(1, want) {
			t.Errorf("%s: loss %v, want Σ wᵢ·Lᵢ / n = %v", tc.name, got, want)
		}
	}
}

type epochSteps struct {
	model.BaseCallback
	steps  []int // steps seen per epoch
	hasVal []bool
}

func (c *epochSteps) OnEpochBegin(int) error { c.steps = append(c.steps, 0); return nil }
func (c *epochSteps) OnBatchEnd(_, _ int, _ model.Logs) error {
	c.steps[len(c.steps)-1]++
	return nil
}
func (c *epochSteps) OnEpochEnd(_ int, logs model.Logs) error {
	_, ok := logs["val_loss"]
	c.hasVal = append(c.hasVal, ok)
	return nil
}

func TestFitStepsPerEpochAndValidationFreq(t *testing.T) {
	x, y, _, _ := data(t, 200, 10) // 160 training samples: 10 batches of 16
	for _, tc := range []struct {
		steps, freq, wantSteps int
		wantVal                []bool
	}{
		{3, 2, 3, []bool{false, true, false, true, false}},
		{0, 0, 10, []bool{true, true, true, true, true}},
		{50, 3, 10, []bool{false, false, true, false, false}},
	} {
		m := weightedModel(t, metrics.NewAccuracy())
		c := &epochSteps{}
		h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 5, BatchSize: 16, ValidationSplit: 0.2,
			StepsPerEpoch: tc.steps, ValidationFreq: tc.freq, Callbacks: []model.Callback{c}})
		if err != nil {
			t.Fatal(err)
		}
		for e, s := range c.steps {
			if s != tc.wantSteps {
				t.Errorf("StepsPerEpoch %d: epoch %d took %d steps, want %d", tc.steps, e+1, s, tc.wantSteps)
			}
		}
		if it := m.Optimizer().Iterations(); it != 5*tc.wantSteps {
			t.Errorf("StepsPerEpoch %d: optimizer took %d steps, want %d", tc.steps, it, 5*tc.wantSteps)
		}
		nVal := 0
		for e, v := range tc.wantVal {
			if c.hasVal[e] != v {
				t.Errorf("ValidationFreq %d: epoch %d has val_loss %v, want %v", tc.freq, e+1, c.hasVal[e], v)
			}
			if v {
				nVal++
			}
		}
		if len(h.Epochs) != 5 || len(h.Metrics["loss"]) != 5 || len(h.Metrics["val_loss"]) != nVal || len(h.Metrics["val_accuracy"]) != nVal {
			t.Errorf("ValidationFreq %d: history has %d epochs, %d losses, %d val_loss, %d val_accuracy; want 5, 5, %d, %d",
				tc.freq, len(h.Epochs), len(h.Metrics["loss"]), len(h.Metrics["val_loss"]), len(h.Metrics["val_accuracy"]), nVal, nVal)
		}
	}
}

// TestResumeBitwiseWithWeights interrupts a weighted run with
// StepsPerEpoch and ValidationFreq and checks that resuming it ends bit
// for bit as the uninterrupted run, and that the weights must match.
func TestResumeBitwiseWithWeights(t *testing.T) {
	x, y, _, _ := data(t, 400, 10)
	w := tensor.New(tensor.Float32, 400)
	for i := range 400 {
		w.SetIndex(i, float64(i%7)/3)
	}
	opts := func() model.FitOptions {
		return model.FitOptions{Epochs: 4, BatchSize: 32, ValidationSplit: 0.1, SampleWeight: w, StepsPerEpoch: 7, ValidationFreq: 2}
	}
	ref := weightedModel(t, metrics.NewAccuracy())
	wantW, wantO, hRef := fitHashes(t, ref, x, y, opts())
	for _, stop := range []int{3, 7, 17} {
		m := weightedModel(t, metrics.NewAccuracy())
		o := opts()
		o.Callbacks = []model.Callback{&ckStopAt{at: stop}}
		if _, err := m.Fit(context.Background(), x, y, o); err != nil {
			t.Fatal(err)
		}
		path := t.TempDir() + "/ck.safetensors"
		if err := m.SaveCheckpoint(path, nil); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []struct {
			change func(*model.FitOptions)
			want   string
		}{
			{func(o *model.FitOptions) { o.SampleWeight = nil }, "weights not set"},
			{func(o *model.FitOptions) { o.SampleWeight = w.Clone(); o.SampleWeight.SetIndex(5, 2) }, "SHA-256 differs"},
			{func(o *model.FitOptions) { o.SampleWeight = w.Clone(); o.SampleWeight.SetIndex(399, 2) }, "SHA-256 differs"}, // held out
			{func(o *model.FitOptions) { o.StepsPerEpoch = 8 }, "StepsPerEpoch 8"},
			{func(o *model.FitOptions) { o.ValidationFreq = 3 }, "ValidationFreq 3"},
		} {
			m2, ck, err := model.LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			o := opts()
			o.Resume = ck
			bad.change(&o)
			if _, err := m2.Fit(context.Background(), x, y, o); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("resume with changed settings: %v, want an error saying %q", err, bad.want)
			}
		}
		m2, ck, err := model.LoadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		o = opts()
		o.Resume = ck
		h2, err := m2.Fit(context.Background(), x, y, o)
		if err != nil {
			t.Fatalf("stop at %d: %v", stop, err)
		}
		gotW, gotO := ckStateHash(m2)
		if gotW != wantW || gotO != wantO {
			t.Errorf("stop at %d: resumed state differs from the uninterrupted run", stop)
		}
		if d := ckSameHistory(h2, hRef); d != "" {
			t.Errorf("stop at %d: history: %s", stop, d)
		}
	}
}

func TestFitWeightErrors(t *testing.T) {
	x, y, _, _ := data(t, 40, 1)
	w := tensor.New(tensor.Float32, 40)
	mse := founding(false)
	if err := mse.Compile(optimizers.NewAdam(), losses.Huber{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		m    *model.Sequential
		o    model.FitOptions
		want string
	}{
		{weightedModel(t), model.FitOptions{SampleWeight: w, ClassWeight: map[int]float64{1: 2}}, "not both"},
		{weightedModel(t), model.FitOptions{SampleWeight: tensor.New(tensor.Float32, 39)}, "one weight per sample"},
		{weightedModel(t), model.FitOptions{ClassWeight: map[int]float64{1: math.NaN()}}, "not finite"},
		{weightedModel(t), model.FitOptions{StepsPerEpoch: -1}, "must not be negative"},
		{mse, model.FitOptions{SampleWeight: w}, "cannot weigh samples"},
	} {
		_, err := tc.m.Fit(context.Background(), x, y, tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, model.ErrNotCompiled) {
			t.Errorf("got %v, want an error saying %q", err, tc.want)
		}
	}
}

// TestFitWeightedValidationLoss: with ValidationSplit, the held-out
// samples' sample weights weigh val_loss (Σ wᵢ·Lᵢ / n over them, as in
// Keras); class weights do not.
func TestFitWeightedValidationLoss(t *testing.T) {
	const n, nv = 16, 4
	x, y, _, _ := data(t, n, 1)
	sw := make([]float64, n)
	for i := range sw {
		sw[i] = 0.5 + float64(i%3)
	}
	for _, cls := range []bool{false, true} {
		m := model.NewSequential(layers.NewDense(8, nn.ActTanh), layers.NewDense(10, nn.ActSoftmax))
		m.DType = tensor.Float64
		if err := m.Compile(&optimizers.SGD{LR: 0.1}, losses.CategoricalCrossentropy{}); err != nil {
			t.Fatal(err)
		}
		o := model.FitOptions{BatchSize: 4, ValidationSplit: float64(nv) / n, SampleWeight: tensor.FromFloat64(sw, n)}
		if cls {
			o.SampleWeight, o.ClassWeight = nil, map[int]float64{0: 3, 1: 0, 2: 2, 3: 0.5, 4: 0, 5: 7, 6: 2, 7: 2, 8: 2, 9: 2}
		}
		h, err := m.Fit(context.Background(), x, y, o)
		if err != nil {
			t.Fatal(err)
		}
		vx, vy := x.Rows(n-nv, n), y.Rows(n-nv, n)
		p, err := m.Predict(context.Background(), vx, model.EvalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var want float64
		for i := range nv {
			for k := range 10 {
				if vy.At(i, k) == 1 {
					l := -math.Log(p.At(i, k))
					if !cls {
						l *= sw[n-nv+i]
					}
					want += l
				}
			}
		}
		want /= nv
		if got := h.Metrics["val_loss"][0]; math.Abs(got-want) > 1e-12 {
			t.Errorf("class weights %v: val_loss %v, want %v", cls, got, want)
		}
	}
}

// TestFitBinaryClassWeightByHand: a sigmoid output with binary
// cross-entropy (fused to logits) and 0/1 targets of shape (samples, 1)
// weighs each sample by its class; the loss of the first step is checked
// against Σ wᵢ·BCEᵢ / n from an identical untrained model.
func TestFitBinaryClassWeightByHand(t *testing.T) {
	const n = 10
	x, _, _, _ := data(t, n, 1)
	yv := make([]float64, n)
	for i := range yv {
		yv[i] = float64(i % 3 % 2)
	}
	cw := map[int]float64{0: 0.25, 1: 3}
	mk := func() *model.Sequential {
		m := model.NewSequential(layers.NewDense(4, nn.ActTanh), layers.NewDense(1, nn.ActSigmoid))
		m.Seed, m.DType = 5, tensor.Float64
		if err := m.Compile(&optimizers.SGD{LR: 0.1}, losses.BinaryCrossentropy{}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	ref := mk()
	if err := ref.Build(784); err != nil {
		t.Fatal(err)
	}
	p, err := ref.Predict(context.Background(), x, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	for i := range n {
		q := p.At(i, 0)
		want -= cw[int(yv[i])] * (yv[i]*math.Log(q) + (1-yv[i])*math.Log(1-q))
	}
	want /= n
	h, err := mk().Fit(context.Background(), x, tensor.FromFloat64(yv, n, 1), model.FitOptions{BatchSize: n, ClassWeight: cw})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Metrics["loss"][0]; math.Abs(got-want) > 1e-12 {
		t.Errorf("loss %v, want Σ wᵢ·Lᵢ / n = %v", got, want)
	}
}
