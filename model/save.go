package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/safetensors"
	"github.com/myelin-go/myelin/tensor"
)

// A model file is a safetensors file: each weight is the tensor
// "<layer>/<weight>" (dense/kernel, batch_normalization/moving_mean, ...),
// and the metadata holds "format": "myelin", "format_version": "1" and
// "architecture", the JSON that Architecture returns. Any safetensors
// reader can read the weights.

// FormatVersion is the version of the model file layout this package writes.
const FormatVersion = "1"

// Arch is the architecture JSON of a Sequential model, in Keras's shape:
// {"class_name": "Sequential", "config": {...}}.
type Arch struct {
	ClassName string     `json:"class_name"`
	Config    ArchConfig `json:"config"`
}

// ArchConfig is the body of an Arch.
type ArchConfig struct {
	Name       string         `json:"name"`
	DType      string         `json:"dtype"`
	Seed       uint64         `json:"seed"`
	InputShape []int          `json:"input_shape,omitempty"`
	Layers     []LayerArch    `json:"layers"`
	Compile    *CompileConfig `json:"compile,omitempty"`
}

// LayerArch is one layer: its Keras class name and configuration.
type LayerArch struct {
	ClassName string          `json:"class_name"`
	Config    json.RawMessage `json:"config"`
}

// CompileConfig records what Compile was given, so that a loaded model can
// be evaluated without compiling it again.
type CompileConfig struct {
	Optimizer    string   `json:"optimizer"`
	LearningRate float64  `json:"learning_rate"`
	Loss         string   `json:"loss"`
	Metrics      []string `json:"metrics,omitempty"`
}

// Architecture returns the model's architecture as JSON.
func (m *Sequential) Architecture() ([]byte, error) {
	a := Arch{ClassName: "Sequential", Config: ArchConfig{Name: m.Name, DType: m.dtype().String(), Seed: m.Seed, InputShape: m.inShape}}
	for _, l := range m.Layers {
		cfg, err := layers.Config(l)
		if err != nil {
			return nil, err
		}
		a.Config.Layers = append(a.Config.Layers, LayerArch{ClassName: l.Type(), Config: cfg})
	}
	if m.compiled {
		c := &CompileConfig{Optimizer: m.opt.Name(), LearningRate: m.opt.LearningRate(), Loss: m.loss.Name()}
		for _, mt := range m.metrics {
			c.Metrics = append(c.Metrics, mt.Name())
		}
		a.Config.Compile = c
	}
	return json.MarshalIndent(a, "", "  ")
}

func (m *Sequential) dtype() tensor.DType {
	if m.DType == 0 {
		return tensor.Float32
	}
	return m.DType
}

