package model_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/safetensors"
	"github.com/myelin-go/myelin/tensor"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, e := range es {
		ns = append(ns, e.Name())
	}
	return ns
}

// TestModelCheckpointKeep checks the file names, the pruning to Keep, and
// the removal of a crashed writer's temporary.
func TestModelCheckpointKeep(t *testing.T) {
	x, y, _, _ := data(t, 400, 10) // 8 steps per epoch at batch size 50
	for _, tc := range []struct {
		every, keep int
		want        []string
	}{
		{3, 2, []string{model.CheckpointName(12), model.CheckpointName(15)}},
		{0, -1, []string{model.CheckpointName(8), model.CheckpointName(16)}},
		{5, 0, []string{model.CheckpointName(5), model.CheckpointName(10), model.CheckpointName(15)}},
		{4, model.KeepAll, []string{model.CheckpointName(4), model.CheckpointName(8), model.CheckpointName(12), model.CheckpointName(16)}},
	} {
		dir := t.TempDir()
		stale := filepath.Join(dir, "."+model.CheckpointName(1)+".tmp-0123456789abcdef")
		if err := os.WriteFile(stale, []byte("half a checkpoint"), 0o644); err != nil {
			t.Fatal(err)
		}
		mc := &model.BackupAndRestore{Dir: dir, EverySteps: tc.every, Keep: tc.keep}
		m := compiled(t, founding(true))
		if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: 50, Callbacks: []model.Callback{mc}}); err != nil {
			t.Fatal(err)
		}
		if got := dirNames(t, dir); !slices.Equal(got, tc.want) {
			t.Errorf("every %d keep %d: files %v, want %v", tc.every, tc.keep, got, tc.want)
		}
		if want := filepath.Join(dir, tc.want[len(tc.want)-1]); mc.Last != want {
			t.Errorf("Last = %s, want %s", mc.Last, want)
		}
	}
}

// TestLatestCheckpointSkipsBroken damages the newest checkpoints in
// several ways and checks that LatestCheckpoint falls back, saying why.
func TestLatestCheckpointSkipsBroken(t *testing.T) {
	x, y, _, _ := data(t, 200, 10)
	dir := t.TempDir()
	mc := &model.BackupAndRestore{Dir: dir, EverySteps: 1, Keep: -1}
	m := compiled(t, founding(true))
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 50, Callbacks: []model.Callback{mc}}); err != nil {
		t.Fatal(err)
	}
	path := func(step int) string { return filepath.Join(dir, model.CheckpointName(step)) }
	good, err := os.ReadFile(path(4))
	if err != nil {
		t.Fatal(err)
	}
	// Step 4: truncated. Step 3: a NaN in a weight, file otherwise valid.
	// Step 2: not a checkpoint. A leftover temporary and a larger step
	// that is a directory are ignored.
	if err := os.WriteFile(path(4), good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path(3))
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.Tensors {
		if f.Tensors[i].Name == "dense_1/bias" {
			binary.LittleEndian.PutUint32(f.Tensors[i].Data[4:], math.Float32bits(float32(math.NaN())))
		}
	}
	if err := safetensors.WriteFile(path(3), f); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(path(2)); err != nil { // a model file, not a checkpoint
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "."+model.CheckpointName(5)+".tmp-00000000000000ff"), good, 0o644)
	os.Mkdir(path(9), 0o755)

	m2, ck, err := model.LatestCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Path != path(1) || ck.GlobalStep != 1 {
		t.Fatalf("got %s (step %d), want %s", ck.Path, ck.GlobalStep, path(1))
	}
	if m2 == nil || !m2.Built() {
		t.Fatal("no built model")
	}
	wantWhy := []string{"ckpt-000000000004.safetensors: ", "ckpt-000000000003.safetensors: ", "ckpt-000000000002.safetensors: "}
	wantWhat := []string{"safetensors", "dense_1/bias: holds NaN or infinite values", "not a myelin checkpoint"}
	if len(ck.Skipped) != 3 {
		t.Fatalf("skipped %q, want 3 entries", ck.Skipped)
	}
	for i, s := range ck.Skipped {
		if !strings.HasPrefix(s, wantWhy[i]) || !strings.Contains(s, wantWhat[i]) {
			t.Errorf("skipped[%d] = %q, want %q…%q", i, s, wantWhy[i], wantWhat[i])
		}
	}
	os.Remove(path(1))
	if _, _, err := model.LatestCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "no usable checkpoint") {
		t.Fatalf("only broken checkpoints: got %v, want an error listing them", err)
	}
	if _, _, err := model.LatestCheckpoint(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no checkpoint") {
		t.Fatalf("empty directory: got %v", err)
	}
}

// TestCheckpointRefusesNonFinite checks that a NaN or infinity in a weight,
// a batch-norm statistic or an optimizer slot stops the checkpoint, names
// the tensor, and leaves the previous file untouched.
func TestCheckpointRefusesNonFinite(t *testing.T) {
	x, y, _, _ := data(t, 200, 10)
	for _, tc := range []struct {
		key string
		get func(m *model.Sequential) *tensor.Tensor
	}{
		{"dense/kernel", func(m *model.Sequential) *tensor.Tensor { return m.Layers[0].Weights()[0].Value }},
		{"batch_normalization/moving_variance", func(m *model.Sequential) *tensor.Tensor { return m.Layers[1].Weights()[3].Value }},
		{"optimizer/dense_2/bias/velocity", func(m *model.Sequential) *tensor.Tensor {
			return m.Optimizer().State(m.Layers[4].Weights()[1].Param)[1]
		}},
	} {
		t.Run(tc.key, func(t *testing.T) {
			m := compiled(t, founding(true))
			if _, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 50}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "ck.safetensors")
			if err := m.SaveCheckpoint(path, nil); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(path)
			tc.get(m).SetIndex(1, math.Inf(-1))
			err := m.SaveCheckpoint(path, nil)
			if err == nil || !strings.Contains(err.Error(), tc.key+" holds NaN or infinite values") {
				t.Fatalf("got %v, want an error naming %s", err, tc.key)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Fatal("the refused checkpoint changed the previous file")
			}
			if got := dirNames(t, filepath.Dir(path)); len(got) != 1 {
				t.Fatalf("directory holds %v after a refused checkpoint", got)
			}
		})
	}
}

