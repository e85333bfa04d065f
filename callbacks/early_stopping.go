package callbacks

import (
	"errors"
	"fmt"
	"math"

	"github.com/myelin-go/myelin/model"
)

// EarlyStopping ends training when the monitored value has stopped
// improving (Keras 3's EarlyStopping). The zero value has Keras's
// defaults: Monitor "val_loss", MinDelta 0, Patience 0, Mode "auto", no
// Baseline, RestoreBestWeights off, StartFromEpoch 0.
//
// At the end of each epoch from StartFromEpoch on, the value v counts as
// an improvement when v − MinDelta > best (maximizing) or v + MinDelta <
// best (minimizing); the first value always does. An improvement becomes
// the best and, when it also improves on Baseline (or there is none),
// resets the count of epochs waited. Otherwise, once Patience epochs have
// passed since the count was reset, Fit stops after this epoch (never
// after the first epoch). So with a Baseline the run stops Patience epochs
// after the start unless the value beats the baseline, however much it
// improves meanwhile — Keras 3's rule.
//
// With RestoreBestWeights, the weights of the best epoch — every layer's
// parameters and state, batch-norm moving statistics included — are put
// back when training ends, whether it stopped early or ran every epoch
// (Keras 3; Keras 2 restored only after an early stop). The copy is kept
// in buffers allocated in OnTrainBegin and saved with checkpoints.
//
// OnTrainBegin resets the best value too; Keras 3 keeps it from an
// earlier fit of the same callback object.
type EarlyStopping struct {
	model.BaseCallback
	Monitor            string   // logs key; "" means "val_loss"
	MinDelta           float64  // smallest change that counts as an improvement; its sign is ignored
	Patience           int      // epochs without improvement before stopping
	Mode               string   // "auto" (or ""), "min" or "max"
	Baseline           *float64 // a value to beat before the wait is reset; nil for none
	RestoreBestWeights bool     // put back the best epoch's weights at the end of training
	StartFromEpoch     int      // epochs (0-based) before this one are not considered

	// StoppedEpoch is the 0-based epoch after which it stopped training,
	// 0 when it did not (Keras's stopped_epoch).
	StoppedEpoch int
	// BestEpoch is the 0-based epoch of the best value so far.
	BestEpoch int

	m           *model.Sequential
	greater     bool
	best        float64
	wait        int
	bestWeights snapshot
	hasWeights  bool // bestWeights holds an epoch's weights
	guard       epochGuard
}

// OnTrainBegin checks the settings and resets the state.
func (c *EarlyStopping) OnTrainBegin(m *model.Sequential) error {
	g, err := monitorOp("EarlyStopping", c.monitor(), c.Mode)
	if err != nil {
		return err
	}
	if c.Patience < 0 || c.StartFromEpoch < 0 || math.IsNaN(c.MinDelta) {
		return fmt.Errorf("callbacks: EarlyStopping: patience %d, start_from_epoch %d, min_delta %g: want counts ≥ 0 and a number", c.Patience, c.StartFromEpoch, c.MinDelta)
	}
	if c.RestoreBestWeights && m == nil {
		return errors.New("callbacks: EarlyStopping: RestoreBestWeights needs the model")
	}
	c.m, c.greater = m, g
	c.best = math.Inf(1)
	if g {
		c.best = math.Inf(-1)
	}
	c.wait, c.StoppedEpoch, c.BestEpoch, c.hasWeights = 0, 0, 0, false
	c.guard = epochGuard{}
	if c.RestoreBestWeights {
		c.bestWeights.alloc(m)
	}
	return nil
}

func (c *EarlyStopping) monitor() string { return orDefault(c.Monitor, "val_loss") }

// improves reports whether v improves on ref by more than MinDelta.
func (c *EarlyStopping) improves(v, ref float64) bool {
	d := math.Abs(c.MinDelta)
	if c.greater {
		return v-d > ref
	}
	return v+d < ref
}

