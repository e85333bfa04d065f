package tensorboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

// Callback writes a training run to a new event file in Dir as model.Fit
// goes:
//
//   - epoch/<name> for every epoch log ("epoch/loss", "epoch/accuracy",
//     "epoch/val_loss", ...), at step = epochs completed (1, 2, ...);
//   - batch/<name> for the running means of the batch logs every
//     BatchEvery steps, at step = steps since the Callback was made;
//   - <layer>/<weight> histograms ("dense_1/kernel",
//     "batch_normalization/moving_mean", ...) of every weight, parameters
//     and state, before the first epoch (at step = the initial epoch) and
//     after every HistogramEvery epochs.
//
// A Fit resumed from a checkpoint (model.FitOptions.Resume) writes a new
// file that carries on the batch step count and skips the initial
// histograms, through the model.StatefulCallback methods.
//
// The file is flushed after each epoch and closed when training ends. Fit
// does not call OnTrainEnd when it returns early (an error, a cancelled
// context, a callback stopping training), so defer Close as well.
type Callback struct {
	model.BaseCallback

	Dir string // the run's directory, created if needed
	// BatchEvery is the number of steps between batch scalars; 0 writes none.
	BatchEvery int
	// HistogramEvery is the number of epochs between weight histograms; 0
	// writes none.
	HistogramEvery int

	w       *Writer
	path    string
	weights []weight
	step    int64 // steps seen, across epochs and Fit calls
	started bool  // initial histograms written
	keys    []string
	buf     []float64
}

// NewCallback returns a Callback writing to dir with scalars of the batch
// logs every 100 steps and weight histograms every epoch.
func NewCallback(dir string) *Callback {
	return &Callback{Dir: dir, BatchEvery: 100, HistogramEvery: 1}
}

// Path returns the path of the event file of the latest Fit, "" before
// the first.
func (c *Callback) Path() string { return c.path }

// OnTrainBegin opens a new event file.
func (c *Callback) OnTrainBegin(m *model.Sequential) error {
	if c.BatchEvery < 0 || c.HistogramEvery < 0 {
		return errors.New("tensorboard: Callback: BatchEvery and HistogramEvery must not be negative")
	}
	if err := c.Close(); err != nil { // a file left open by an earlier Fit
		return err
	}
	w, err := NewWriter(c.Dir)
	if err != nil {
		return err
	}
	c.w, c.path, c.started = w, w.Path(), false
	c.weights = c.weights[:0]
	for _, l := range m.Layers {
		for _, wt := range l.Weights() {
			c.weights = append(c.weights, weight{l.Name() + "/" + wt.Name, wt.Value})
		}
	}
	return nil
}

var _ model.StatefulCallback = (*Callback)(nil)

// callbackState is what a checkpoint keeps of a Callback.
type callbackState struct {
	Step int64 `json:"step"` // steps seen
}

// CheckpointState returns the step count, for a checkpoint.
func (c *Callback) CheckpointState() ([]byte, error) {
	return json.Marshal(callbackState{Step: c.step})
}

// RestoreCheckpointState restores the step count of a checkpoint; the run's
// earlier file already holds the initial histograms, so they are skipped.
func (c *Callback) RestoreCheckpointState(state []byte) error {
	var st callbackState
	if err := json.Unmarshal(state, &st); err != nil {
		return fmt.Errorf("tensorboard: Callback: checkpoint state: %w", err)
	}
	if st.Step < 0 {
		return fmt.Errorf("tensorboard: Callback: checkpoint state: negative step %d", st.Step)
	}
	c.step, c.started = st.Step, true
	return nil
}

// weight is one array to histogram and its tag.
type weight struct {
	tag   string
	value *tensor.Tensor // updated in place by training
}

var errNotBegun = errors.New("tensorboard: Callback: OnTrainBegin was not called")

// OnEpochBegin writes the initial weight histograms before the first epoch.
func (c *Callback) OnEpochBegin(epoch int) error {
	if c.w == nil {
		return errNotBegun
	}
	if c.started {
		return nil
	}
	c.started = true
	if c.HistogramEvery == 0 {
		return nil
	}
	return c.histograms(int64(epoch))
}

// OnBatchEnd writes the running batch logs every BatchEvery steps.
func (c *Callback) OnBatchEnd(epoch, step int, logs model.Logs) error {
	if c.w == nil {
		return errNotBegun
	}
	c.step++
	if c.BatchEvery == 0 || c.step%int64(c.BatchEvery) != 0 {
		return nil
	}
	return c.scalars("batch/", c.step, logs)
}

// OnEpochEnd writes the epoch logs and, every HistogramEvery epochs, the
// weight histograms, then flushes the file.
func (c *Callback) OnEpochEnd(epoch int, logs model.Logs) error {
	if c.w == nil {
		return errNotBegun
	}
	done := int64(epoch + 1)
	if err := c.scalars("epoch/", done, logs); err != nil {
		return err
	}
	if c.HistogramEvery > 0 && done%int64(c.HistogramEvery) == 0 {
		if err := c.histograms(done); err != nil {
			return err
		}
	}
	return c.w.Flush()
}

// OnTrainEnd closes the file.
func (c *Callback) OnTrainEnd(model.Logs) error { return c.Close() }

// Close flushes and closes the event file, if one is open.
func (c *Callback) Close() error {
	if c.w == nil {
		return nil
	}
	err := c.w.Close()
	c.w = nil
	return err
}

// scalars writes logs in name order, so that files are reproducible.
func (c *Callback) scalars(prefix string, step int64, logs model.Logs) error {
	c.keys = c.keys[:0]
	for k := range logs {
		c.keys = append(c.keys, k)
	}
	slices.Sort(c.keys)
	for _, k := range c.keys {
		if err := c.w.Scalar(prefix+k, step, logs[k]); err != nil {
			return err
		}
	}
	return nil
}

func (c *Callback) histograms(step int64) error {
	for _, wt := range c.weights {
		if err := c.w.Histogram(wt.tag, step, c.values(wt.value)); err != nil {
			return err
		}
	}
	return nil
}

// values returns t's elements as float64s, converting float32 ones into a
// reused buffer.
func (c *Callback) values(t *tensor.Tensor) []float64 {
	if f := t.Float64s(); f != nil {
		return f
	}
	c.buf = c.buf[:0]
	for _, v := range t.Float32s() {
		c.buf = append(c.buf, float64(v))
	}
	return c.buf
}
