// Package schedules holds learning-rate schedules with Keras 3's names,
// arguments and formulas (keras.optimizers.schedules): ExponentialDecay,
// CosineDecay (with linear warmup), PiecewiseConstantDecay and
// InverseTimeDecay.
//
// A Schedule maps the optimizer's step count to a learning rate. The step
// is Keras's optimizer.iterations before the update: 0 for the first
// update, so the first step uses Rate(0). Because the step count is part
// of every checkpoint (the optimizer's Iterations), a schedule needs no
// state of its own and a resumed run gets the same rates.
//
// Rates are computed in float64. Keras computes them in the dtype of
// initial_learning_rate, usually float32, so its values can differ from
// these in the 8th significant digit.
//
// The exported fields of each schedule are its configuration, with
// Keras's get_config keys as JSON names; Marshal and Unmarshal save and
// restore a schedule as {"class_name": ..., "config": ...}, Keras's
// serialized form.
//
// To drive an optimizer from a schedule during Fit, use the callback
// callbacks.LearningRateSchedule, which sets the optimizer's rate before
// every step from its Iterations.
package schedules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Schedule is a learning rate as a function of the optimizer's step.
type Schedule interface {
	// Rate returns the learning rate for the update at step (0-based:
	// the optimizer's Iterations before the update).
	Rate(step int) float64
	// ClassName returns Keras's class name, "ExponentialDecay", ...
	ClassName() string
	// Validate reports an error when a field is out of range; Rate's
	// result is meaningless for a schedule that fails it.
	Validate() error
}

// registry maps Keras class names to a new zero schedule of that class,
// for Unmarshal.
var registry = map[string]func() Schedule{}

// register adds a class to the registry; each schedule's file calls it
// from init.
func register(name string, zero func() Schedule) { registry[name] = zero }

// serialized is Keras's serialized form of a schedule.
type serialized struct {
	ClassName string          `json:"class_name"`
	Config    json.RawMessage `json:"config"`
}

// Marshal returns s as JSON in Keras's serialized form:
// {"class_name": "CosineDecay", "config": {"initial_learning_rate": ...}}.
func Marshal(s Schedule) ([]byte, error) {
	if s == nil {
		return nil, errors.New("schedules: Marshal: nil schedule")
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("schedules: %s: %w", s.ClassName(), err)
	}
	return json.Marshal(serialized{ClassName: s.ClassName(), Config: cfg})
}

// Unmarshal parses what Marshal wrote and validates it. Unknown classes
// and unknown config keys are errors.
func Unmarshal(b []byte) (Schedule, error) {
	var ser serialized
	if err := strictJSON(b, &ser); err != nil {
		return nil, fmt.Errorf("schedules: Unmarshal: %w", err)
	}
	zero, ok := registry[ser.ClassName]
	if !ok {
		return nil, fmt.Errorf("schedules: Unmarshal: unknown class_name %q", ser.ClassName)
	}
	s := zero()
	if err := strictJSON(ser.Config, s); err != nil {
		return nil, fmt.Errorf("schedules: Unmarshal: %s config: %w", ser.ClassName, err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// checkFinite reports an error unless x is finite (and ≥ 0 when
// nonNegative).
func checkFinite(class, field string, x float64, nonNegative bool) error {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return fmt.Errorf("schedules: %s: %s %g is not finite", class, field, x)
	}
	if nonNegative && x < 0 {
		return fmt.Errorf("schedules: %s: %s %g is negative", class, field, x)
	}
	return nil
}
