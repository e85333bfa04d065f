package optimizers_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/golden"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

func TestDecays(t *testing.T) {
	for _, c := range []struct {
		name    string
		d       optimizers.Decay
		param   string
		decayed bool
	}{
		{"off", optimizers.Decay{}, "dense/kernel", false},
		{"kernel", optimizers.Decay{WeightDecay: 0.1}, "dense/kernel", true},
		{"bias", optimizers.Decay{WeightDecay: 0.1}, "dense/bias", false},
		{"gamma", optimizers.Decay{WeightDecay: 0.1}, "batch_normalization/gamma", false},
		{"beta", optimizers.Decay{WeightDecay: 0.1}, "batch_normalization/beta", false},
		{"bare bias", optimizers.Decay{WeightDecay: 0.1}, "bias", false},
		{"not a suffix", optimizers.Decay{WeightDecay: 0.1}, "bias/kernel", true},
		{"longer name", optimizers.Decay{WeightDecay: 0.1}, "dense/biases", true},
		{"decay all", optimizers.Decay{WeightDecay: 0.1, DecayAll: true}, "dense/bias", true},
		{"excluded", optimizers.Decay{WeightDecay: 0.1, ExcludeFromWeightDecay: []string{"dense_1/"}}, "dense_1/kernel", false},
		{"not excluded", optimizers.Decay{WeightDecay: 0.1, ExcludeFromWeightDecay: []string{"dense_1/"}}, "dense_2/kernel", true},
		{"excluded beats decay all", optimizers.Decay{WeightDecay: 0.1, DecayAll: true, ExcludeFromWeightDecay: []string{"bias"}}, "dense/bias", false},
	} {
		p := autodiff.NewParam(tensor.New(tensor.Float64, 1), c.param)
		if got := c.d.Decays(p); got != c.decayed {
			t.Errorf("%s: %+v.Decays(%q) = %v, want %v", c.name, c.d, c.param, got, c.decayed)
		}
	}
}

// TestDecayBeforeUpdate checks Keras's order on one SGD step by hand:
// w ← w − lr·wd·w, then w ← w − lr·g, for a kernel, and no decay for a
// bias, in both dtypes.
func TestDecayBeforeUpdate(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
		o := optimizers.NewSGD()
		o.LR, o.WeightDecay = 0.5, 0.2
		k := autodiff.NewParam(tensor.FromFloat64([]float64{2, -4}, 2).As(dt), "dense/kernel")
		b := autodiff.NewParam(tensor.FromFloat64([]float64{2, -4}, 2).As(dt), "dense/bias")
		for _, p := range []*autodiff.Var{k, b} {
			p.Grad = tensor.FromFloat64([]float64{1, 1}, 2).As(dt)
		}
		if err := o.Step([]*autodiff.Var{k, b}); err != nil {
			t.Fatal(err)
		}
		// kernel: 2 − 0.5·0.2·2 − 0.5 = 1.3; −4 + 0.4 − 0.5 = −4.1.
		// bias:   2 − 0.5 = 1.5;          −4 − 0.5 = −4.5.
		for _, c := range []struct {
			p    *autodiff.Var
			want []float64
		}{{k, []float64{1.3, -4.1}}, {b, []float64{1.5, -4.5}}} {
			if i, ok := golden.Close(values(c.p.Value), c.want, 1e-6, 0); !ok {
				t.Errorf("%s %s element %d: got %v, want %v", dt, c.p.Name, i, c.p.Value.Index(i), c.want[i])
			}
		}
	}
}

// TestJSONRoundTrip saves each optimizer's configuration as the model's
// checkpoint does (encoding/json of the optimizer value), restores it into
// ByName's optimizer with unknown fields rejected, copies the state and
// step count, and checks that both continue bit for bit; and that the
// restored Config equals the saved one.
func TestJSONRoundTrip(t *testing.T) {
	for name, mk := range allConfigs() {
		t.Run(name, func(t *testing.T) {
			a, pa := mk(), twoParams(tensor.Float64)
			for range 3 {
				if err := a.Step(pa); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			b, err := optimizers.ByName(a.Name(), 0)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(cfg))
			dec.DisallowUnknownFields()
			if err := dec.Decode(b); err != nil {
				t.Fatalf("decoding %s: %v", cfg, err)
			}
			if ga, gb := fmtConfig(a), fmtConfig(b); ga != gb {
				t.Fatalf("Config after the round trip %s, want %s", gb, ga)
			}
			continuesAlike(t, a, pa, b, 3)
		})
	}
}

// TestJSONKeepsDecaySettings checks that the settings Decay adds survive
// the round trip, including AdamW's decay set to 0 (which must not come
// back as the constructor's 0.004).
func TestJSONKeepsDecaySettings(t *testing.T) {
	w := optimizers.NewAdamW()
	w.WeightDecay, w.DecayAll, w.ExcludeFromWeightDecay = 0, true, []string{"dense_1/"}
	cfg, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := optimizers.ByName("adamw", 0)
	if err := json.Unmarshal(cfg, b); err != nil {
		t.Fatal(err)
	}
	got := b.(*optimizers.AdamW)
	if got.WeightDecay != 0 || !got.DecayAll || strings.Join(got.ExcludeFromWeightDecay, ",") != "dense_1/" {
		t.Errorf("after the round trip of %s: WeightDecay %g, DecayAll %v, Exclude %q; want 0, true, [dense_1/]",
			cfg, got.WeightDecay, got.DecayAll, got.ExcludeFromWeightDecay)
	}
}

func fmtConfig(o optimizers.Optimizer) string {
	b, _ := json.Marshal(o.Config()) // map keys are sorted
	return string(b)
}
