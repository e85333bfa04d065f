package monitor

import (
	"context"
	"math"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// TestBatchNormHand checks one record against formulas evaluated by hand,
// on a batch-norm first layer whose input is X itself.
func TestBatchNormHand(t *testing.T) {
	m := compiled(t, 2, optimizers.NewAdam(), layers.NewBatchNormalization(), layers.NewDense(2, nn.ActSoftmax))
	bn := m.Layers[0].(*layers.BatchNormalization)
	bn.MovingMean.SetIndex(0, 1)
	bn.MovingVariance.SetIndex(1, 4)
	bn.Gamma.Value.SetIndex(0, 2)
	bn.Beta.Value.SetIndex(1, -3)
	// Column 0: mean 2, biased variance 1. Column 1: mean 0, variance 9.
	x := tensor.FromFloat32([]float32{1, -3, 3, 3, 1, -3, 3, 3}, 4, 2)
	b := &BatchNorm{X: x}
	if err := b.OnTrainBegin(m); err != nil {
		t.Fatal(err)
	}
	if len(b.Records) != 1 {
		t.Fatalf("got %d records at step 0, want 1", len(b.Records))
	}
	eps := bn.Epsilon
	wantMean := math.Sqrt(((2-1)*(2-1)/(1+eps) + 0/(4+eps)) / 2)
	wantVar := math.Sqrt((sq(math.Log((1+eps)/(1+eps))) + sq(math.Log((9+eps)/(4+eps)))) / 2)
	// Training output: gamma·(x−μ)/√(σ²+ε) + beta; inference: the same with the moving statistics.
	gamma, beta := []float64{2, 1}, []float64{0, -3}
	mu, v, mm, mv := []float64{2, 0}, []float64{1, 9}, []float64{1, 0}, []float64{1, 4}
	d2, t2 := 0.0, 0.0
	for i := range 4 {
		for j := range 2 {
			xv := x.At(i, j)
			yt := gamma[j]*(xv-mu[j])/math.Sqrt(v[j]+eps) + beta[j]
			yi := gamma[j]*(xv-mm[j])/math.Sqrt(mv[j]+eps) + beta[j]
			d2 += sq(yt - yi)
			t2 += sq(yt)
		}
	}
	r := b.Records[0]
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"MeanDrift", r.MeanDrift, wantMean},
		{"VarDrift", r.VarDrift, wantVar},
		{"TrainInferGap", r.TrainInferGap, math.Sqrt(d2 / t2)},
		{"GammaNorm", r.GammaNorm, math.Sqrt(4 + 1)},
		{"BetaNorm", r.BetaNorm, 3},
	} {
		if !near(c.got, c.want, 1e-6) {
			t.Errorf("%s = %g, want %g", c.name, c.got, c.want)
		}
	}
	if r.Step != 0 || r.Layer != bn.Name() {
		t.Errorf("record at step %d layer %q, want 0 and %q", r.Step, r.Layer, bn.Name())
	}
}

func sq(v float64) float64 { return v * v }

// TestBatchNormGap checks that the train–inference gap and the drifts are
// zero when the moving statistics are X's own (Recalibrate on X) and
// clearly not before.
func TestBatchNormGap(t *testing.T) {
	x, y := blobs(64, 5, 3, 10)
	held, _ := blobs(30, 5, 3, 11)
	m := model.NewSequential(layers.NewDense(6, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDropout(0.2),
		layers.NewDense(5, nn.ActTanh), layers.NewBatchNormalization(), layers.NewDense(3, nn.ActSoftmax))
	m.DType = tensor.Float64
	if err := m.CompileNames("adam", "categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	b := &BatchNorm{X: held, Every: 2}
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 16, Callbacks: []model.Callback{b}}); err != nil {
		t.Fatal(err)
	}
	// Steps 0, 2, 4, two layers each.
	if len(b.Records) != 6 {
		t.Fatalf("got %d records, want 6", len(b.Records))
	}
	for i, r := range b.Records {
		if r.Step != 2*(i/2) || r.Layer != []string{"batch_normalization", "batch_normalization_1"}[i%2] {
			t.Errorf("record %d: step %d layer %s", i, r.Step, r.Layer)
		}
		if !(r.TrainInferGap > 1e-2 && r.MeanDrift > 1e-2 && r.VarDrift > 1e-2) {
			t.Errorf("step %d layer %s: gap %g, drifts %g and %g; want all above 0.01 with moving statistics of 4 steps", r.Step, r.Layer, r.TrainInferGap, r.MeanDrift, r.VarDrift)
		}
	}
	// The last record (step 4, the final weights) of the second layer, by
	// hand: its training-mode input is Dense(tanh) of the first layer's
	// output normalized with held's own statistics (dropout skipped).
	outs, err := m.Trace(held)
	if err != nil {
		t.Fatal(err)
	}
	bn1, d, bn2 := m.Layers[1].(*layers.BatchNormalization), m.Layers[3].(*layers.Dense), m.Layers[4].(*layers.BatchNormalization)
	z := affine(batchNormed(outs[0], bn1.Gamma.Value, bn1.Beta.Value, bn1.Epsilon), d.Kernel.Value, d.Bias.Value)
	for i := range z.Len() {
		z.SetIndex(i, math.Tanh(z.Index(i)))
	}
	mean, variance := populationStats(z)
	md, vd := 0.0, 0.0
	for j := range mean {
		mv := bn2.MovingVariance.Index(j) + bn2.Epsilon
		md += sq(mean[j]-bn2.MovingMean.Index(j)) / mv
		vd += sq(math.Log((variance[j] + bn2.Epsilon) / mv))
	}
	last := b.Records[5]
	if want := math.Sqrt(md / 5); !near(last.MeanDrift, want, 1e-9) {
		t.Errorf("second layer MeanDrift %g, want %g", last.MeanDrift, want)
	}
	if want := math.Sqrt(vd / 5); !near(last.VarDrift, want, 1e-9) {
		t.Errorf("second layer VarDrift %g, want %g", last.VarDrift, want)
	}

	if err := Recalibrate(context.Background(), m, held, 7); err != nil {
		t.Fatal(err)
	}
	after := &BatchNorm{X: held}
	if err := after.OnTrainBegin(m); err != nil {
		t.Fatal(err)
	}
	for _, r := range after.Records {
		if r.TrainInferGap > 1e-12 || r.MeanDrift > 1e-12 || r.VarDrift > 1e-12 {
			t.Errorf("after Recalibrate on X, layer %s: gap %g, drifts %g and %g; want 0", r.Layer, r.TrainInferGap, r.MeanDrift, r.VarDrift)
		}
	}
}

func TestBatchNormNoLayers(t *testing.T) {
	x, _ := blobs(8, 5, 3, 1)
	m := compiled(t, 5, optimizers.NewAdam(), layers.NewDense(3, nn.ActSoftmax))
	b := &BatchNorm{X: x}
	if err := b.OnTrainBegin(m); err != nil || len(b.Records) != 0 {
		t.Errorf("got %v and %d records, want no error and none", err, len(b.Records))
	}
	if err := (&BatchNorm{X: x.Rows(0, 1)}).OnTrainBegin(m); err == nil {
		t.Error("a held-out batch of one sample was accepted")
	}
}
