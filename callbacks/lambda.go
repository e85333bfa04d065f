package callbacks

import "github.com/myelin-go/myelin/model"

// Lambda is a callback made of plain functions, Keras's LambdaCallback.
// Each nil function is skipped. The fields cannot carry the method names
// (OnEpochEnd, ...) that Go gives the callback's methods, so they drop the
// "On". A function may return model.ErrStopTraining to end training
// cleanly.
//
//	callbacks.Lambda{EpochEnd: func(epoch int, logs model.Logs) error {
//		fmt.Println(epoch, logs["loss"])
//		return nil
//	}}
type Lambda struct {
	TrainBegin func(m *model.Sequential) error
	EpochBegin func(epoch int) error
	BatchEnd   func(epoch, step int, logs model.Logs) error
	EpochEnd   func(epoch int, logs model.Logs) error
	TrainEnd   func(logs model.Logs) error
}

// OnTrainBegin calls TrainBegin.
func (c *Lambda) OnTrainBegin(m *model.Sequential) error {
	if c.TrainBegin == nil {
		return nil
	}
	return c.TrainBegin(m)
}

// OnEpochBegin calls EpochBegin.
func (c *Lambda) OnEpochBegin(epoch int) error {
	if c.EpochBegin == nil {
		return nil
	}
	return c.EpochBegin(epoch)
}

// OnBatchEnd calls BatchEnd.
func (c *Lambda) OnBatchEnd(epoch, step int, logs model.Logs) error {
	if c.BatchEnd == nil {
		return nil
	}
	return c.BatchEnd(epoch, step, logs)
}

// OnEpochEnd calls EpochEnd.
func (c *Lambda) OnEpochEnd(epoch int, logs model.Logs) error {
	if c.EpochEnd == nil {
		return nil
	}
	return c.EpochEnd(epoch, logs)
}

// OnTrainEnd calls TrainEnd.
func (c *Lambda) OnTrainEnd(logs model.Logs) error {
	if c.TrainEnd == nil {
		return nil
	}
	return c.TrainEnd(logs)
}
