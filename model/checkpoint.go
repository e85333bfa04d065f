package model

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/myelin-go/myelin/internal/atomicfile"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/safetensors"
	"github.com/myelin-go/myelin/tensor"
)

// A checkpoint file is a safetensors file holding everything Fit needs to
// continue a run exactly where it was:
//
//	<layer>/<weight>                     weights and batch-norm state, as in a model file
//	optimizer/<layer>/<weight>/<slot>    each optimizer slot (Keras's names: momentum, velocity, ...)
//
// and the metadata
//
//	format            "myelin-checkpoint"
//	format_version    CheckpointVersion
//	architecture      the architecture JSON, with the compile configuration
//	optimizer         {"name", "config" (every field), "iterations", "learning_rate"}
//	state             where the run stands: epoch, step within it, the
//	                  shuffling/dropout generator now and before this epoch's
//	                  shuffle (to regenerate the permutation), the epoch's
//	                  running loss sum and metric counts, the settings a
//	                  resumed Fit must match (batch size, sample count,
//	                  shuffle, validation split, a SHA-256 of the training
//	                  data), callback states and the History so far
//	user/<key>        the caller's metadata (Checkpoint.Metadata)
//
// A checkpoint is never written with a NaN or infinite value in it.

// CheckpointVersion is the version of the checkpoint layout this package writes.
const CheckpointVersion = "1"

const checkpointFormat = "myelin-checkpoint"

// Checkpoint is a training run's saved position, as LoadCheckpoint read it.
// Pass it to Fit in FitOptions.Resume, with the model it was loaded into,
// to continue the run; it can be resumed from once.
type Checkpoint struct {
	Path       string // the file it was read from
	Epoch      int    // 0-based epoch in progress (the next one when Step is 0)
	Step       int    // steps of that epoch already taken
	GlobalStep int    // steps taken in the run: Epoch × StepsPerEpoch + Step
	Epochs     int    // the run's FitOptions.Epochs
	// History holds the epochs completed before the checkpoint.
	History *History
	// Metadata is what the writer stored with it (ModelCheckpoint.Metadata).
	Metadata map[string]string
	// Skipped lists, for LatestCheckpoint, the newer files in the
	// directory that could not be used, each with the reason.
	Skipped []string

	m    *Sequential
	st   ckState
	used bool // a Fit has resumed from it
}

// ckState is the "state" metadata.
type ckState struct {
	Epoch         int           `json:"epoch"`
	Step          int           `json:"step"`
	StepsPerEpoch int           `json:"steps_per_epoch"`
	Epochs        int           `json:"epochs"`
	Settings      fitSettings   `json:"settings"`
	DataSHA256    string        `json:"data_sha256"`
	RNG           string        `json:"rng"`      // hex of rand.PCG.MarshalBinary: the generator now
	PermRNG       string        `json:"perm_rng"` // the generator before this epoch's shuffle
	LossSum       float64       `json:"loss_sum"` // Σ batch loss × batch size over this epoch's steps
	Seen          int           `json:"seen"`     // samples in those steps
	Metrics       []metricState `json:"metrics,omitempty"`
	Callbacks     []cbState     `json:"callbacks,omitempty"`
	History       History       `json:"history"`

	pcg, permPCG rand.PCG
}

type metricState struct {
	Name  string `json:"name"`
	State []byte `json:"state"`
}

type cbState struct {
	Key   string `json:"key"`
	State []byte `json:"state"`
}

type optState struct {
	Name         string          `json:"name"`
	Config       json.RawMessage `json:"config"`
	Iterations   int             `json:"iterations"`
	LearningRate float64         `json:"learning_rate"`
}

// fitSettings are the Fit options a resumed run must share.
type fitSettings struct {
	BatchSize         int     `json:"batch_size"`
	Samples           int     `json:"samples"`
	Shuffle           bool    `json:"shuffle"`
	DropIncomplete    bool    `json:"drop_incomplete"`
	ValidationSplit   float64 `json:"validation_split"`
	ValidationData    bool    `json:"validation_data"`
	ValidationSamples int     `json:"validation_samples"`
}

// fitRun is where the last Fit stands, kept up to date after each step so
// that a checkpoint can be written from a callback or after Fit returns.
type fitRun struct {
	valid         bool
	x, y          *tensor.Tensor // the training data, after the validation split
	dataSum       string         // SHA-256 of x and y, computed on first need
	settings      fitSettings
	epochs, steps int
	epoch, step   int // the next step to take is step (0-based) of epoch (0-based)
	lossSum       float64
	seen          int
	permPCG       rand.PCG // the generator before this epoch's shuffle
	history       *History
	callbacks     []Callback
}

