package layers_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// TestRegularizerJSON checks Keras's serialized form of each class and
// that it reads back to the same factors.
func TestRegularizerJSON(t *testing.T) {
	for _, c := range []struct {
		r    *layers.Regularizer
		want string
	}{
		{layers.L1(0.01), `{"class_name":"L1","config":{"l1":0.01}}`},
		{layers.L2(0.5), `{"class_name":"L2","config":{"l2":0.5}}`},
		{layers.L1L2(0.25, 2), `{"class_name":"L1L2","config":{"l1":0.25,"l2":2}}`},
	} {
		t.Run(c.r.String(), func(t *testing.T) {
			b, err := json.Marshal(c.r)
			if err != nil || string(b) != c.want {
				t.Fatalf("got %s (%v), want %s", b, err, c.want)
			}
			var back layers.Regularizer
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if back.L1 != c.r.L1 || back.L2 != c.r.L2 || back.ClassName() != c.r.ClassName() {
				t.Errorf("read back %s, want %s", &back, c.r)
			}
		})
	}
}

// TestRegularizerJSONDefaultsAndErrors checks Keras's defaults for a
// missing factor and the refusals.
func TestRegularizerJSONDefaultsAndErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"class_name":"L2","config":{}}`:   "L2(0.01)",
		`{"class_name":"L1"}`:               "L1(0.01)",
		`{"class_name":"L1L2","config":{}}`: "L1L2(0, 0)",
	} {
		var r layers.Regularizer
		if err := json.Unmarshal([]byte(in), &r); err != nil || r.String() != want {
			t.Errorf("%s: got %s (%v), want %s", in, &r, err, want)
		}
	}
	for _, in := range []string{
		`{"class_name":"L3","config":{}}`,
		`{"class_name":"L2","config":{"l1":0.1}}`,
		`{"class_name":"L2","config":{"l2":0.1,"x":1}}`,
		`{"class_name":"L2","config":{},"extra":1}`,
	} {
		var r layers.Regularizer
		if err := json.Unmarshal([]byte(in), &r); err == nil {
			t.Errorf("%s: accepted as %s", in, &r)
		}
	}
}

// TestDenseRegularizerConfig checks that Dense's JSON carries the
// regularizers under Keras's keys, that a Dense without them writes the
// same JSON as before they existed, and that bad factors are refused.
func TestDenseRegularizerConfig(t *testing.T) {
	d := layers.NewDense(3, nn.Linear)
	plain, err := layers.Config(d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(plain), "regularizer") {
		t.Errorf("Dense without regularizers writes %s", plain)
	}
	d.KernelRegularizer, d.BiasRegularizer = layers.L2(0.01), layers.L1L2(0.1, 0)
	cfg, err := layers.Config(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"kernel_regularizer":{"class_name":"L2","config":{"l2":0.01}}`,
		`"bias_regularizer":{"class_name":"L1L2","config":{"l1":0.1,"l2":0}}`} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("config %s lacks %s", cfg, want)
		}
	}
	l, err := layers.New("Dense", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if k := l.(*layers.Dense).KernelRegularizer; k == nil || k.String() != "L2(0.01)" {
		t.Errorf("kernel regularizer read back as %v", k)
	}
	bad := strings.Replace(string(cfg), `"l2":0.01`, `"l2":-1`, 1)
	if _, err := layers.New("Dense", json.RawMessage(bad)); err == nil || !strings.Contains(err.Error(), "kernel_regularizer") {
		t.Errorf("negative factor: got %v, want an error naming kernel_regularizer", err)
	}
}

// TestDensePenalty checks the value Dense adds: the kernel's and the bias's
// penalties, none without regularizers, and none when Frozen (Keras
// penalizes trainable weights only).
func TestDensePenalty(t *testing.T) {
	build := func(k, b *layers.Regularizer, frozen bool) *layers.Dense {
		d := layers.NewDense(2, nn.Linear)
		d.BiasInitializer = layers.Ones
		d.KernelRegularizer, d.BiasRegularizer, d.Frozen = k, b, frozen
		if _, err := d.Build(tensor.Shape{3}, tensor.Float64, rand.New(rand.NewPCG(1, 2))); err != nil {
			t.Fatal(err)
		}
		return d
	}
	tp := autodiff.NewTape()
	if p := build(nil, nil, false).Penalty(tp); p != nil {
		t.Errorf("no regularizers: penalty %g, want none", p.Value.Item())
	}
	if p := build(layers.L2(1), nil, true).Penalty(tp); p != nil {
		t.Errorf("frozen: penalty %g, want none", p.Value.Item())
	}
	d := build(layers.L2(0.5), layers.L1(0.25), false)
	var sq float64
	for _, v := range d.Kernel.Value.Float64s() {
		sq += v * v
	}
	want := 0.5*sq + 0.25*2 // the bias is two ones
	if got := d.Penalty(tp).Value.Item(); math.Abs(got-want) > 1e-12 {
		t.Errorf("penalty %.15g, want %.15g", got, want)
	}
}
