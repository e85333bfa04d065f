package callbacks

import (
	"fmt"
	"math"

	"github.com/myelin-go/myelin/model"
)

// ReduceLROnPlateau multiplies the optimizer's learning rate by Factor
// when the monitored value has not improved for Patience epochs (Keras 3's
// ReduceLROnPlateau). After a reduction it waits Cooldown epochs, counting
// no patience, before it watches again, and never goes below MinLR.
//
// A value improves when it is below best − MinDelta (minimizing) or above
// best + MinDelta (maximizing). Keras's learning rate is a float32
// variable, so its reduced rates are rounded to float32; here they stay
// float64, as the optimizers' rates are.
//
// As in Keras, the cooldown count goes down before an epoch is judged, so
// Cooldown n leaves n−1 epochs after a reduction uncounted.
//
// Zero is a meaningful Patience, Cooldown and MinLR, so NewReduceLROnPlateau
// sets Keras's defaults. Do not combine it with LearningRateSchedule or
// LearningRateScheduler: they set the rate again (Keras refuses a schedule
// here too).
type ReduceLROnPlateau struct {
	model.BaseCallback
	Monitor  string  // logs key; "" means "val_loss"
	Factor   float64 // in [0, 1): the new rate is the old one times Factor
	Patience int     // epochs without improvement before a reduction
	MinDelta float64 // smallest change that counts as an improvement
	Cooldown int     // epochs after a reduction before counting again
	MinLR    float64 // lower bound of the rate
	Mode     string  // "auto" (or ""), "min" or "max"

	m        *model.Sequential
	greater  bool
	best     float64
	wait     int
	cooldown int // epochs of cooldown left
	guard    epochGuard
}

// NewReduceLROnPlateau returns the callback with Keras's defaults: Monitor
// "val_loss", Factor 0.1, Patience 10, MinDelta 1e-4, Cooldown 0, MinLR 0.
func NewReduceLROnPlateau() *ReduceLROnPlateau {
	return &ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.1, Patience: 10, MinDelta: 1e-4}
}

// OnTrainBegin checks the settings and resets the counters.
func (c *ReduceLROnPlateau) OnTrainBegin(m *model.Sequential) error {
	const name = "ReduceLROnPlateau"
	g, err := monitorOp(name, c.monitor(), c.Mode)
	if err != nil {
		return err
	}
	if !(c.Factor >= 0 && c.Factor < 1) {
		return fmt.Errorf("callbacks: %s: factor %g outside [0, 1)", name, c.Factor)
	}
	if c.Patience < 0 || c.Cooldown < 0 || math.IsNaN(c.MinDelta) {
		return fmt.Errorf("callbacks: %s: patience %d, cooldown %d, min_delta %g: want counts ≥ 0 and a number", name, c.Patience, c.Cooldown, c.MinDelta)
	}
	if err := checkRate(name, c.MinLR); err != nil {
		return err
	}
	if m == nil || m.Optimizer() == nil {
		return fmt.Errorf("callbacks: %s: the model has no optimizer", name)
	}
	c.m, c.greater = m, g
	c.best = math.Inf(1)
	if g {
		c.best = math.Inf(-1)
	}
	c.wait, c.cooldown, c.guard = 0, 0, epochGuard{}
	return nil
}

func (c *ReduceLROnPlateau) monitor() string { return orDefault(c.Monitor, "val_loss") }

// OnEpochBegin checks, after a resume, that the state matches the epoch.
func (c *ReduceLROnPlateau) OnEpochBegin(epoch int) error {
	return c.guard.begin("ReduceLROnPlateau", epoch)
}

// AddEpochLogs records the rate the epoch trained with as
// logs["learning_rate"].
func (c *ReduceLROnPlateau) AddEpochLogs(epoch int, logs model.Logs) {
	logs[LearningRateKey] = c.m.Optimizer().LearningRate()
}

// OnEpochEnd counts the epoch and reduces the rate when the patience has
// run out.
func (c *ReduceLROnPlateau) OnEpochEnd(epoch int, logs model.Logs) error {
	c.guard.ended(epoch)
	v, ok, err := monitorValue("ReduceLROnPlateau", c.monitor(), logs, c.m, epoch)
	if err != nil || !ok {
		return err // !ok: an epoch without validation, skipped
	}
	if c.cooldown > 0 {
		c.cooldown--
		c.wait = 0
	}
	better := v < c.best-c.MinDelta
	if c.greater {
		better = v > c.best+c.MinDelta
	}
	switch {
	case better:
		c.best, c.wait = v, 0
	case c.cooldown == 0:
		c.wait++
		if c.wait < c.Patience {
			return nil
		}
		opt := c.m.Optimizer()
		if old := opt.LearningRate(); old > c.MinLR {
			opt.SetLearningRate(max(old*c.Factor, c.MinLR))
			c.cooldown, c.wait = c.Cooldown, 0
		}
	}
	return nil
}

type plateauState struct {
	Best      string `json:"best"`
	Wait      int    `json:"wait"`
	Cooldown  int    `json:"cooldown_counter"`
	NextEpoch int    `json:"next_epoch"`
}

// CheckpointState returns the counters and the best value; the rate
// itself is saved with the optimizer.
func (c *ReduceLROnPlateau) CheckpointState() ([]byte, error) {
	return encodeState(plateauState{Best: exact(c.best), Wait: c.wait, Cooldown: c.cooldown, NextEpoch: c.guard.next}, nil)
}

// RestoreCheckpointState restores what CheckpointState saved.
func (c *ReduceLROnPlateau) RestoreCheckpointState(b []byte) error {
	var st plateauState
	if _, err := decodeState(b, &st); err != nil {
		return fmt.Errorf("callbacks: ReduceLROnPlateau: %w", err)
	}
	best, err := parseExact("best", st.Best)
	if err != nil {
		return fmt.Errorf("callbacks: ReduceLROnPlateau: %w", err)
	}
	c.best, c.wait, c.cooldown = best, st.Wait, st.Cooldown
	c.guard = epochGuard{next: st.NextEpoch, resumed: true}
	return nil
}
