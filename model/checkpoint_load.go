package model

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/myelin-go/myelin/internal/jsonstrict"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/safetensors"
	"github.com/myelin-go/myelin/tensor"
)

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint or
// BackupAndRestore and returns the model it holds, built and compiled, with
// its weights, batch-norm state, optimizer state and generator restored,
// and the Checkpoint to pass to Fit as FitOptions.Resume.
func LoadCheckpoint(path string) (*Sequential, *Checkpoint, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("model: %w", err)
	}
	return CheckpointFromFile(f, path)
}

// CheckpointFromFile is LoadCheckpoint on a parsed file; name labels errors.
func CheckpointFromFile(f *safetensors.File, name string) (*Sequential, *Checkpoint, error) {
	lerr := func(key string, err error) error { return &LoadError{Path: name, Key: key, Err: err} }
	if f == nil {
		return nil, nil, lerr("", errors.New("want a safetensors file, got nil"))
	}
	md := f.Metadata
	if md["format"] != checkpointFormat {
		return nil, nil, lerr("__metadata__.format", fmt.Errorf("got %q, want %q (not a myelin checkpoint)", md["format"], checkpointFormat))
	}
	if v := md["format_version"]; v != CheckpointVersion {
		return nil, nil, lerr("__metadata__.format_version", fmt.Errorf("got %q, this version reads %q", v, CheckpointVersion))
	}
	// The architecture is held to what the file holds before anything is
	// allocated (see modelWithin), as for a model file.
	m, err := modelWithin(f, md["architecture"], true)
	if err != nil {
		return nil, nil, lerr("__metadata__.architecture", err)
	}
	wantDType := stDType(m.DType)
	var ost optState
	if err := strictJSON(md["optimizer"], &ost); err != nil {
		return nil, nil, lerr("__metadata__.optimizer", err)
	}
	opt, err := optimizers.ByName(ost.Name, 0)
	if err != nil {
		return nil, nil, lerr("__metadata__.optimizer", err)
	}
	if err := strictJSON(string(ost.Config), opt); err != nil {
		return nil, nil, lerr("__metadata__.optimizer.config", err)
	}
	if ost.Iterations < 0 {
		return nil, nil, lerr("__metadata__.optimizer.iterations", fmt.Errorf("%d is negative", ost.Iterations))
	}
	opt.SetIterations(ost.Iterations)
	if err := m.Compile(opt, m.loss, m.metrics...); err != nil {
		return nil, nil, lerr("__metadata__.optimizer", err)
	}
	ck := &Checkpoint{Path: name, m: m, Metadata: map[string]string{}}
	st := &ck.st
	if err := strictJSON(md["state"], st); err != nil {
		return nil, nil, lerr("__metadata__.state", err)
	}
	if err := st.check(); err != nil {
		return nil, nil, lerr("__metadata__.state", err)
	}
	for k, v := range md {
		if u, ok := strings.CutPrefix(k, "user/"); ok {
			ck.Metadata[u] = v
		}
	}
	want := map[string]bool{}
	load := func(key string, dst *tensor.Tensor) error {
		want[key] = true
		t, ok := f.Tensor(key)
		if !ok {
			return lerr(key, errors.New("missing"))
		}
		if !tensor.Shape(t.Shape).Equal(dst.Shape()) {
			return lerr(key, fmt.Errorf("shape %v, the model needs %s", tensor.Shape(t.Shape), dst.Shape()))
		}
		if t.DType != wantDType {
			return lerr(key, fmt.Errorf("dtype %s, the model's %s needs %s", t.DType, m.DType, wantDType))
		}
		if err := fromSafetensors(dst, t); err != nil {
			return lerr(key, err)
		}
		if !dst.AllFinite() {
			return lerr(key, errors.New("holds NaN or infinite values"))
		}
		return nil
	}
	if err := m.eachCheckpointTensor(load); err != nil {
		return nil, nil, err
	}
	for _, t := range f.Tensors {
		if !want[t.Name] {
			return nil, nil, lerr(t.Name, errors.New("unexpected tensor: the model and optimizer have no such weight or slot"))
		}
	}
	*m.trainPCG = st.pcg
	ck.Epoch, ck.Step, ck.Epochs = st.Epoch, st.Step, st.Epochs
	ck.GlobalStep = st.Epoch*st.StepsPerEpoch + st.Step
	ck.History = &History{Epochs: slices.Clone(st.History.Epochs), Metrics: map[string][]float64{}}
	for k, v := range st.History.Metrics {
		ck.History.Metrics[k] = slices.Clone(v)
	}
	return m, ck, nil
}

// check validates a parsed state and decodes its generators.
func (st *ckState) check() error {
	if st.Epoch < 0 || st.StepsPerEpoch <= 0 || st.Step < 0 || st.Step > st.StepsPerEpoch || st.Epochs < st.Epoch {
		return fmt.Errorf("epoch %d step %d of %d steps, %d epochs: out of range", st.Epoch, st.Step, st.StepsPerEpoch, st.Epochs)
	}
	s := st.Settings
	if s.BatchSize <= 0 || s.ShardSize < 0 || s.Ranks < 0 || s.Samples < s.BatchSize || s.ValidationSamples < 0 || !(s.ValidationSplit >= 0 && s.ValidationSplit < 1) {
		return fmt.Errorf("settings %+v out of range", s)
	}
	if st.Seen < 0 || st.Seen > s.Samples {
		return fmt.Errorf("seen %d outside [0, %d]", st.Seen, s.Samples)
	}
	if math.IsNaN(st.LossSum) || math.IsInf(st.LossSum, 0) {
		return fmt.Errorf("loss_sum %g is not finite", st.LossSum)
	}
	if st.Epoch != len(st.History.Epochs) {
		return fmt.Errorf("history has %d epochs, the checkpoint is at epoch %d", len(st.History.Epochs), st.Epoch)
	}
	for k, v := range st.History.Metrics {
		if want := historyLen(k, st.History.Epochs, s.ValidationFreq); len(v) != want {
			return fmt.Errorf("history %q has %d values for %d epochs, want %d", k, len(v), len(st.History.Epochs), want)
		}
	}
	if st.History.Metrics == nil {
		st.History.Metrics = map[string][]float64{}
	}
	for _, g := range []struct {
		key string
		hex string
		dst *rand.PCG
	}{{"rng", st.RNG, &st.pcg}, {"perm_rng", st.PermRNG, &st.permPCG}} {
		b, err := hex.DecodeString(g.hex)
		if err == nil {
			err = g.dst.UnmarshalBinary(b)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", g.key, err)
		}
	}
	return nil
}

// strictJSON decodes a metadata entry with jsonstrict.Decode; an empty
// or absent entry is "missing".
func strictJSON(s string, v any) error {
	if s == "" {
		return errors.New("missing")
	}
	return jsonstrict.Decode([]byte(s), v)
}

// historyLen is how many values History holds under key for the epochs
// (1-based) it lists: one per epoch, except that with a validation
// frequency above 1 a val_ key has one per validated epoch.
func historyLen(key string, epochs []int, freq int) int {
	if freq <= 1 || !strings.HasPrefix(key, "val_") {
		return len(epochs)
	}
	n := 0
	for _, e := range epochs {
		if e%freq == 0 {
			n++
		}
	}
	return n
}
