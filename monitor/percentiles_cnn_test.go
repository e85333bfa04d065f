package monitor

import (
	"context"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
)

// TestPercentilesImageLayer tracks a Conv2D layer, whose output is
// (samples, height, width, channels): each channel is a unit, and its
// quantiles are over every pixel of every sample, as if the output were
// the (samples·height·width, channels) matrix.
func TestPercentilesImageLayer(t *testing.T) {
	x, y := blobs(64, 16, 3, 1)
	held, _ := blobs(9, 16, 3, 2)
	m := compiled(t, 16, optimizers.NewAdam(), layers.NewReshape(4, 4, 1),
		layers.NewConv2D(3, layers.Size2{2, 2}, nn.ActTanh), layers.NewFlatten(), layers.NewDense(3, nn.ActSoftmax))
	p := Percentiles{X: held, Layer: 1, Every: 4, Qs: []float64{0.1, 0.5, 0.9}}
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 1, BatchSize: 16, Callbacks: []model.Callback{&p}}); err != nil {
		t.Fatal(err)
	}
	if got, want := len(p.Records), 2*3; got != want {
		t.Fatalf("got %d records (steps 0 and 4, three channels each), want %d", got, want)
	}
	outs, err := m.Trace(held)
	if err != nil {
		t.Fatal(err)
	}
	out := outs[1] // (9, 3, 3, 3); no batch normalization, so Trace's inference mode is X's mode
	pixels := out.Reshape(out.Len()/3, 3)
	for _, r := range p.Records[3:] { // the last step's records: the weights Trace sees
		col := column(pixels, r.Unit)
		if len(col) != 9*3*3 {
			t.Fatalf("channel %d has %d values, want 81", r.Unit, len(col))
		}
		for k, q := range p.Qs {
			if want := npQuantile(col, q); !near(r.Values[k], want, 1e-6) {
				t.Errorf("channel %d quantile %g: got %g, want %g", r.Unit, q, r.Values[k], want)
			}
		}
	}
}
