package model_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

// layerConfigs returns each layer's type and configuration JSON.
func layerConfigs(t *testing.T, m *model.Sequential) []string {
	t.Helper()
	var out []string
	for _, l := range m.Layers {
		c, err := layers.Config(l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l.Type()+" "+string(c))
	}
	return out
}

// The founding model written by Keras 2 and Keras 3 is the founding model.
func TestKerasFounding(t *testing.T) {
	want, err := model.ReadArchitecture(filepath.Join("..", "examples", "founding.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"founding_keras2.json", "founding_keras3.json"} {
		t.Run(file, func(t *testing.T) {
			m, err := model.ReadArchitecture(filepath.Join("testdata", "keras", file))
			if err != nil {
				t.Fatal(err)
			}
			if !m.InputShape().Equal(want.InputShape()) || m.DType != tensor.Float32 {
				t.Errorf("input shape, dtype: got %v %v, want %v float32", m.InputShape(), m.DType, want.InputShape())
			}
			got, w := layerConfigs(t, m), layerConfigs(t, want)
			if strings.Join(got, "\n") != strings.Join(w, "\n") {
				t.Errorf("layers:\ngot  %s\nwant %s", strings.Join(got, "\n     "), strings.Join(w, "\n     "))
			}
		})
	}
}

func TestKerasOtherLayers(t *testing.T) {
	m, err := model.ReadArchitecture(filepath.Join("testdata", "keras", "mlp_keras3.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`Dense {"name":"dense","frozen":true,"units":32,"activation":"linear","use_bias":true,"kernel_initializer":{"kind":"he_normal"},"bias_initializer":{"kind":"zeros"}}`,
		`Activation {"name":"activation","activation":"tanh"}`,
		`Dropout {"name":"dropout","rate":0.25}`,
		`Dense {"name":"dense_1","units":10,"activation":"linear","use_bias":false,"kernel_initializer":{"kind":"random_normal","scale":0.02},"bias_initializer":{"kind":"zeros"}}`,
		`Activation {"name":"activation_1","activation":"softmax"}`,
	}
	got := layerConfigs(t, m)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("layers:\ngot  %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	if m.Name != "mlp" || !m.InputShape().Equal(tensor.Shape{784}) {
		t.Errorf("name, input shape: got %q %v, want \"mlp\" [784]", m.Name, m.InputShape())
	}
}

// edit returns the Keras 3 founding model with f applied to its decoded
// JSON.
func edit(t *testing.T, f func(top map[string]any, layers []any)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keras", "founding_keras3.json"))
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	f(top, top["config"].(map[string]any)["layers"].([]any))
	out, err := json.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func cfgOf(layers []any, i int) map[string]any {
	return layers[i].(map[string]any)["config"].(map[string]any)
}

func TestKerasErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func(top map[string]any, ls []any)
		want string
	}{
		{"unknown layer class", func(_ map[string]any, ls []any) { ls[2].(map[string]any)["class_name"] = "Conv2D" },
			`layer 2 (Conv2D): layer class "Conv2D" is not supported`},
		{"regularizer", func(_ map[string]any, ls []any) {
			cfgOf(ls, 1)["kernel_regularizer"] = map[string]any{"class_name": "L2", "config": map[string]any{"l2": 0.01}}
		}, `layer 1 (Dense): config: kernel_regularizer {"class_name":"L2"`},
		{"activation", func(_ map[string]any, ls []any) { cfgOf(ls, 3)["activation"] = "gelu" },
			`layer 3 (Dense): config: activation "gelu" is not supported`},
		{"unknown field", func(_ map[string]any, ls []any) { cfgOf(ls, 2)["colour"] = "blue" },
			`layer 2 (BatchNormalization): config: unknown or unsupported field "colour"`},
		{"seed", func(_ map[string]any, ls []any) {
			cfgOf(ls, 1)["kernel_initializer"].(map[string]any)["config"].(map[string]any)["seed"] = 42
		}, `kernel_initializer: config: seed 42 is not supported`},
		{"initializer", func(_ map[string]any, ls []any) {
			cfgOf(ls, 1)["kernel_initializer"].(map[string]any)["class_name"] = "Orthogonal"
		}, `initializer "Orthogonal" is not supported`},
		{"axis", func(_ map[string]any, ls []any) { cfgOf(ls, 2)["axis"] = 0 }, `axis 0 is not supported`},
		{"renorm", func(_ map[string]any, ls []any) { cfgOf(ls, 2)["renorm"] = true }, `renorm true is not supported`},
		{"beta initializer", func(_ map[string]any, ls []any) {
			cfgOf(ls, 2)["beta_initializer"].(map[string]any)["class_name"] = "Ones"
		}, `beta_initializer ones is not supported (want zeros)`},
		{"dtype", func(_ map[string]any, ls []any) {
			cfgOf(ls, 1)["dtype"].(map[string]any)["config"].(map[string]any)["name"] = "mixed_float16"
		}, `dtype "mixed_float16" is not supported`},
		{"functional", func(top map[string]any, _ []any) { top["class_name"] = "Functional" },
			`class_name "Functional": only Sequential models are read`},
		{"input shape", func(top map[string]any, ls []any) {
			cfgOf(ls, 0)["batch_shape"] = []any{nil, nil}
			delete(top["config"].(map[string]any), "build_input_shape")
		}, `batch_shape [null,null]: want every dimension after the batch known and positive`},
		{"units missing", func(_ map[string]any, ls []any) { delete(cfgOf(ls, 5), "units") }, `layer 5 (Dense): config: units: missing`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := model.FromArchitecture(edit(t, c.f))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "model: Keras JSON: ") {
				t.Fatalf("got %v, want an error starting \"model: Keras JSON: \" containing %q", err, c.want)
			}
		})
	}
}

// The Keras 3 file unedited passes through edit: the error cases above
// fail for what they change.
func TestKerasEditUnchanged(t *testing.T) {
	if _, err := model.FromArchitecture(edit(t, func(map[string]any, []any) {})); err != nil {
		t.Fatal(err)
	}
}