// FromArchitecture returns a model made from architecture JSON (as written
// by Architecture or shipped as an --arch file), built when the JSON gives
// an input shape and compiled when it records a compile configuration.
// Unknown fields, layer types and names are errors.
func FromArchitecture(b []byte) (*Sequential, error) {
	var a Arch
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&a); err != nil {
		return nil, fmt.Errorf("model: architecture JSON: %w", err)
	}
	if a.ClassName != "Sequential" {
		return nil, fmt.Errorf("model: architecture JSON: class_name %q, want \"Sequential\"", a.ClassName)
	}
	m := NewSequential()
	if a.Config.Name != "" {
		m.Name = a.Config.Name
	}
	m.Seed = a.Config.Seed
	switch a.Config.DType {
	case "", "float32":
		m.DType = tensor.Float32
	case "float64":
		m.DType = tensor.Float64
	default:
		return nil, fmt.Errorf("model: architecture JSON: dtype %q, want float32 or float64", a.Config.DType)
	}
	if len(a.Config.Layers) == 0 {
		return nil, errors.New("model: architecture JSON: no layers")
	}
	for i, la := range a.Config.Layers {
		l, err := layers.New(la.ClassName, la.Config)
		if err != nil {
			return nil, fmt.Errorf("model: architecture JSON: layer %d: %w", i, err)
		}
		m.Layers = append(m.Layers, l)
	}
	if len(a.Config.InputShape) > 0 {
		if err := m.Build(a.Config.InputShape...); err != nil {
			return nil, err
		}
	}
	if c := a.Config.Compile; c != nil {
		opt, err := optimizers.ByName(c.Optimizer, c.LearningRate)
		if err != nil {
			return nil, fmt.Errorf("model: architecture JSON: %w", err)
		}
		loss, err := losses.ByName(c.Loss)
		if err != nil {
			return nil, fmt.Errorf("model: architecture JSON: %w", err)
		}
		var ms []metrics.Metric
		for _, n := range c.Metrics {
			mt, err := metrics.ByName(n)
			if err != nil {
				return nil, fmt.Errorf("model: architecture JSON: %w", err)
			}
			ms = append(ms, mt)
		}
		if err := m.Compile(opt, loss, ms...); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ReadArchitecture reads architecture JSON from a file.
func ReadArchitecture(path string) (*Sequential, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	m, err := FromArchitecture(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// File returns the model as a safetensors file (architecture in the
// metadata, weights and state as tensors).
func (m *Sequential) File() (*safetensors.File, error) {
	if !m.built {
		return nil, ErrNotBuilt
	}
	arch, err := m.Architecture()
	if err != nil {
		return nil, err
	}
	f := &safetensors.File{Metadata: map[string]string{"format": "myelin", "format_version": FormatVersion, "architecture": string(arch)}}
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			name := l.Name() + "/" + w.Name
			if d := w.Value.Float32s(); d != nil {
				f.Tensors = append(f.Tensors, safetensors.F32(name, w.Value.Shape(), d))
			} else {
				f.Tensors = append(f.Tensors, safetensors.F64(name, w.Value.Shape(), w.Value.Float64s()))
			}
		}
	}
	return f, nil
}

// Save writes the model to path atomically: a crash mid-save leaves any
// previous file at path intact.
func (m *Sequential) Save(path string) error {
	f, err := m.File()
	if err != nil {
		return err
	}
	if err := safetensors.WriteFile(path, f); err != nil {
		return fmt.Errorf("model: saving %s: %w", path, err)
	}
	return nil
}

// LoadError reports a model file that does not fit its architecture.
type LoadError struct {
	Path string // the file
	Key  string // the tensor or metadata key at fault
	Err  error
}

func (e *LoadError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("model: %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("model: %s: %s: %v", e.Path, e.Key, e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }

// Load reads a model written by Save.
func Load(path string) (*Sequential, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return FromFile(f, path)
}

// FromFile rebuilds a model from a parsed model file; name labels errors.
func FromFile(f *safetensors.File, name string) (*Sequential, error) {
	lerr := func(key string, err error) error { return &LoadError{Path: name, Key: key, Err: err} }
	if f.Metadata["format"] != "myelin" {
		return nil, lerr("__metadata__.format", fmt.Errorf("got %q, want \"myelin\" (not a myelin model file)", f.Metadata["format"]))
	}
	if v := f.Metadata["format_version"]; v != FormatVersion {
		return nil, lerr("__metadata__.format_version", fmt.Errorf("got %q, this version reads %q", v, FormatVersion))
	}
	arch, ok := f.Metadata["architecture"]
	if !ok {
		return nil, lerr("__metadata__.architecture", errors.New("missing"))
	}
	m, err := FromArchitecture([]byte(arch))
	if err != nil {
		return nil, lerr("__metadata__.architecture", err)
	}
	if !m.built {
		return nil, lerr("__metadata__.architecture", errors.New("no input_shape"))
	}
	want := map[string]bool{}
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			key := l.Name() + "/" + w.Name
			want[key] = true
			t, ok := f.Tensor(key)
			if !ok {
				return nil, lerr(key, errors.New("missing weight"))
			}
			if !tensor.Shape(t.Shape).Equal(w.Value.Shape()) {
				return nil, lerr(key, fmt.Errorf("shape %v, the architecture needs %s", tensor.Shape(t.Shape), w.Value.Shape()))
			}
			if d := w.Value.Float32s(); d != nil {
				v, err := t.Float32s()
				if err != nil {
					return nil, lerr(key, err)
				}
				copy(d, v)
			} else {
				v, err := t.Float64s()
				if err != nil {
					return nil, lerr(key, err)
				}
				copy(w.Value.Float64s(), v)
			}
			if !w.Value.AllFinite() {
				return nil, lerr(key, errors.New("holds NaN or infinite values"))
			}
		}
	}
	for _, t := range f.Tensors {
		if !want[t.Name] {
			return nil, lerr(t.Name, errors.New("unexpected weight: the architecture has no such layer weight"))
		}
	}
	return m, nil
}
