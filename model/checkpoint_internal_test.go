package model

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/myelin-go/myelin/internal/atomicfile"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/safetensors"
	"github.com/myelin-go/myelin/tensor"
)

// fullDisk accepts n bytes, then fails as a full disk does.
type fullDisk struct {
	w io.Writer
	n int
}

func (d *fullDisk) Write(p []byte) (int, error) {
	if len(p) > d.n {
		k, _ := d.w.Write(p[:d.n])
		d.n = 0
		return k, syscall.ENOSPC
	}
	d.n -= len(p)
	return d.w.Write(p)
}

// TestCheckpointFullDisk checks that a checkpoint that cannot be written
// completely returns the error, leaves the previous checkpoints as they
// were (none pruned) and leaves no temporary behind.
func TestCheckpointFullDisk(t *testing.T) {
	x := tensor.New(tensor.Float32, 40, 3)
	y := tensor.New(tensor.Float32, 40, 2)
	for i := range 40 {
		x.SetIndex(3*i, float64(i%5))
		y.SetIndex(2*i+i%2, 1)
	}
	m := NewSequential(layers.NewDense(8, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(2, nn.ActSoftmax))
	if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mc := &BackupAndRestore{Dir: dir, EverySteps: 1, Keep: 2}
	if _, err := m.Fit(context.Background(), x, y, FitOptions{BatchSize: 10, Callbacks: []Callback{mc}}); err != nil {
		t.Fatal(err)
	}
	names := func() []string {
		es, _ := os.ReadDir(dir)
		var ns []string
		for _, e := range es {
			ns = append(ns, e.Name())
		}
		return ns
	}
	before := names()
	if want := []string{CheckpointName(3), CheckpointName(4)}; !slices.Equal(before, want) {
		t.Fatalf("files %v, want %v", before, want)
	}
	last, _ := os.ReadFile(filepath.Join(dir, CheckpointName(4)))

	defer func(w func(string, *safetensors.File) error) { checkpointWrite = w }(checkpointWrite)
	checkpointWrite = func(path string, f *safetensors.File) error {
		return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
			return safetensors.Write(&fullDisk{w: w, n: 1000}, f)
		})
	}
	_, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 2, InitialEpoch: 1, BatchSize: 10, Callbacks: []Callback{mc}})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("got %v, want an error wrapping ENOSPC", err)
	}
	if got := names(); !slices.Equal(got, before) {
		t.Fatalf("after a failed write the directory holds %v, want %v", got, before)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, CheckpointName(4))); !bytes.Equal(now, last) {
		t.Fatal("the last good checkpoint changed")
	}
	if _, _, err := LoadCheckpoint(filepath.Join(dir, CheckpointName(4))); err != nil {
		t.Fatal(err)
	}
}

// TestMetricStateRoundTrip saves each metric's running state part way
// through, restores it into a fresh metric, and checks that both then
// report the same results bit for bit.
func TestMetricStateRoundTrip(t *testing.T) {
	pred := tensor.FromFloat32([]float32{0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7, 0.5, 0.5}, 5, 2)
	onehot := tensor.FromFloat32([]float32{1, 0, 1, 0, 1, 0, 0, 1, 0, 1}, 5, 2)
	sparse := tensor.FromFloat32([]float32{0, 0, 1, 1, 1}, 5)
	bin := tensor.FromFloat32([]float32{1, 0, 1, 1, 0}, 5)
	binPred := tensor.FromFloat32([]float32{0.7, 0.2, 0.4, 0.9, 0.6}, 5)
	for _, tc := range []struct {
		name         string
		mk           func() metrics.Metric
		pred, target *tensor.Tensor
	}{
		{"accuracy", func() metrics.Metric { return metrics.NewAccuracy() }, pred, onehot},
		{"categorical", func() metrics.Metric { return metrics.NewCategoricalAccuracy() }, pred, onehot},
		{"sparse", func() metrics.Metric { return metrics.NewSparseCategoricalAccuracy() }, pred, sparse},
		{"binary", func() metrics.Metric { b := metrics.NewBinaryAccuracy(); b.Threshold = 0.3; return b }, binPred, bin},
		{"binary-as-accuracy", func() metrics.Metric { return metrics.NewAccuracy() }, binPred, bin},
		{"mean", func() metrics.Metric { return metrics.NewMean("m") }, binPred, bin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.mk()
			for range 3 {
				if err := a.Update(tc.pred, tc.target); err != nil {
					t.Fatal(err)
				}
			}
			st, err := metricStateOf(a)
			if err != nil {
				t.Fatal(err)
			}
			b := tc.mk()
			b.Update(tc.pred, tc.target) // restoring replaces whatever was there
			if err := restoreMetrics([]metrics.Metric{b}, []metricState{{Name: b.Name(), State: st}}); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if ra, rb := a.Result(), b.Result(); ra != rb {
					t.Fatalf("after %d more updates: restored %v, original %v", i, rb, ra)
				}
				a.Update(tc.pred, tc.target)
				b.Update(tc.pred, tc.target)
			}
		})
	}
}
