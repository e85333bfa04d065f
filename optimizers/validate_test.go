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
		{"NewAdamW", optimizers.NewAdamW(), ""},
		{"NewNadam", optimizers.NewNadam(), ""},
		{"NewAdagrad", optimizers.NewAdagrad(), ""},
		{"AdamW{LR: 0.01}", &optimizers.AdamW{Adam: optimizers.Adam{LR: 0.01}}, "optimizers: adamw: beta_1, beta_2 and epsilon are all 0, as in a bare AdamW{} literal; start from NewAdamW()"},
		{"Nadam{LR: 0.01}", &optimizers.Nadam{LR: 0.01}, "optimizers: nadam: beta_1, beta_2 and epsilon are all 0, as in a bare Nadam{} literal; start from NewNadam()"},
		{"Adagrad{LR: 0.01}", &optimizers.Adagrad{LR: 0.01}, "optimizers: adagrad: initial_accumulator_value and epsilon are both 0, as in a bare Adagrad{} literal"},
		{"Adagrad{Epsilon: 0}", &optimizers.Adagrad{LR: 0.01, InitialAccumulatorValue: 0.1}, ""}, // the accumulator is > 0
		{"Adagrad{InitialAccumulatorValue: 0}", &optimizers.Adagrad{LR: 0.01, Epsilon: 1e-7}, ""},
		{"Adagrad negative accumulator", &optimizers.Adagrad{LR: 0.01, InitialAccumulatorValue: -1, Epsilon: 1e-7}, "optimizers: adagrad: initial_accumulator_value -1 is not a finite number ≥ 0"},
		{"Nadam beta_1", &optimizers.Nadam{LR: 0.01, Beta1: 1, Beta2: 0.999, Epsilon: 1e-7}, "optimizers: nadam: beta_1 1 outside [0, 1)"},
		{"Nadam epsilon 0", &optimizers.Nadam{LR: 0.01, Beta1: 0.9, Beta2: 0.999}, "optimizers: nadam: epsilon 0 is not a finite number > 0"},
		{"SGD negative decay", &optimizers.SGD{LR: 0.1, Decay: optimizers.Decay{WeightDecay: -0.1}}, "optimizers: sgd: weight_decay -0.1 is not a finite number ≥ 0"},
		{"RMSprop empty exclusion", func() optimizers.Optimizer {
			o := optimizers.NewRMSprop()
			o.WeightDecay, o.ExcludeFromWeightDecay = 0.1, []string{""}
			return o
		}(), "optimizers: rmsprop: an empty name in ExcludeFromWeightDecay would exclude every parameter"},
		{"Adagrad two clips", func() optimizers.Optimizer {
			o := optimizers.NewAdagrad()
			o.ClipNorm, o.GlobalClipNorm = 1, 1
			return o
		}(), "optimizers: adagrad: only one of ClipNorm"},
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
		{optimizers.NewAdamW(), map[string]any{"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "pytorch_epsilon": false,
			"weight_decay": 0.004}},
		{optimizers.NewNadam(), map[string]any{"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}},
		{optimizers.NewAdagrad(), map[string]any{"learning_rate": 1e-3, "initial_accumulator_value": 0.1, "epsilon": 1e-7, "pytorch_epsilon": false}},
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