// StatefulCallback is implemented by callbacks whose state a checkpoint
// should carry (a learning-rate schedule's position, early stopping's best
// value). The state is saved with each checkpoint and, when Fit resumes,
// restored after OnTrainBegin, matched by the callback's position in
// FitOptions.Callbacks and its type.
type StatefulCallback interface {
	Callback
	CheckpointState() ([]byte, error)
	RestoreCheckpointState(state []byte) error
}

// CheckpointFile returns the checkpoint of the model's current training
// position as a safetensors file, with meta stored under "user/". It must
// follow a Fit (or be called from one of its callbacks). It fails, naming
// the tensor, when any value is NaN or infinite.
func (m *Sequential) CheckpointFile(meta map[string]string) (*safetensors.File, error) {
	run := &m.fit.run
	if !m.built || !m.compiled || !run.valid {
		return nil, errors.New("model: checkpoint: no training run to save (call Fit first)")
	}
	arch, err := m.Architecture()
	if err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(m.opt)
	if err != nil {
		return nil, fmt.Errorf("model: checkpoint: optimizer %s: %w", m.opt.Name(), err)
	}
	opt, err := json.Marshal(optState{Name: m.opt.Name(), Config: cfg, Iterations: m.opt.Iterations(), LearningRate: m.opt.LearningRate()})
	if err != nil {
		return nil, fmt.Errorf("model: checkpoint: optimizer %s: %w", m.opt.Name(), err)
	}
	if run.dataSum == "" {
		run.dataSum = dataSHA256(run.x, run.y)
	}
	st := ckState{
		Epoch: run.epoch, Step: run.step, StepsPerEpoch: run.steps, Epochs: run.epochs,
		Settings: run.settings, DataSHA256: run.dataSum,
		RNG: pcgHex(m.trainPCG), PermRNG: pcgHex(&run.permPCG),
		History: History{Epochs: slices.Clone(run.history.Epochs), Metrics: map[string][]float64{}},
	}
	if st.History.Epochs == nil {
		st.History.Epochs = []int{}
	}
	for k, v := range run.history.Metrics {
		st.History.Metrics[k] = slices.Clone(v)
	}
	if run.step > 0 {
		st.LossSum, st.Seen = run.lossSum, run.seen
		for _, mt := range m.metrics {
			b, err := metricStateOf(mt)
			if err != nil {
				return nil, err
			}
			st.Metrics = append(st.Metrics, metricState{Name: mt.Name(), State: b})
		}
	}
	for i, c := range run.callbacks {
		if sc, ok := c.(StatefulCallback); ok {
			b, err := sc.CheckpointState()
			if err != nil {
				return nil, fmt.Errorf("model: checkpoint: callback %T: %w", c, err)
			}
			st.Callbacks = append(st.Callbacks, cbState{Key: cbKey(i, c), State: b})
		}
	}
	if err := st.finite(); err != nil {
		return nil, err
	}
	state, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("model: checkpoint: %w", err)
	}
	f := &safetensors.File{Metadata: map[string]string{
		"format": checkpointFormat, "format_version": CheckpointVersion,
		"architecture": string(arch), "optimizer": string(opt), "state": string(state),
	}}
	for k, v := range meta {
		f.Metadata["user/"+k] = v
	}
	add := func(name string, t *tensor.Tensor) error {
		if !t.AllFinite() {
			return fmt.Errorf("model: checkpoint: %s holds NaN or infinite values; not saving it", name)
		}
		if d := t.Float32s(); d != nil {
			f.Tensors = append(f.Tensors, safetensors.F32(name, t.Shape(), d))
		} else {
			f.Tensors = append(f.Tensors, safetensors.F64(name, t.Shape(), t.Float64s()))
		}
		return nil
	}
	if err := m.eachCheckpointTensor(add); err != nil {
		return nil, err
	}
	return f, nil
}

