package schedules

import "fmt"

// PiecewiseConstantDecay is constant between step boundaries (Keras's
// PiecewiseConstantDecay): Values[0] while step ≤ Boundaries[0],
// Values[i] while Boundaries[i-1] < step ≤ Boundaries[i], and the last
// value after the last boundary. Boundaries increase strictly and there is
// one more value than boundaries.
type PiecewiseConstantDecay struct {
	Boundaries []int     `json:"boundaries"`
	Values     []float64 `json:"values"`
}

func init() {
	register("PiecewiseConstantDecay", func() Schedule { return new(PiecewiseConstantDecay) })
}

// ClassName returns "PiecewiseConstantDecay".
func (s *PiecewiseConstantDecay) ClassName() string { return "PiecewiseConstantDecay" }

// Rate returns the value of the interval that holds step.
func (s *PiecewiseConstantDecay) Rate(step int) float64 {
	for i, b := range s.Boundaries {
		if step <= b {
			return s.Values[i]
		}
	}
	return s.Values[len(s.Values)-1]
}

// Validate checks the lengths, the order of the boundaries and the values.
func (s *PiecewiseConstantDecay) Validate() error {
	const c = "PiecewiseConstantDecay"
	if len(s.Values) == 0 || len(s.Boundaries) != len(s.Values)-1 {
		return fmt.Errorf("schedules: %s: %d boundaries and %d values; want one value more than boundaries", c, len(s.Boundaries), len(s.Values))
	}
	for i := 1; i < len(s.Boundaries); i++ {
		if s.Boundaries[i] <= s.Boundaries[i-1] {
			return fmt.Errorf("schedules: %s: boundaries %v do not increase strictly", c, s.Boundaries)
		}
	}
	for i, v := range s.Values {
		if err := checkFinite(c, fmt.Sprintf("values[%d]", i), v, true); err != nil {
			return err
		}
	}
	return nil
}
