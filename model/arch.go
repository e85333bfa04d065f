package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/myelin-go/myelin/internal/jsonstrict"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/tensor"
)

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
	// LRSchedule names the learning-rate schedule the model is meant to
	// train with: "constant" (or empty), "exponential" or "cosine", as
	// myelin train's --lr-schedule, which uses it unless told otherwise.
	// Fit itself follows it only through a callbacks.LearningRateSchedule
	// that the caller adds, since the schedule depends on the run's length.
	LRSchedule string `json:"lr_schedule,omitempty"`
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
		c := &CompileConfig{Optimizer: m.opt.Name(), LearningRate: m.opt.LearningRate(), Loss: m.loss.Name(), LRSchedule: m.lrSchedule}
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

// maxArchElems caps the number of weight elements FromArchitecture will
// allocate for a model (2^31, 8 GiB of float32), so that a hostile or
// mistyped JSON cannot ask for more memory than any machine has; a package
// variable so that fuzz tests can lower it.
var maxArchElems uint64 = 1 << 31

// FromArchitecture returns a model made from architecture JSON (as written
// by Architecture or shipped as an --arch file), built when the JSON gives
// an input shape and compiled when it records a compile configuration.
//
// Keras's own model.to_json() output for a Sequential model is read too
// (Keras 2 and 3; see keras.go), translated into myelin's form.
//
// The JSON is read strictly: unknown fields, duplicate keys, anything after
// the object, unknown layer types and names are errors, and so is an
// architecture whose weights would exceed 2^31 elements.
func FromArchitecture(b []byte) (*Sequential, error) {
	if isKerasJSON(b) {
		var err error
		if b, err = kerasToArch(b); err != nil {
			return nil, err
		}
	}
	a, err := parseArch(b)
	if err != nil {
		return nil, err
	}
	m, err := newFromArch(a)
	if err != nil {
		return nil, err
	}
	if len(a.Config.InputShape) > 0 {
		if err := m.buildChecked(a.Config.InputShape, maxArchElems, strconv.FormatUint(maxArchElems, 10)); err != nil {
			return nil, err
		}
	}
	if err := compileArch(m, a.Config.Compile); err != nil {
		return nil, err
	}
	return m, nil
}

// parseArch decodes architecture JSON strictly.
func parseArch(b []byte) (*Arch, error) {
	var a Arch
	if err := jsonstrict.Decode(b, &a); err != nil {
		return nil, fmt.Errorf("model: architecture JSON: %w", err)
	}
	if a.ClassName != "Sequential" {
		return nil, fmt.Errorf("model: architecture JSON: class_name %q, want \"Sequential\"", a.ClassName)
	}
	return &a, nil
}

// newFromArch makes the unbuilt, uncompiled model a describes.
func newFromArch(a *Arch) (*Sequential, error) {
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
	return m, nil
}

// compileArch compiles m as c records, if c is not nil.
func compileArch(m *Sequential, c *CompileConfig) error {
	if c == nil {
		return nil
	}
	if err := m.CompileFrom(*c); err != nil {
		return fmt.Errorf("model: architecture JSON: %w", err)
	}
	return nil
}

// buildChecked builds m for inputs of shape in after checkBound.
func (m *Sequential) buildChecked(in []int, limit uint64, what string) error {
	if err := m.checkBound(in, limit, what); err != nil {
		return err
	}
	return m.Build(in...)
}

// checkBound checks, before anything is allocated, that the weights m's
// layers will allocate for inputs of shape in number at most limit
// elements; what describes the limit in the error.
func (m *Sequential) checkBound(in []int, limit uint64, what string) error {
	if n := weightElems(m.Layers, in); n > limit {
		return fmt.Errorf("model: architecture JSON: the layers need %d weight values for input_shape %v, want at most %s",
			n, in, what)
	}
	return nil
}

// weightElems returns how many weight elements ls will allocate for inputs
// of feature shape in, as each layer's layers.WeightCounter says: exactly,
// when every layer counts, and otherwise a lower bound, stopping at the
// first layer that does not count or whose Build will fail before
// allocating. The count saturates at MaxUint64.
func weightElems(ls []layers.Layer, in []int) uint64 {
	for _, d := range in {
		if d <= 0 {
			return 0 // Build rejects it before any layer allocates
		}
	}
	var total uint64
	shape := tensor.Shape(slices.Clone(in))
	for _, l := range ls {
		c, ok := l.(layers.WeightCounter)
		if !ok {
			return total
		}
		n, out, ok := c.WeightCount(shape)
		if !ok {
			return total
		}
		total = layers.SatAdd(total, n)
		shape = out
	}
	return total
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