// OnEpochBegin checks, after a resume, that the state matches the epoch.
func (c *EarlyStopping) OnEpochBegin(epoch int) error { return c.guard.begin("EarlyStopping", epoch) }

// OnEpochEnd updates the best value and returns model.ErrStopTraining
// when the patience has run out.
func (c *EarlyStopping) OnEpochEnd(epoch int, logs model.Logs) error {
	c.guard.ended(epoch)
	v, ok, err := monitorValue("EarlyStopping", c.monitor(), logs, c.m, epoch)
	if err != nil || !ok {
		return err // !ok: an epoch without validation, skipped
	}
	if epoch < c.StartFromEpoch {
		return nil
	}
	if c.RestoreBestWeights && !c.hasWeights {
		// The first epoch considered: its weights are the best so far,
		// even if its value is not finite.
		c.bestWeights.take(c.m)
		c.hasWeights, c.BestEpoch = true, epoch
	}
	c.wait++
	if c.improves(v, c.best) {
		c.best, c.BestEpoch = v, epoch
		if c.RestoreBestWeights {
			c.bestWeights.take(c.m)
		}
		if c.Baseline == nil || c.improves(v, *c.Baseline) {
			c.wait = 0
		}
		return nil
	}
	if c.wait >= c.Patience && epoch > 0 {
		c.StoppedEpoch = epoch
		return model.ErrStopTraining
	}
	return nil
}

// OnTrainEnd restores the best weights when RestoreBestWeights is set.
func (c *EarlyStopping) OnTrainEnd(model.Logs) error {
	if c.RestoreBestWeights && c.hasWeights {
		c.bestWeights.restore(c.m)
	}
	return nil
}

// Best returns the best monitored value so far (±Inf before the first).
func (c *EarlyStopping) Best() float64 { return c.best }

type earlyStoppingState struct {
	Best         string `json:"best"`
	Wait         int    `json:"wait"`
	BestEpoch    int    `json:"best_epoch"`
	StoppedEpoch int    `json:"stopped_epoch"`
	HasWeights   bool   `json:"has_weights"` // the best weights follow the JSON
	NextEpoch    int    `json:"next_epoch"`
}

// CheckpointState returns the counters, the best value and, with
// RestoreBestWeights, the best weights bit for bit.
func (c *EarlyStopping) CheckpointState() ([]byte, error) {
	st := earlyStoppingState{Best: exact(c.best), Wait: c.wait, BestEpoch: c.BestEpoch,
		StoppedEpoch: c.StoppedEpoch, HasWeights: c.hasWeights, NextEpoch: c.guard.next}
	var tail []byte
	if c.hasWeights {
		tail = c.bestWeights.appendTo(make([]byte, 0, c.bestWeights.size()))
	}
	return encodeState(st, tail)
}

// RestoreCheckpointState restores what CheckpointState saved; Fit calls
// it after OnTrainBegin.
func (c *EarlyStopping) RestoreCheckpointState(b []byte) error {
	var st earlyStoppingState
	tail, err := decodeState(b, &st)
	if err != nil {
		return fmt.Errorf("callbacks: EarlyStopping: %w", err)
	}
	best, err := parseExact("best", st.Best)
	if err != nil {
		return fmt.Errorf("callbacks: EarlyStopping: %w", err)
	}
	if st.HasWeights != c.RestoreBestWeights && st.HasWeights {
		return errors.New("callbacks: EarlyStopping: the checkpoint holds best weights but RestoreBestWeights is off")
	}
	if st.HasWeights {
		if err := c.bestWeights.setFrom(tail); err != nil {
			return fmt.Errorf("callbacks: EarlyStopping: %w", err)
		}
	} else if len(tail) != 0 {
		return fmt.Errorf("callbacks: EarlyStopping: %d unexpected bytes after the state", len(tail))
	}
	c.best, c.wait, c.BestEpoch, c.StoppedEpoch, c.hasWeights = best, st.Wait, st.BestEpoch, st.StoppedEpoch, st.HasWeights
	c.guard = epochGuard{next: st.NextEpoch, resumed: true}
	return nil
}
