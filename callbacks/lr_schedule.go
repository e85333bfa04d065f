package callbacks

import (
	"errors"
	"fmt"

	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/optimizers/schedules"
)

// LearningRateSchedule drives the optimizer's learning rate from a
// schedule, as passing a schedule as an optimizer's learning_rate does in
// Keras: each update at step t (the optimizer's Iterations before it, 0
// for the first) uses Schedule.Rate(t). It sets the rate when each epoch
// begins and after each step, for the next one.
//
// It needs no state of its own: the step count is saved with the
// optimizer, so a resumed run gets the same rates.
type LearningRateSchedule struct {
	model.BaseCallback
	Schedule schedules.Schedule

	m *model.Sequential
}

// OnTrainBegin validates the schedule.
func (c *LearningRateSchedule) OnTrainBegin(m *model.Sequential) error {
	if c.Schedule == nil {
		return errors.New("callbacks: LearningRateSchedule: Schedule is nil")
	}
	if err := c.Schedule.Validate(); err != nil {
		return fmt.Errorf("callbacks: LearningRateSchedule: %w", err)
	}
	if m == nil || m.Optimizer() == nil {
		return errors.New("callbacks: LearningRateSchedule: the model has no optimizer")
	}
	c.m = m
	return c.set()
}

// set gives the optimizer the rate of its next step.
func (c *LearningRateSchedule) set() error {
	opt := c.m.Optimizer()
	t := opt.Iterations()
	lr := c.Schedule.Rate(t)
	if err := checkRate("LearningRateSchedule", lr); err != nil {
		return fmt.Errorf("%w (%s at step %d)", err, c.Schedule.ClassName(), t)
	}
	opt.SetLearningRate(lr)
	return nil
}

// OnEpochBegin sets the rate of the epoch's first step.
func (c *LearningRateSchedule) OnEpochBegin(int) error { return c.set() }

// OnBatchEnd sets the rate of the next step.
func (c *LearningRateSchedule) OnBatchEnd(int, int, model.Logs) error { return c.set() }

// AddEpochLogs records the rate of the epoch's last step as
// logs["learning_rate"]. (Keras logs the optimizer's rate at the epoch's
// end, which for a schedule is the rate of the next step.)
func (c *LearningRateSchedule) AddEpochLogs(epoch int, logs model.Logs) {
	logs[LearningRateKey] = c.Schedule.Rate(max(c.m.Optimizer().Iterations()-1, 0))
}
