package model

import (
	"errors"
)

// History holds per-epoch results: "loss", each metric's name, and the
// same with "val_" in front when there is validation data.
type History struct {
	Epochs  []int                `json:"epochs"`
	Metrics map[string][]float64 `json:"history"`
	// Stopped says why training ended early ("" when it ran every epoch).
	Stopped string `json:"stopped,omitempty"`
}

func (h *History) add(epoch int, logs Logs) {
	h.Epochs = append(h.Epochs, epoch)
	for k, v := range logs {
		h.Metrics[k] = append(h.Metrics[k], v)
	}
}

// Logs maps metric names to values ("loss", "accuracy", "val_loss", ...).
type Logs map[string]float64

// Callback is called by Fit. Embed BaseCallback to implement only some
// methods. Returning ErrStopTraining ends training cleanly; any other error
// ends it and is returned by Fit.
type Callback interface {
	OnTrainBegin(m *Sequential) error
	OnEpochBegin(epoch int) error
	// OnBatchEnd is called after each applied step; step counts from 1
	// within the epoch. logs holds running means; it is reused, copy it to keep it.
	OnBatchEnd(epoch, step int, logs Logs) error
	OnEpochEnd(epoch int, logs Logs) error
	OnTrainEnd(logs Logs) error
}

// BaseCallback implements Callback with methods that do nothing.
type BaseCallback struct{}

// OnTrainBegin does nothing.
func (BaseCallback) OnTrainBegin(*Sequential) error { return nil }

// OnEpochBegin does nothing.
func (BaseCallback) OnEpochBegin(int) error { return nil }

// OnBatchEnd does nothing.
func (BaseCallback) OnBatchEnd(int, int, Logs) error { return nil }

// OnEpochEnd does nothing.
func (BaseCallback) OnEpochEnd(int, Logs) error { return nil }

// OnTrainEnd does nothing.
func (BaseCallback) OnTrainEnd(Logs) error { return nil }

// ErrStopTraining, returned by a callback, ends Fit without an error.
var ErrStopTraining = errors.New("model: training stopped by a callback")

// eachCallback calls f for every callback in order. An ErrStopTraining is
// remembered while the rest still run, as Keras finishes the list after a
// callback sets stop_training; any other error returns at once.
func eachCallback(cbs []Callback, f func(Callback) error) error {
	var stop error
	for _, c := range cbs {
		if err := f(c); err != nil {
			if !errors.Is(err, ErrStopTraining) {
				return err
			}
			stop = err
		}
	}
	return stop
}

// stopEarly ends training after a callback returned err. For
// ErrStopTraining it is a clean stop: as in Keras, every callback's
// OnTrainEnd still runs (with a copy of logs), so that callbacks that
// summarize or close files do so. Any other error is returned as it is.
func (m *Sequential) stopEarly(h *History, err error, cbs []Callback, logs Logs) error {
	if err = m.stopErr(h, err); err != nil {
		return err
	}
	end := Logs{}
	for k, v := range logs {
		end[k] = v
	}
	for _, c := range cbs {
		if err := c.OnTrainEnd(end); err != nil && !errors.Is(err, ErrStopTraining) {
			return err
		}
	}
	return nil
}

func (m *Sequential) stopErr(h *History, err error) error {
	if errors.Is(err, ErrStopTraining) {
		h.Stopped = "stopped by a callback"
		return nil
	}
	return err
}

// EpochLogger is implemented by callbacks that add values to an epoch's
// logs, such as the learning rate the epoch trained with, before the
// History records them, the progress line prints them and OnEpochEnd
// sees them. Keras's ReduceLROnPlateau and LearningRateScheduler add
// "learning_rate" this way.
type EpochLogger interface {
	AddEpochLogs(epoch int, logs Logs)
}

// Validates reports whether the Fit in progress (or the last one) has
// validation data, and whether it validates at the end of epoch (0-based):
// with FitOptions.ValidationFreq some epochs do not, and callbacks that
// watch a validation value skip those.
func (m *Sequential) Validates(epoch int) (hasData, atEpoch bool) {
	run := &m.fit.run
	if !run.valid || run.settings.ValidationSamples == 0 {
		return false, false
	}
	return true, (epoch+1)%max(run.settings.ValidationFreq, 1) == 0
}
