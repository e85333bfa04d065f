package layers

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/jsonstrict"
	"github.com/myelin-go/myelin/nn"
)

// Regularized is a layer whose weights carry a penalty that training adds
// to the loss (Keras's kernel_regularizer and bias_regularizer, gathered
// in layer.losses). The model sums every Regularized layer's Penalty into
// the loss it reports and differentiates, in one place, so a new layer
// takes part by implementing this interface alone.
type Regularized interface {
	Layer
	// Penalty records the layer's weight penalty on tp and returns it as a
	// one-element value, or nil when there is none. As in Keras, only
	// trainable weights are penalized: a Frozen layer has no penalty.
	Penalty(tp *autodiff.Tape) *autodiff.Var
}

// Regularizer is a weight penalty, L1·Σ|w| + L2·Σw², under one of Keras's
// three class names: L1, L2 or L1L2 (make them with the functions of those
// names). Keras's L2 has no ½: its gradient is 2·L2·w, so Keras's L2(l) is
// PyTorch's weight_decay=2·l on plain SGD.
//
// In architecture JSON a regularizer is written as Keras writes it:
// {"class_name": "L2", "config": {"l2": 0.01}}.
type Regularizer struct {
	L1, L2 float64
	class  string // "L1", "L2" or "L1L2"; "" is read as L1L2
}

// L1 returns Keras's L1 regularizer, l1·Σ|w| (Keras's default l1 is 0.01).
func L1(l1 float64) *Regularizer { return &Regularizer{L1: l1, class: "L1"} }

// L2 returns Keras's L2 regularizer, l2·Σw² (Keras's default l2 is 0.01).
func L2(l2 float64) *Regularizer { return &Regularizer{L2: l2, class: "L2"} }

// L1L2 returns Keras's L1L2 regularizer, l1·Σ|w| + l2·Σw² (Keras's
// defaults are 0 and 0).
func L1L2(l1, l2 float64) *Regularizer { return &Regularizer{L1: l1, L2: l2, class: "L1L2"} }

// ClassName returns Keras's class name: "L1", "L2" or "L1L2".
func (r *Regularizer) ClassName() string {
	if r.class == "" {
		return "L1L2"
	}
	return r.class
}

// String returns the regularizer as Keras's constructor call, e.g. "L2(0.01)".
func (r *Regularizer) String() string {
	switch r.ClassName() {
	case "L1":
		return fmt.Sprintf("L1(%g)", r.L1)
	case "L2":
		return fmt.Sprintf("L2(%g)", r.L2)
	}
	return fmt.Sprintf("L1L2(%g, %g)", r.L1, r.L2)
}

// validate refuses factors Keras refuses: negative, NaN or infinite.
func (r *Regularizer) validate(field string) error {
	if r == nil {
		return nil
	}
	for _, v := range []float64{r.L1, r.L2} {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("layers: %s %s: factor %g must be non-negative and finite", field, r, v)
		}
	}
	return nil
}

// of records r's penalty of w on tp, or returns nil when there is nothing
// to penalize: no regularizer, no weight, or a weight that does not train.
func (r *Regularizer) of(tp *autodiff.Tape, w *autodiff.Var) *autodiff.Var {
	if r == nil || w == nil || !w.NeedsGrad() {
		return nil
	}
	return nn.Penalty(tp, w, r.L1, r.L2)
}

var _ Regularized = (*Dense)(nil)

// addPenalty returns a + b where either may be nil.
func addPenalty(tp *autodiff.Tape, a, b *autodiff.Var) *autodiff.Var {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return nn.Add(tp, a, b)
}

type regularizerJSON struct {
	ClassName string          `json:"class_name"`
	Config    json.RawMessage `json:"config"`
}

// MarshalJSON writes {"class_name": ..., "config": {...}} with only the
// class's own factors, as Keras's get_config does.
func (r *Regularizer) MarshalJSON() ([]byte, error) {
	var cfg any
	switch r.ClassName() {
	case "L1":
		cfg = struct {
			L1 float64 `json:"l1"`
		}{r.L1}
	case "L2":
		cfg = struct {
			L2 float64 `json:"l2"`
		}{r.L2}
	default:
		cfg = struct {
			L1 float64 `json:"l1"`
			L2 float64 `json:"l2"`
		}{r.L1, r.L2}
	}
	c, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	return json.Marshal(regularizerJSON{ClassName: r.ClassName(), Config: c})
}

// UnmarshalJSON reads what MarshalJSON writes. A factor missing from the
// config takes Keras's default (0.01 for L1 and L2, 0 for L1L2); an
// unknown class or field is an error.
func (r *Regularizer) UnmarshalJSON(b []byte) error {
	var doc regularizerJSON
	if err := jsonstrict.Decode(b, &doc); err != nil {
		return fmt.Errorf("layers: regularizer: %w", err)
	}
	var cfg struct {
		L1 *float64 `json:"l1"`
		L2 *float64 `json:"l2"`
	}
	if len(doc.Config) > 0 && string(doc.Config) != "null" {
		if err := jsonstrict.Decode(doc.Config, &cfg); err != nil {
			return fmt.Errorf("layers: regularizer %s config: %w", doc.ClassName, err)
		}
	}
	switch doc.ClassName {
	case "L1":
		*r = *L1(0.01)
		if cfg.L2 != nil {
			return fmt.Errorf("layers: regularizer L1 config: unknown field \"l2\" (use L1L2)")
		}
	case "L2":
		*r = *L2(0.01)
		if cfg.L1 != nil {
			return fmt.Errorf("layers: regularizer L2 config: unknown field \"l1\" (use L1L2)")
		}
	case "L1L2":
		*r = *L1L2(0, 0)
	default:
		return fmt.Errorf("layers: regularizer: unknown class_name %q (want L1, L2 or L1L2)", doc.ClassName)
	}
	if cfg.L1 != nil {
		r.L1 = *cfg.L1
	}
	if cfg.L2 != nil {
		r.L2 = *cfg.L2
	}
	return nil
}
