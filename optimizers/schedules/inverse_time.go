package schedules

import (
	"fmt"
	"math"
)

// InverseTimeDecay divides the rate by a linear function of the step
// (Keras's InverseTimeDecay):
//
//	rate(step) = InitialLearningRate / (1 + DecayRate · step / DecaySteps)
//
// With Staircase, step / DecaySteps is floored.
type InverseTimeDecay struct {
	InitialLearningRate float64 `json:"initial_learning_rate"`
	DecaySteps          float64 `json:"decay_steps"` // > 0
	DecayRate           float64 `json:"decay_rate"`  // ≥ 0
	Staircase           bool    `json:"staircase"`
}

func init() { register("InverseTimeDecay", func() Schedule { return new(InverseTimeDecay) }) }

// ClassName returns "InverseTimeDecay".
func (s *InverseTimeDecay) ClassName() string { return "InverseTimeDecay" }

// Rate returns the rate at step.
func (s *InverseTimeDecay) Rate(step int) float64 {
	p := float64(step) / s.DecaySteps
	if s.Staircase {
		p = math.Floor(p)
	}
	return s.InitialLearningRate / (1 + s.DecayRate*p)
}

// Validate checks that DecaySteps is positive and DecayRate is not
// negative (which could make the denominator zero).
func (s *InverseTimeDecay) Validate() error {
	const c = "InverseTimeDecay"
	if !(s.DecaySteps > 0) || math.IsInf(s.DecaySteps, 0) {
		return fmt.Errorf("schedules: %s: decay_steps %g must be a finite number > 0", c, s.DecaySteps)
	}
	if err := checkFinite(c, "initial_learning_rate", s.InitialLearningRate, true); err != nil {
		return err
	}
	return checkFinite(c, "decay_rate", s.DecayRate, true)
}