// eachCheckpointTensor calls fn, in a fixed order, with the name and the
// array of everything a checkpoint holds as tensors: every layer weight
// and state ("<layer>/<weight>"), then after each trainable weight its
// optimizer slots ("optimizer/<layer>/<weight>/<slot>"). Writing and
// reading a checkpoint both walk it, so the names are made in one place.
func (m *Sequential) eachCheckpointTensor(fn func(name string, t *tensor.Tensor) error) error {
	slotNames := m.opt.SlotNames()
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			key := l.Name() + "/" + w.Name
			if err := fn(key, w.Value); err != nil {
				return err
			}
			if !w.Trainable() {
				continue
			}
			for i, st := range m.opt.State(w.Param) {
				if err := fn("optimizer/"+key+"/"+slotNames[i], st); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (st *ckState) finite() error {
	bad := func(what string, v float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("model: checkpoint: %s is %g; not saving it", what, v)
		}
		return nil
	}
	if err := bad("the epoch's loss sum", st.LossSum); err != nil {
		return err
	}
	for k, vs := range st.History.Metrics {
		for i, v := range vs {
			if err := bad(fmt.Sprintf("history %q of epoch %d", k, i+1), v); err != nil {
				return err
			}
		}
	}
	return nil
}

// SaveCheckpoint writes the checkpoint of the model's current training
// position (see CheckpointFile) to path atomically: a crash at any moment
// leaves any previous file at path intact, and an error (a full disk, a
// non-finite value) writes nothing.
func (m *Sequential) SaveCheckpoint(path string, meta map[string]string) error {
	f, err := m.CheckpointFile(meta)
	if err != nil {
		return err
	}
	if err := checkpointWrite(path, f); err != nil {
		return fmt.Errorf("model: checkpoint: %w", err)
	}
	return nil
}

// checkpointWrite is replaced in tests.
var checkpointWrite = safetensors.WriteFile

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint or
// ModelCheckpoint and returns the model it holds, built and compiled, with
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
	// allocated (see archWithin), as for a model file.
	a, m, err := archWithin(f, md["architecture"])
	if err != nil {
		return nil, nil, lerr("__metadata__.architecture", err)
	}
	if len(a.Config.InputShape) == 0 || a.Config.Compile == nil {
		return nil, nil, lerr("__metadata__.architecture", errors.New("no input_shape or compile configuration"))
	}
	if err := m.Build(a.Config.InputShape...); err != nil {
		return nil, nil, lerr("__metadata__.architecture", err)
	}
	if err := compileArch(m, a.Config.Compile); err != nil {
		return nil, nil, lerr("__metadata__.architecture", err)
	}
	wantDType := safetensors.DTypeF32
	if m.DType == tensor.Float64 {
		wantDType = safetensors.DTypeF64
	}
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
		if d := dst.Float32s(); d != nil {
			v, err := t.Float32s()
			if err != nil {
				return lerr(key, err)
			}
			copy(d, v)
		} else {
			v, err := t.Float64s()
			if err != nil {
				return lerr(key, err)
			}
			copy(dst.Float64s(), v)
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
	if s.BatchSize <= 0 || s.Samples < s.BatchSize || s.ValidationSamples < 0 || !(s.ValidationSplit >= 0 && s.ValidationSplit < 1) {
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
		if len(v) != len(st.History.Epochs) {
			return fmt.Errorf("history %q has %d values for %d epochs", k, len(v), len(st.History.Epochs))
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

// checkResume verifies that ck continues the run Fit is about to start.
func (m *Sequential) checkResume(ck *Checkpoint, run *fitRun) error {
	if ck.m != m {
		return errors.New("model: Fit: Resume: the checkpoint was loaded into another model; use the model LoadCheckpoint returned")
	}
	if ck.used {
		return errors.New("model: Fit: Resume: the checkpoint was already resumed from; load it again")
	}
	st, got := &ck.st, run.settings
	want := st.Settings
	var diffs []string
	diff := func(name string, g, w any) {
		if g != w {
			diffs = append(diffs, fmt.Sprintf("%s %v (the checkpoint has %v)", name, g, w))
		}
	}
	diff("BatchSize", got.BatchSize, want.BatchSize)
	diff("training samples", got.Samples, want.Samples)
	diff("shuffle", got.Shuffle, want.Shuffle)
	diff("DropIncomplete", got.DropIncomplete, want.DropIncomplete)
	diff("ValidationSplit", got.ValidationSplit, want.ValidationSplit)
	diff("validation data given", got.ValidationData, want.ValidationData)
	diff("validation samples", got.ValidationSamples, want.ValidationSamples)
	diff("steps per epoch", run.steps, st.StepsPerEpoch)
	if len(diffs) == 0 && st.DataSHA256 != "" {
		run.dataSum = dataSHA256(run.x, run.y)
		if run.dataSum != st.DataSHA256 {
			diffs = append(diffs, "training data (its SHA-256 differs)")
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("model: Fit: Resume: %s: %s", ck.Path, strings.Join(diffs, "; "))
	}
	ck.used = true // the model moves on from here
	return nil
}

// resumeOptions fills the zero BatchSize and Epochs of a resumed Fit from
// the checkpoint and checks InitialEpoch and Epochs against it.
func resumeOptions(opt *FitOptions) error {
	ck := opt.Resume
	if opt.InitialEpoch != 0 {
		return fmt.Errorf("model: Fit: InitialEpoch %d with Resume: the checkpoint sets the epoch", opt.InitialEpoch)
	}
	if opt.BatchSize == 0 {
		opt.BatchSize = ck.st.Settings.BatchSize
	}
	if opt.Epochs == 0 {
		opt.Epochs = ck.st.Epochs
	}
	if opt.Epochs < ck.st.Epoch || opt.Epochs == ck.st.Epoch && ck.st.Step > 0 {
		return fmt.Errorf("model: Fit: Epochs %d ends before the checkpoint's position (epoch %d, step %d)", opt.Epochs, ck.st.Epoch+1, ck.st.Step)
	}
	opt.InitialEpoch = ck.st.Epoch
	return nil
}

func restoreCallbacks(ck *Checkpoint, cbs []Callback) error {
	for i, c := range cbs {
		sc, ok := c.(StatefulCallback)
		if !ok {
			continue
		}
		for _, s := range ck.st.Callbacks {
			if s.Key == cbKey(i, c) {
				if err := sc.RestoreCheckpointState(s.State); err != nil {
					return fmt.Errorf("model: Fit: Resume: callback %T: %w", c, err)
				}
			}
		}
	}
	return nil
}

func cbKey(i int, c Callback) string { return fmt.Sprintf("%d/%T", i, c) }

func pcgHex(p *rand.PCG) string {
	b, _ := p.MarshalBinary() // cannot fail
	return hex.EncodeToString(b)
}

// dataSHA256 hashes the shapes and elements of x and y.
func dataSHA256(x, y *tensor.Tensor) string {
	h := sha256.New()
	buf := make([]byte, 0, 64<<10)
	for _, t := range []*tensor.Tensor{x, y} {
		fmt.Fprintf(h, "%s %s;", t.DType(), t.Shape())
		if d := t.Float32s(); d != nil {
			for _, v := range d {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				if len(buf) == cap(buf) {
					h.Write(buf)
					buf = buf[:0]
				}
			}
		} else {
			for _, v := range t.Float64s() {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
				if len(buf) == cap(buf) {
					h.Write(buf)
					buf = buf[:0]
				}
			}
		}
		h.Write(buf)
		buf = buf[:0]
	}
	return hex.EncodeToString(h.Sum(nil))
}

func strictJSON(s string, v any) error {
	if s == "" {
		return errors.New("missing")
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// Metric state: a metric saves its running counts through
// encoding.BinaryMarshaler and BinaryUnmarshaler, as every metric of
// package metrics does; one that does not can be checkpointed only at
// epoch ends, where no running state is needed.

func metricStateOf(mt metrics.Metric) ([]byte, error) {
	bm, ok1 := mt.(encoding.BinaryMarshaler)
	_, ok2 := mt.(encoding.BinaryUnmarshaler)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("model: checkpoint: metric %q (%T) cannot save its running state; implement encoding.BinaryMarshaler and BinaryUnmarshaler, or checkpoint at epoch ends only", mt.Name(), mt)
	}
	return bm.MarshalBinary()
}

func restoreMetrics(ms []metrics.Metric, saved []metricState) error {
	if len(saved) != len(ms) {
		return fmt.Errorf("model: Fit: Resume: the checkpoint has %d metric states for %d metrics", len(saved), len(ms))
	}
	for i, mt := range ms {
		s := saved[i]
		if s.Name != mt.Name() {
			return fmt.Errorf("model: Fit: Resume: metric %d is %q, the checkpoint has %q", i, mt.Name(), s.Name)
		}
		bu, ok := mt.(encoding.BinaryUnmarshaler)
		if !ok {
			return fmt.Errorf("model: Fit: Resume: metric %q (%T) cannot restore its running state", mt.Name(), mt)
		}
		if err := bu.UnmarshalBinary(s.State); err != nil {
			return fmt.Errorf("model: Fit: Resume: metric %q: %w", mt.Name(), err)
		}
	}
	return nil
}

// CheckpointName returns the file name ModelCheckpoint gives the
// checkpoint after globalStep steps; names sort in step order.
func CheckpointName(globalStep int) string { return fmt.Sprintf("ckpt-%012d.safetensors", globalStep) }

// checkpointStep parses a CheckpointName.
func checkpointStep(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "ckpt-")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".safetensors")
	if !ok || s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// checkpointFiles lists the checkpoints in dir, newest (highest step) first.
func checkpointFiles(dir string) ([]string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	type named struct {
		step int
		name string
	}
	var ns []named
	for _, e := range es {
		if n, ok := checkpointStep(e.Name()); ok && e.Type().IsRegular() {
			ns = append(ns, named{n, e.Name()})
		}
	}
	slices.SortFunc(ns, func(a, b named) int { return b.step - a.step })
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = filepath.Join(dir, n.name)
	}
	return out, nil
}

// LatestCheckpoint loads the newest checkpoint in dir that loads and holds
// only finite values, skipping (and listing in Checkpoint.Skipped) newer
// ones that are truncated, corrupt or otherwise unusable. Leftover
// temporaries of an interrupted write are ignored.
func LatestCheckpoint(dir string) (*Sequential, *Checkpoint, error) {
	files, err := checkpointFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	var skipped []string
	for _, p := range files {
		m, ck, err := LoadCheckpoint(p)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", filepath.Base(p), err))
			continue
		}
		ck.Skipped = skipped
		return m, ck, nil
	}
	if len(skipped) > 0 {
		return nil, nil, fmt.Errorf("model: no usable checkpoint in %s:\n\t%s", dir, strings.Join(skipped, "\n\t"))
	}
	return nil, nil, fmt.Errorf("model: no checkpoint (%s) in %s", CheckpointName(0)[:5]+"*.safetensors", dir)
}

// ModelCheckpoint is a callback that saves checkpoints of the run into
// Dir, named by global step (CheckpointName), for LatestCheckpoint and
// FitOptions.Resume to continue from. Each is written atomically, and the
// oldest are removed only once the new one is safely on disk, so a crash
// at any moment leaves the last complete checkpoint loadable. Leftover
// temporaries of a crashed writer are removed when training begins; a
// directory should therefore be used by one run at a time.
type ModelCheckpoint struct {
	BaseCallback
	Dir string
	// EverySteps > 0 saves after every EverySteps-th step of the run
	// (counted across epochs); 0 saves at the end of each epoch.
	EverySteps int
	// Keep is how many checkpoints to keep: 0 means 3, a negative value
	// keeps all.
	Keep int
	// Metadata is stored in each checkpoint (Checkpoint.Metadata).
	Metadata map[string]string
	// Last is the path of the newest checkpoint written.
	Last string

	m *Sequential
}

// OnTrainBegin creates Dir and removes leftover temporaries in it.
func (c *ModelCheckpoint) OnTrainBegin(m *Sequential) error {
	if c.Dir == "" {
		return errors.New("model: ModelCheckpoint: Dir is empty")
	}
	if c.EverySteps < 0 {
		return fmt.Errorf("model: ModelCheckpoint: EverySteps %d is negative", c.EverySteps)
	}
	c.m = m
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("model: ModelCheckpoint: %w", err)
	}
	if _, err := atomicfile.CleanTemps(c.Dir); err != nil {
		return fmt.Errorf("model: ModelCheckpoint: %w", err)
	}
	return nil
}

// OnBatchEnd saves every EverySteps steps.
func (c *ModelCheckpoint) OnBatchEnd(epoch, step int, logs Logs) error {
	if c.EverySteps > 0 && c.globalStep()%c.EverySteps == 0 {
		_, err := c.Save()
		return err
	}
	return nil
}

// OnEpochEnd saves when EverySteps is 0.
func (c *ModelCheckpoint) OnEpochEnd(epoch int, logs Logs) error {
	if c.EverySteps == 0 {
		_, err := c.Save()
		return err
	}
	return nil
}

func (c *ModelCheckpoint) globalStep() int {
	run := &c.m.fit.run
	return run.epoch*run.steps + run.step
}

// Save writes a checkpoint of the model's position now (for instance
// after Fit was cancelled), removes the oldest beyond Keep, and returns
// its path.
func (c *ModelCheckpoint) Save() (string, error) {
	if c.m == nil {
		return "", errors.New("model: ModelCheckpoint: Save before training began")
	}
	path := filepath.Join(c.Dir, CheckpointName(c.globalStep()))
	if err := c.m.SaveCheckpoint(path, c.Metadata); err != nil {
		return "", err
	}
	c.Last = path
	keep := c.Keep
	if keep == 0 {
		keep = 3
	}
	if keep < 0 {
		return path, nil
	}
	files, err := checkpointFiles(c.Dir)
	if err != nil {
		return path, err
	}
	kept := 1 // the new one, always
	for _, p := range files {
		if p == path {
			continue
		}
		if kept < keep {
			kept++
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return path, fmt.Errorf("model: ModelCheckpoint: %w", err)
		}
	}
	return path, nil
}