// TestNonFiniteStepLeavesState checks that a step with a non-finite loss
// leaves weights, batch-norm statistics, optimizer slots and step count,
// and the generator, exactly as after the step before, so the checkpoint
// written afterwards is the one written before the bad step.
func TestNonFiniteStepLeavesState(t *testing.T) {
	x, y, _, _ := data(t, 256, 10)
	bad := x.Clone()
	for i := range 784 {
		bad.SetIndex(70*784+i, math.NaN()) // sample 70: in the third batch of 32
	}
	m := model.NewSequential(layers.NewDense(32, nn.ActReLU), layers.NewDropout(0.2), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
	m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{})
	dir := t.TempDir()
	_, err := m.Fit(context.Background(), bad, y, model.FitOptions{NoShuffle: true, Callbacks: []model.Callback{&model.BackupAndRestore{Dir: dir, EverySteps: 1, Keep: -1}}})
	var nf *model.NonFiniteError
	if !errors.As(err, &nf) || nf.Epoch != 1 || nf.Step != 3 || nf.What != "loss" || nf.Layer != "dense" {
		t.Fatalf("got %v, want a non-finite loss at epoch 1 step 3 in layer dense", err)
	}
	for _, s := range []string{"epoch 1 step 3", `"dense"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %s", err, s)
		}
	}
	wantW, wantO := ckStateHash(m)
	if m.Optimizer().Iterations() != 2 {
		t.Fatalf("optimizer took %d steps, want 2", m.Optimizer().Iterations())
	}
	after := filepath.Join(t.TempDir(), "after.safetensors")
	if err := m.SaveCheckpoint(after, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, model.CheckpointName(2)), after} {
		m2, ck, err := model.LoadCheckpoint(p)
		if err != nil {
			t.Fatal(err)
		}
		if w, o := ckStateHash(m2); w != wantW || o != wantO || ck.GlobalStep != 2 {
			t.Errorf("%s: state differs from the model's after the dropped step (global step %d)", filepath.Base(p), ck.GlobalStep)
		}
	}
	a, _ := os.ReadFile(after)
	b, _ := os.ReadFile(filepath.Join(dir, model.CheckpointName(2)))
	if !bytes.Equal(a, b) {
		t.Error("the checkpoint after the dropped step differs from the one before it (generator or state moved)")
	}
}

// TestNonFiniteGradient builds a step whose loss is finite but whose
// gradient overflows, and checks the error and that nothing moved.
func TestNonFiniteGradient(t *testing.T) {
	m := model.NewSequential(layers.NewDense(4, nn.Linear), layers.NewDense(3, nn.ActSoftmax))
	m.Compile(optimizers.NewSGD(), losses.CategoricalCrossentropy{})
	if err := m.Build(2); err != nil {
		t.Fatal(err)
	}
	k1, k2 := m.Layers[0].Weights()[0].Value, m.Layers[1].Weights()[0].Value
	for i := range k1.Len() {
		k1.SetIndex(i, 1e-10)
	}
	for i := range k2.Len() {
		k2.SetIndex(i, 1e9*float64(i%3+1))
	}
	// Sample 0 has a huge feature: logits about 1e38 (finite), a finite
	// loss, and a first-layer gradient of about 1e38·1e8.
	x := tensor.FromFloat32([]float32{1e38, 0, 1, 1, 0, 1, 1, 0}, 4, 2)
	y := tensor.FromFloat32([]float32{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0}, 4, 3)
	before := weightsOf(m)
	_, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 4})
	var nf *model.NonFiniteError
	if !errors.As(err, &nf) || nf.What != "gradient" || nf.Layer != "dense" || nf.Step != 1 {
		t.Fatalf("got %v, want a non-finite gradient at step 1 in layer dense", err)
	}
	if !slices.Equal(weightsOf(m), before) || m.Optimizer().Iterations() != 0 {
		t.Fatal("the non-finite step changed the weights or the optimizer")
	}
}

// counter is a callback with state that checkpoints carry.
type counter struct {
	model.BaseCallback
	n int
}

func (c *counter) OnBatchEnd(int, int, model.Logs) error { c.n++; return nil }
func (c *counter) CheckpointState() ([]byte, error)      { return []byte{byte(c.n)}, nil }
func (c *counter) RestoreCheckpointState(b []byte) error {
	if len(b) != 1 {
		return errors.New("bad state")
	}
	c.n = int(b[0])
	return nil
}

func TestStatefulCallbackResumes(t *testing.T) {
	x, y, _, _ := data(t, 200, 10)
	m := compiled(t, founding(false))
	c := &counter{}
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: 50, Callbacks: []model.Callback{c, &ckStopAt{at: 6}}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := m.SaveCheckpoint(path, nil); err != nil {
		t.Fatal(err)
	}
	m2, ck, err := model.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	c2 := &counter{}
	if _, err := m2.Fit(context.Background(), x, y, model.FitOptions{Resume: ck, Callbacks: []model.Callback{c2, &ckStopAt{}}}); err != nil {
		t.Fatal(err)
	}
	if c2.n != 8 {
		t.Fatalf("the resumed counter ends at %d, want 8 (6 restored + 2 steps)", c2.n)
	}
}
