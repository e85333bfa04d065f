package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

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
	// Metadata is what the writer stored with it (BackupAndRestore.Metadata).
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
	// StepsLimit is FitOptions.StepsPerEpoch (0: every batch).
	StepsLimit int `json:"steps_per_epoch_option,omitempty"`
	// ValidationFreq is FitOptions.ValidationFreq, 0 for every epoch.
	ValidationFreq int `json:"validation_freq,omitempty"`
	// SampleWeights is the SHA-256 of the samples' loss weights
	// (SampleWeight or ClassWeight; the held-out ones too when they weigh
	// the validation loss), "" without weights.
	SampleWeights string `json:"sample_weights_sha256,omitempty"`
	// ShardSize is the rows per shard (FitOptions.ShardSize), 0 for
	// whole batches, as every checkpoint before shards trained.
	ShardSize int `json:"shard_size,omitempty"`
	// SplitFirstLayer is FitOptions.SplitFirstLayer.
	SplitFirstLayer bool `json:"split_first_layer,omitempty"`
	// Ranks is the number of processes of a distributed run
	// (FitOptions.Ranks), 0 for one.
	Ranks int `json:"ranks,omitempty"`
	// BatchNormPerRank is FitOptions.BatchNormPerRank.
	BatchNormPerRank bool `json:"batchnorm_per_rank,omitempty"`
}

// fitRun is where the last Fit stands, kept up to date after each step so
// that a checkpoint can be written from a callback or after Fit returns.
type fitRun struct {
	valid         bool
	x, y          *tensor.Tensor // the training data, after the validation split
	w             *tensor.Tensor // the training samples' loss weights, nil for none
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
		f.Tensors = append(f.Tensors, toSafetensors(name, t))
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
