package callbacks

import (
	"errors"
	"fmt"

	"github.com/myelin-go/myelin/model"
)

// LearningRateScheduler sets the optimizer's learning rate at the start of
// each epoch to Schedule(epoch, current rate), epoch counting from 0
// (Keras 3's LearningRateScheduler).
//
// A resumed Fit that continues inside an epoch does not apply Schedule to
// that epoch again: the rate it set is in the checkpoint, and applying a
// relative schedule (lr·0.9) twice would change the run.
type LearningRateScheduler struct {
	model.BaseCallback
	Schedule func(epoch int, lr float64) float64

	m       *model.Sequential
	applied int // the epoch whose rate was set last, -1 for none
}

// NewLearningRateScheduler returns the callback for schedule.
func NewLearningRateScheduler(schedule func(epoch int, lr float64) float64) *LearningRateScheduler {
	return &LearningRateScheduler{Schedule: schedule}
}

// OnTrainBegin checks the settings.
func (c *LearningRateScheduler) OnTrainBegin(m *model.Sequential) error {
	if c.Schedule == nil {
		return errors.New("callbacks: LearningRateScheduler: Schedule is nil")
	}
	if m == nil || m.Optimizer() == nil {
		return errors.New("callbacks: LearningRateScheduler: the model has no optimizer")
	}
	c.m, c.applied = m, -1
	return nil
}

// OnEpochBegin sets the epoch's rate.
func (c *LearningRateScheduler) OnEpochBegin(epoch int) error {
	if epoch == c.applied {
		return nil // resumed inside this epoch
	}
	opt := c.m.Optimizer()
	lr := c.Schedule(epoch, opt.LearningRate())
	if err := checkRate("LearningRateScheduler", lr); err != nil {
		return fmt.Errorf("%w (epoch %d)", err, epoch+1)
	}
	opt.SetLearningRate(lr)
	c.applied = epoch
	return nil
}

// AddEpochLogs records the epoch's rate as logs["learning_rate"].
func (c *LearningRateScheduler) AddEpochLogs(epoch int, logs model.Logs) {
	logs[LearningRateKey] = c.m.Optimizer().LearningRate()
}

type schedulerState struct {
	Applied int `json:"applied_epoch"`
}

// CheckpointState returns the epoch whose rate was set last.
func (c *LearningRateScheduler) CheckpointState() ([]byte, error) {
	return encodeState(schedulerState{Applied: c.applied}, nil)
}

// RestoreCheckpointState restores what CheckpointState saved.
func (c *LearningRateScheduler) RestoreCheckpointState(b []byte) error {
	var st schedulerState
	if _, err := decodeState(b, &st); err != nil {
		return fmt.Errorf("callbacks: LearningRateScheduler: %w", err)
	}
	c.applied = st.Applied
	return nil
}
