package monitor

import (
	"maps"

	"github.com/myelin-go/myelin/model"
)

// Curves records Fit's training metrics every Every steps, for loss and
// accuracy curves finer than History's one point per epoch, and each
// epoch's final logs, which add the validation metrics ("val_loss", ...).
//
// Batch points hold what Fit's logs hold: running means since the start of
// the epoch, so a curve is smooth within an epoch and restarts at each.
// Steps count from 1 across epochs and Fit calls; Reset starts over.
type Curves struct {
	model.BaseCallback

	// Every is the sampling period in steps; 0 means 10.
	Every int

	// Points holds the samples in order: batch points, and one EpochEnd
	// point at the end of each epoch.
	Points []CurvePoint

	step int
}

// CurvePoint is Fit's logs at one step.
type CurvePoint struct {
	Step  int                // global step, from 1 across epochs and Fit calls
	Epoch int                // epoch, from 1 as in History.Epochs
	Logs  map[string]float64 // a copy of Fit's logs
	// EpochEnd marks the epoch's final logs, with validation metrics.
	EpochEnd bool
}

// OnBatchEnd records on sampled steps.
func (c *Curves) OnBatchEnd(epoch, _ int, logs model.Logs) error {
	c.step++
	if c.step%every(c.Every, 10) == 0 {
		c.Points = append(c.Points, CurvePoint{Step: c.step, Epoch: epoch + 1, Logs: maps.Clone(map[string]float64(logs))})
	}
	return nil
}

// OnEpochEnd records the epoch's logs.
func (c *Curves) OnEpochEnd(epoch int, logs model.Logs) error {
	c.Points = append(c.Points, CurvePoint{Step: c.step, Epoch: epoch + 1, Logs: maps.Clone(map[string]float64(logs)), EpochEnd: true})
	return nil
}

// Series returns the steps and values of metric key, from the batch
// points or, with epochEnd, from the epoch-end points; points without the
// key are skipped.
func (c *Curves) Series(key string, epochEnd bool) (steps []int, values []float64) {
	for _, p := range c.Points {
		if v, ok := p.Logs[key]; ok && p.EpochEnd == epochEnd {
			steps = append(steps, p.Step)
			values = append(values, v)
		}
	}
	return steps, values
}

// Reset forgets the points and restarts the step count.
func (c *Curves) Reset() {
	c.Points = c.Points[:0]
	c.step = 0
}
