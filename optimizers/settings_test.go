package optimizers_test

import (
	"testing"

	"github.com/myelin-go/myelin/optimizers"
)

// TestClipOfDecayOf sets clipping and decay through ClipOf and DecayOf on
// every optimizer ByName knows and checks that the optimizer's Config
// reports them.
func TestClipOfDecayOf(t *testing.T) {
	for _, name := range []string{"sgd", "adam", "adamw", "nadam", "rmsprop", "adagrad"} {
		o, err := optimizers.ByName(name, 0)
		if err != nil {
			t.Fatal(err)
		}
		c, d := optimizers.ClipOf(o), optimizers.DecayOf(o)
		if c == nil || d == nil {
			t.Fatalf("%s: ClipOf %v, DecayOf %v; want both", name, c, d)
		}
		c.ClipNorm, d.WeightDecay = 0.75, 0.125
		cfg := o.Config()
		if cfg["clipnorm"] != 0.75 || cfg["weight_decay"] != 0.125 {
			t.Errorf("%s: Config clipnorm %v, weight_decay %v; want 0.75, 0.125", name, cfg["clipnorm"], cfg["weight_decay"])
		}
	}
	if optimizers.ClipOf(bare{}) != nil || optimizers.DecayOf(bare{}) != nil {
		t.Error("an optimizer without Clip and Decay: got settings, want nil")
	}
}

// bare is an Optimizer that embeds neither Clip nor Decay.
type bare struct{ optimizers.Optimizer }
