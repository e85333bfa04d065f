package layers_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/gradcheck"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/tensor"
)

// TestNormLayersContract checks, Keras-style, each per-sample normalizer:
// weight names and trainability, WeightCount against what Build
// allocates, output shape, and training equal to inference (no state).
func TestNormLayersContract(t *testing.T) {
	gn := func(groups int) *layers.GroupNormalization {
		l := layers.NewGroupNormalization()
		l.Groups = groups
		return l
	}
	noCenter := layers.NewLayerNormalization()
	noCenter.Center = false
	for _, c := range []struct {
		l     layers.Layer
		in    tensor.Shape
		names []string
	}{
		{layers.NewLayerNormalization(), tensor.Shape{6}, []string{"gamma", "beta"}},
		{noCenter, tensor.Shape{3, 4}, []string{"gamma"}},
		{gn(3), tensor.Shape{6}, []string{"gamma", "beta"}},
		{gn(2), tensor.Shape{3, 2, 4}, []string{"gamma", "beta"}},
		{gn(-1), tensor.Shape{2, 2, 4}, []string{"gamma", "beta"}},
	} {
		t.Run(fmt.Sprintf("%s%s", c.l.Type(), c.in), func(t *testing.T) {
			wc := c.l.(layers.WeightCounter)
			n, wantOut, ok := wc.WeightCount(c.in)
			out, err := c.l.Build(c.in, tensor.Float64, nil)
			if err != nil || !ok {
				t.Fatalf("Build: %v; WeightCount ok %v", err, ok)
			}
			if !out.Equal(c.in) || !wantOut.Equal(c.in) {
				t.Errorf("output shape %s, WeightCount's %s, want %s", out, wantOut, c.in)
			}
			var got []string
			total := 0
			for _, w := range c.l.Weights() {
				got = append(got, w.Name)
				total += w.Value.Len()
				if !w.Trainable() {
					t.Errorf("%s not trainable", w.Name)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.names) {
				t.Errorf("weights %v, want %v", got, c.names)
			}
			if uint64(total) != n {
				t.Errorf("Build allocated %d values, WeightCount said %d", total, n)
			}
			// Perturb gamma and beta so that the check sees them.
			for _, w := range c.l.Weights() {
				copy(w.Value.Float64s(), gradcheck.Randn(w.Value.Len()).Float64s())
			}
			x := gradcheck.Randn(append(tensor.Shape{3}, c.in...)...)
			tp := autodiff.NewTape()
			yt := c.l.Forward(&layers.Pass{Tape: tp, Training: true}, tp.Const(x)).Value
			yi := c.l.Forward(&layers.Pass{Tape: tp}, tp.Const(x)).Value
			for i := range yt.Len() {
				if yt.Index(i) != yi.Index(i) {
					t.Fatalf("element %d: training %g, inference %g", i, yt.Index(i), yi.Index(i))
				}
			}
		})
	}
}

// TestLayerNormalizationNormalizesEachSample checks the layer's output with
// its default gamma and beta: every row has mean 0 and variance
// v/(v+ε) for its own variance v, whatever the batch holds.
func TestLayerNormalizationNormalizesEachSample(t *testing.T) {
	l := layers.NewLayerNormalization()
	if _, err := l.Build(tensor.Shape{4}, tensor.Float64, nil); err != nil {
		t.Fatal(err)
	}
	x := tensor.FromFloat64([]float64{1, 2, 3, 6, 10, 10, 10, 14}, 2, 4) // variances 3.5 and 3
	tp := autodiff.NewTape()
	y := l.Forward(&layers.Pass{Tape: tp}, tp.Const(x)).Value.Float64s()
	for r, v := range []float64{3.5, 3} {
		var m, q float64
		for _, e := range y[4*r : 4*r+4] {
			m += e / 4
		}
		for _, e := range y[4*r : 4*r+4] {
			q += (e - m) * (e - m) / 4
		}
		if want := v / (v + 1e-3); m > 1e-12 || m < -1e-12 || q-want > 1e-12 || want-q > 1e-12 {
			t.Errorf("row %d: mean %g, variance %.15g, want 0 and %.15g", r, m, q, want)
		}
	}
}

func TestNormLayerErrors(t *testing.T) {
	gn := func(groups int, eps float64) layers.Layer {
		l := layers.NewGroupNormalization()
		l.Groups, l.Epsilon = groups, eps
		return l
	}
	ln := layers.NewLayerNormalization()
	ln.Axis = 1
	lnEps := layers.NewLayerNormalization()
	lnEps.Epsilon = 0
	for _, c := range []struct {
		l    layers.Layer
		in   tensor.Shape
		want string
	}{
		{gn(32, 1e-3), tensor.Shape{6}, "groups 32 must divide the 6 channels"},
		{gn(4, 1e-3), tensor.Shape{3, 6}, "groups 4 must divide the 6 channels"},
		{gn(0, 1e-3), tensor.Shape{6}, "groups 0 must be positive or -1"},
		{gn(3, -1), tensor.Shape{6}, "epsilon -1 must be positive"},
		{ln, tensor.Shape{6}, "axis 1 unsupported"},
		{lnEps, tensor.Shape{6}, "epsilon 0 must be positive"},
	} {
		t.Run(c.want, func(t *testing.T) {
			if _, _, ok := c.l.(layers.WeightCounter).WeightCount(c.in); ok {
				t.Errorf("WeightCount ok for a layer Build refuses")
			}
			_, err := c.l.Build(c.in, tensor.Float32, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "layers: ") {
				t.Fatalf("got error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestNormConfigRoundTrip checks that the configuration JSON uses Keras's
// names and that New rebuilds the same layer from it.
func TestNormConfigRoundTrip(t *testing.T) {
	g := layers.NewGroupNormalization()
	g.Groups, g.Epsilon, g.Center = 4, 1e-5, false
	g.SetName("gn")
	for _, c := range []struct {
		l    layers.Layer
		want string
	}{
		{layers.NewLayerNormalization(), `{"axis":-1,"epsilon":0.001,"center":true,"scale":true}`},
		{g, `{"name":"gn","groups":4,"axis":-1,"epsilon":0.00001,"center":false,"scale":true}`},
	} {
		t.Run(c.l.Type(), func(t *testing.T) {
			cfg, err := layers.Config(c.l)
			if err != nil {
				t.Fatal(err)
			}
			if string(cfg) != c.want {
				t.Fatalf("config %s, want %s", cfg, c.want)
			}
			l2, err := layers.New(c.l.Type(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			cfg2, _ := layers.Config(l2)
			if string(cfg2) != string(cfg) {
				t.Errorf("round trip: got %s, want %s", cfg2, cfg)
			}
		})
	}
	if _, err := layers.New("GroupNormalization", json.RawMessage(`{"groups":-2}`)); err == nil {
		t.Errorf("groups -2 accepted")
	}
}
