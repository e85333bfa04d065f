package optimizers_test

import (
	"strings"
	"testing"

	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// TestValidate checks that Validate accepts the constructors' defaults and
// the zero SGD, rejects issue 11's bare Adam{LR: 0.01} (whose second step
// was NaN) and its RMSprop twin with a message that names the constructor,
// and returns the error Step would.
func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		o    optimizers.Optimizer
		want string // "" for valid
	}{
		{"NewSGD", optimizers.NewSGD(), ""},
		{"NewAdam", optimizers.NewAdam(), ""},
		{"NewRMSprop", optimizers.NewRMSprop(), ""},
		{"SGD{}", &optimizers.SGD{}, ""}, // learning rate 0: legal, changes nothing
		{"SGD{LR: 0.1, Momentum: 0.9}", &optimizers.SGD{LR: 0.1, Momentum: 0.9}, ""},
		{"Adam{Beta1: 0}", &optimizers.Adam{LR: 0.01, Beta2: 0.999, Epsilon: 1e-7}, ""}, // β1 = 0 is legal
		{"Adam{LR: 0.01}", &optimizers.Adam{LR: 0.01}, "start from NewAdam()"},
		{"RMSprop{LR: 0.01}", &optimizers.RMSprop{LR: 0.01}, "start from NewRMSprop()"},
		{"Adam{Epsilon: 0}", &optimizers.Adam{LR: 0.01, Beta1: 0.9, Beta2: 0.999}, "epsilon 0 is not a finite number > 0"},
		{"RMSprop{Rho: 0}", &optimizers.RMSprop{LR: 0.01, Epsilon: 1e-7}, ""}, // ρ = 0 is legal: v = g²
		{"SGD momentum 2", &optimizers.SGD{LR: 0.1, Momentum: 2}, "momentum 2 outside [0, 1]"},
		{"SGD two clips", &optimizers.SGD{LR: 0.1, Clip: optimizers.Clip{ClipNorm: 1, ClipValue: 1}}, "only one of ClipNorm"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.o.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want one containing %q", err, c.want)
			}
			stepErr := c.o.Step(twoParams(tensor.Float64))
			if (err == nil) != (stepErr == nil) || err != nil && err.Error() != stepErr.Error() {
				t.Errorf("Step returned %v, Validate %v: want the same", stepErr, err)
			}
		})
	}
}

// TestConstructorsKerasDefaults checks that the three constructors take
// the same (no) arguments and set Keras's defaults, through Config.
func TestConstructorsKerasDefaults(t *testing.T) {
	for _, c := range []struct {
		o    optimizers.Optimizer
		want map[string]any
	}{
		{optimizers.NewSGD(), map[string]any{"learning_rate": 0.01, "momentum": 0.0, "nesterov": false}},
		{optimizers.NewAdam(), map[string]any{"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "pytorch_epsilon": false}},
		{optimizers.NewRMSprop(), map[string]any{"learning_rate": 1e-3, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
			"centered": false, "pytorch_epsilon": false}},
	} {
		cfg := c.o.Config()
		delete(cfg, "name")
		if len(cfg) != len(c.want) {
			t.Errorf("%s: Config() = %v, want %v", c.o.Name(), cfg, c.want)
		}
		for k, v := range c.want {
			if cfg[k] != v {
				t.Errorf("%s: %s = %v, want %v", c.o.Name(), k, cfg[k], v)
			}
		}
	}
}
