package callbacks_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/myelin-go/myelin/callbacks"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// toyData returns n samples of 8 features in 3 classes (one-hot), the
// class a function of the features, from a fixed seed.
func toyData(n int) (x, y *tensor.Tensor) {
	r := rand.New(rand.NewPCG(3, 4))
	xs, ys := make([]float32, n*8), make([]float32, n*3)
	for i := range n {
		s := 0.0
		for j := range 8 {
			v := r.NormFloat64()
			xs[i*8+j] = float32(v)
			s += v * float64(j%3-1)
		}
		c := 0
		if s > 0.5 {
			c = 1
		} else if s < -0.5 {
			c = 2
		}
		ys[i*3+c] = 1
	}
	return tensor.FromFloat32(xs, n, 8), tensor.FromFloat32(ys, n, 3)
}

// toyModel is a small compiled model with batch normalization, so that
// state as well as parameters must be restored and resumed.
func toyModel(t testing.TB) *model.Sequential {
	t.Helper()
	m := model.NewSequential(layers.NewDense(16, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(3, nn.ActSoftmax))
	m.Seed = 11
	if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
		t.Fatal(err)
	}
	if err := m.Build(8); err != nil {
		t.Fatal(err)
	}
	return m
}

// weightsHash returns a SHA-256 of every weight of m (parameters and
// batch-norm state), bit for bit.
func weightsHash(m *model.Sequential) string {
	h := sha256.New()
	var b [8]byte
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			fmt.Fprintf(h, "%s/%s;", l.Name(), w.Name)
			for i := range w.Value.Len() {
				binary.LittleEndian.PutUint64(b[:], math.Float64bits(w.Value.Index(i)))
				h.Write(b[:])
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// optHash returns a SHA-256 of the optimizer's slots, step count and rate.
func optHash(m *model.Sequential) string {
	h := sha256.New()
	o := m.Optimizer()
	var b [8]byte
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			if !w.Trainable() {
				continue
			}
			for _, s := range o.State(w.Param) {
				for i := range s.Len() {
					binary.LittleEndian.PutUint64(b[:], math.Float64bits(s.Index(i)))
					h.Write(b[:])
				}
			}
		}
	}
	fmt.Fprintf(h, "iterations %d lr %x", o.Iterations(), math.Float64bits(o.LearningRate()))
	return hex.EncodeToString(h.Sum(nil))
}

// historyDiff returns the first difference between two histories, bit for
// bit, or "".
func historyDiff(got, want *model.History) string {
	if !slices.Equal(got.Epochs, want.Epochs) {
		return fmt.Sprintf("epochs %v, want %v", got.Epochs, want.Epochs)
	}
	if len(got.Metrics) != len(want.Metrics) {
		return fmt.Sprintf("metrics %v, want %v", got.Metrics, want.Metrics)
	}
	for k, w := range want.Metrics {
		g := got.Metrics[k]
		if len(g) != len(w) {
			return fmt.Sprintf("%s: %v, want %v", k, g, w)
		}
		for i := range w {
			if math.Float64bits(g[i]) != math.Float64bits(w[i]) {
				return fmt.Sprintf("%s of epoch %d: %v, want %v", k, i+1, g[i], w[i])
			}
		}
	}
	if got.Stopped != want.Stopped {
		return fmt.Sprintf("stopped %q, want %q", got.Stopped, want.Stopped)
	}
	return ""
}

// script returns a callback that overwrites logs[key] at each epoch's end
// with vals[epoch], so that the callbacks after it see a chosen sequence.
func script(key string, vals ...float64) *callbacks.Lambda {
	return &callbacks.Lambda{EpochEnd: func(epoch int, logs model.Logs) error {
		logs[key] = vals[min(epoch, len(vals)-1)]
		return nil
	}}
}
