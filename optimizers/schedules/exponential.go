package schedules

import (
	"fmt"
	"math"
)

// ExponentialDecay multiplies the rate by DecayRate every DecaySteps steps
// (Keras's ExponentialDecay):
//
//	rate(step) = InitialLearningRate · DecayRate^(step / DecaySteps)
//
// With Staircase the exponent is floor(step / DecaySteps), so the rate
// drops in steps.
type ExponentialDecay struct {
	InitialLearningRate float64 `json:"initial_learning_rate"`
	DecaySteps          float64 `json:"decay_steps"` // > 0
	DecayRate           float64 `json:"decay_rate"`
	Staircase           bool    `json:"staircase"`
}

func init() { register("ExponentialDecay", func() Schedule { return new(ExponentialDecay) }) }

// ClassName returns "ExponentialDecay".
func (s *ExponentialDecay) ClassName() string { return "ExponentialDecay" }

// Rate returns the rate at step.
func (s *ExponentialDecay) Rate(step int) float64 {
	p := float64(step) / s.DecaySteps
	if s.Staircase {
		p = math.Floor(p)
	}
	return s.InitialLearningRate * math.Pow(s.DecayRate, p)
}

// Validate checks that DecaySteps is positive and the rates finite.
func (s *ExponentialDecay) Validate() error {
	const c = "ExponentialDecay"
	if !(s.DecaySteps > 0) || math.IsInf(s.DecaySteps, 0) {
		return fmt.Errorf("schedules: %s: decay_steps %g must be a finite number > 0", c, s.DecaySteps)
	}
	if err := checkFinite(c, "initial_learning_rate", s.InitialLearningRate, true); err != nil {
		return err
	}
	return checkFinite(c, "decay_rate", s.DecayRate, true)
}
