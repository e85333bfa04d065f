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
	mc := &ModelCheckpoint{Dir: dir, EverySteps: 1, Keep: 2}
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
