package model_test

import (
	"context"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/model"
)

// TestDefaultBatchSizeFitsSmallData checks Keras's behaviour: with the
// default batch size, fewer than 32 samples train as one batch, while an
// explicit batch size larger than the data is an error.
func TestDefaultBatchSizeFitsSmallData(t *testing.T) {
	x, y, _, _ := data(t, 20, 1)
	m := compiled(t, founding(true))
	r := &recorder{}
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, Callbacks: []model.Callback{r}}); err != nil {
		t.Fatalf("default batch size on 20 samples: %v", err)
	}
	if r.steps != 2 {
		t.Errorf("%d steps in 2 epochs, want 2 (one batch of 20 each)", r.steps)
	}
	_, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 32})
	if err == nil || !strings.Contains(err.Error(), "batch size 32 is larger than the 20 training samples") {
		t.Errorf("explicit batch size 32 on 20 samples: got %v", err)
	}
}
