package schedules

import (
	"fmt"
	"math"
)

// CosineDecay follows half a cosine from a starting rate down to Alpha
// times it over DecaySteps steps, after an optional linear warmup
// (Keras's CosineDecay; Loshchilov and Hutter 2016, arXiv:1608.03983, for
// the cosine; Goyal et al. 2017, arXiv:1706.02677, for the warmup).
//
// Without WarmupTarget (nil), the decay starts from InitialLearningRate:
//
//	s = min(step, DecaySteps)
//	rate(step) = InitialLearningRate · ((1−Alpha)·½(1 + cos(π·s/DecaySteps)) + Alpha)
//
// With WarmupTarget, the rate first rises linearly from
// InitialLearningRate to *WarmupTarget over WarmupSteps steps, then decays
// from *WarmupTarget as above, the step counted from the warmup's end:
//
//	s = min(step, WarmupSteps + DecaySteps)
//	s < WarmupSteps:  rate = InitialLearningRate + (WarmupTarget − InitialLearningRate)·s/WarmupSteps
//	otherwise:        rate = WarmupTarget · ((1−Alpha)·½(1 + cos(π·(s−WarmupSteps)/DecaySteps)) + Alpha)
type CosineDecay struct {
	InitialLearningRate float64 `json:"initial_learning_rate"`
	DecaySteps          int     `json:"decay_steps"` // > 0
	// Alpha is the final rate as a fraction of the decay's starting rate.
	Alpha float64 `json:"alpha"`
	// WarmupTarget is the rate the warmup reaches; nil (Keras's None) means
	// no warmup.
	WarmupTarget *float64 `json:"warmup_target"`
	WarmupSteps  int      `json:"warmup_steps"` // ≥ 0
}

func init() { register("CosineDecay", func() Schedule { return new(CosineDecay) }) }

// ClassName returns "CosineDecay".
func (s *CosineDecay) ClassName() string { return "CosineDecay" }

// Rate returns the rate at step.
func (s *CosineDecay) Rate(step int) float64 {
	st := float64(step)
	if s.WarmupTarget == nil {
		return s.decay(min(st, float64(s.DecaySteps)), s.InitialLearningRate)
	}
	target, warm := *s.WarmupTarget, float64(s.WarmupSteps)
	st = min(st, warm+float64(s.DecaySteps))
	if st < warm {
		return (target-s.InitialLearningRate)*(st/warm) + s.InitialLearningRate
	}
	return s.decay(st-warm, target)
}

// decay is the cosine part from rate from at step st of DecaySteps.
func (s *CosineDecay) decay(st, from float64) float64 {
	c := 0.5 * (1 + math.Cos(math.Pi*(st/float64(s.DecaySteps))))
	return from * ((1-s.Alpha)*c + s.Alpha)
}

// Validate checks the step counts and rates.
func (s *CosineDecay) Validate() error {
	const c = "CosineDecay"
	if s.DecaySteps <= 0 {
		return fmt.Errorf("schedules: %s: decay_steps %d must be > 0", c, s.DecaySteps)
	}
	if s.WarmupSteps < 0 {
		return fmt.Errorf("schedules: %s: warmup_steps %d is negative", c, s.WarmupSteps)
	}
	if err := checkFinite(c, "initial_learning_rate", s.InitialLearningRate, true); err != nil {
		return err
	}
	if err := checkFinite(c, "alpha", s.Alpha, true); err != nil {
		return err
	}
	if s.WarmupTarget != nil {
		return checkFinite(c, "warmup_target", *s.WarmupTarget, true)
	}
	return nil
}
