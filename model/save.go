package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"slices"
	"strconv"
	"strings"

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

// maxArchElems caps the number of weight elements FromArchitecture will
// allocate for a model (2^31, 8 GiB of float32), so that a hostile or
// mistyped JSON cannot ask for more memory than any machine has; a package
// variable so that fuzz tests can lower it.
var maxArchElems uint64 = 1 << 31

// FromArchitecture returns a model made from architecture JSON (as written
// by Architecture or shipped as an --arch file), built when the JSON gives
// an input shape and compiled when it records a compile configuration.
//
// The JSON is read strictly: unknown fields, duplicate keys, anything after
// the object, unknown layer types and names are errors, and so is an
// architecture whose weights would exceed 2^31 elements.
func FromArchitecture(b []byte) (*Sequential, error) {
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
	if err := checkJSON(b); err != nil {
		return nil, fmt.Errorf("model: architecture JSON: %w", err)
	}
	var a Arch
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&a); err != nil {
		return nil, fmt.Errorf("model: architecture JSON: %w", jsonErr(err, d.InputOffset()))
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
	opt, err := optimizers.ByName(c.Optimizer, c.LearningRate)
	if err != nil {
		return fmt.Errorf("model: architecture JSON: %w", err)
	}
	loss, err := losses.ByName(c.Loss)
	if err != nil {
		return fmt.Errorf("model: architecture JSON: %w", err)
	}
	var ms []metrics.Metric
	for _, n := range c.Metrics {
		mt, err := metrics.ByName(n)
		if err != nil {
			return fmt.Errorf("model: architecture JSON: %w", err)
		}
		ms = append(ms, mt)
	}
	return m.Compile(opt, loss, ms...)
}

// buildChecked builds m for inputs of shape in after checking that the
// weights it will allocate number at most limit elements; what describes
// the limit in the error.
func (m *Sequential) buildChecked(in []int, limit uint64, what string) error {
	if n := weightElems(m.Layers, in); n > limit {
		return fmt.Errorf("model: architecture JSON: the layers need %d weight values for input_shape %v, want at most %s",
			n, in, what)
	}
	return m.Build(in...)
}

// weightElems returns how many weight elements ls will allocate for inputs
// of feature shape in: exactly, for the layer types it knows, stopping
// (so giving a lower bound) at the first layer it does not know or whose
// Build will fail before allocating. The count saturates at MaxUint64.
func weightElems(ls []layers.Layer, in []int) uint64 {
	var total uint64
	add := func(a, b uint64) uint64 {
		if s := a + b; s >= a {
			return s
		}
		return math.MaxUint64
	}
	mul := func(a, b uint64) uint64 {
		if hi, lo := bits.Mul64(a, b); hi == 0 {
			return lo
		}
		return math.MaxUint64
	}
	for _, d := range in {
		if d <= 0 {
			return 0 // Build rejects it before any layer allocates
		}
	}
	shape := slices.Clone(in)
	for _, l := range ls {
		switch l := l.(type) {
		case *layers.Dense:
			if len(shape) != 1 || l.Units <= 0 {
				return total
			}
			units := uint64(l.Units)
			total = add(total, mul(uint64(shape[0]), units))
			if l.UseBias {
				total = add(total, units)
			}
			shape = []int{l.Units}
		case *layers.BatchNormalization:
			if len(shape) == 0 {
				return total
			}
			k := uint64(2) // moving mean and variance
			if l.Scale {
				k++
			}
			if l.Center {
				k++
			}
			total = add(total, mul(k, uint64(shape[len(shape)-1])))
		case *layers.Activation, *layers.Dropout:
		default:
			return total
		}
	}
	return total
}

// checkJSON checks that b holds exactly one JSON value, with no duplicate
// key in any object (comparing keys without regard to case, as
// encoding/json matches them) and at most maxJSONDepth levels of nesting.
func checkJSON(b []byte) error {
	c := jsonChecker{b: b, d: json.NewDecoder(bytes.NewReader(b))}
	c.d.UseNumber()
	if err := c.value(0); err != nil {
		return err
	}
	off := c.d.InputOffset()
	if _, err := c.d.Token(); err != io.EOF {
		return fmt.Errorf("offset %d: want the end of the JSON, got more data", c.skip(off))
	}
	return nil
}

// jsonErr adds the offset to an error of encoding/json, whose messages do
// not give it; off is the decoder's position when it failed.
func jsonErr(err error, off int64) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("offset %d: %w", se.Offset, err)
	case errors.As(err, &te):
		return fmt.Errorf("offset %d: %w", te.Offset, err)
	case err == io.ErrUnexpectedEOF:
		return fmt.Errorf("offset %d: want complete JSON, got the end of the input", off)
	}
	return err
}

// maxJSONDepth bounds the nesting of architecture JSON, far beyond what a
// real architecture needs, to keep the checker's recursion shallow.
const maxJSONDepth = 32

type jsonChecker struct {
	b []byte
	d *json.Decoder
}

// skip returns the offset of the next token at or after off: past
// whitespace and a separating ':' or ','.
func (c *jsonChecker) skip(off int64) int64 {
	for off < int64(len(c.b)) && strings.IndexByte(" \t\r\n:,", c.b[off]) >= 0 {
		off++
	}
	return off
}

func (c *jsonChecker) token() (json.Token, error) {
	tok, err := c.d.Token()
	switch {
	case err == io.EOF:
		return nil, fmt.Errorf("offset %d: want a JSON value, got the end of the input", c.d.InputOffset())
	case err != nil:
		return nil, jsonErr(err, c.d.InputOffset())
	}
	return tok, nil
}

func (c *jsonChecker) value(depth int) error {
	off := c.skip(c.d.InputOffset())
	tok, err := c.token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok || (delim != '{' && delim != '[') {
		return nil
	}
	if depth == maxJSONDepth {
		return fmt.Errorf("offset %d: want at most %d levels of nesting, got more", off, maxJSONDepth)
	}
	seen := map[string]string{} // folded key → key as written
	for c.d.More() {
		if delim == '{' {
			off := c.skip(c.d.InputOffset())
			tok, err := c.token()
			if err != nil {
				return err
			}
			key, _ := tok.(string) // object keys are strings
			// encoding/json matches field names regardless of case, so
			// "units" and "Units" would both set Units: one must go.
			fold := strings.ToLower(strings.ToUpper(key))
			if prev, dup := seen[fold]; dup {
				also := ""
				if prev != key {
					also = fmt.Sprintf(" of %q (keys match regardless of case)", prev)
				}
				return fmt.Errorf("offset %d: key %q: want unique keys, got a duplicate%s", off, key, also)
			}
			seen[fold] = key
		}
		if err := c.value(depth + 1); err != nil {
			return err
		}
	}
	_, err = c.token() // the closing delimiter
	return err
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

// LoadError reports a model file that cannot be loaded: not a safetensors
// file, not a myelin model, or weights that do not fit its architecture.
type LoadError struct {
	Path string // the file; empty for Decode
	Key  string // the tensor or metadata key at fault ("__metadata__.architecture", "dense/kernel"); empty for the file as a whole
	Err  error  // what is wrong
}

// Error names the file, the key when there is one, and the cause.
func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString("model: ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	// A cause from this package already says "model: ": say it once.
	b.WriteString(strings.TrimPrefix(fmt.Sprint(e.Err), "model: "))
	return b.String()
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *LoadError) Unwrap() error { return e.Err }

// Load reads a model written by Save, or the model held by a checkpoint
// (SaveCheckpoint, ModelCheckpoint). A file that cannot be read gives the
// error from the file system; any other problem a *LoadError naming path.
func Load(path string) (*Sequential, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return decode(b, path)
}

// Decode rebuilds a model from the bytes of a model file, checking them as
// Load does. Every error is a *LoadError.
func Decode(b []byte) (*Sequential, error) {
	return decode(b, "")
}

func decode(b []byte, name string) (*Sequential, error) {
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, &LoadError{Path: name, Err: err}
	}
	if f.Metadata["format"] == checkpointFormat {
		// A checkpoint holds a whole model: evaluate or inspect it as one.
		m, _, err := CheckpointFromFile(f, name)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				err = &LoadError{Path: name, Err: err}
			}
			return nil, err
		}
		return m, nil
	}
	return FromFile(f, name)
}

// FromFile rebuilds a model from a parsed model file; name labels errors.
// The metadata must say "format": "myelin" and this package's
// FormatVersion and hold the architecture; the tensors must be exactly the
// architecture's weights, each of the model's dtype (F32 or F64) and shape,
// with finite values. Every error is a *LoadError.
func FromFile(f *safetensors.File, name string) (*Sequential, error) {
	lerr := func(key string, format string, args ...any) error {
		return &LoadError{Path: name, Key: key, Err: fmt.Errorf(format, args...)}
	}
	if f == nil {
		return nil, lerr("", "want a safetensors file, got nil")
	}
	got := func(k string) string {
		if v, ok := f.Metadata[k]; ok {
			return strconv.Quote(v)
		}
		return "none"
	}
	if f.Metadata["format"] != "myelin" {
		return nil, lerr("__metadata__.format", `want "myelin", got %s (a safetensors file, but not a myelin model file)`, got("format"))
	}
	if v := f.Metadata["format_version"]; v != FormatVersion {
		return nil, lerr("__metadata__.format_version", "want %q (the version this package reads), got %s", FormatVersion, got("format_version"))
	}
	const archKey = "__metadata__.architecture"
	archJSON, ok := f.Metadata["architecture"]
	if !ok {
		return nil, lerr(archKey, "want the architecture JSON, got none")
	}
	a, m, err := archWithin(f, archJSON)
	if err != nil {
		return nil, &LoadError{Path: name, Key: archKey, Err: err}
	}
	if len(a.Config.InputShape) == 0 {
		return nil, lerr(archKey, "want an input_shape, got none")
	}
	if err := m.Build(a.Config.InputShape...); err != nil {
		return nil, &LoadError{Path: name, Key: archKey, Err: err}
	}
	if err := compileArch(m, a.Config.Compile); err != nil {
		return nil, &LoadError{Path: name, Key: archKey, Err: err}
	}
	wantDType := safetensors.DTypeF32
	if m.DType == tensor.Float64 {
		wantDType = safetensors.DTypeF64
	}
	want := map[string]bool{}
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			key := l.Name() + "/" + w.Name
			want[key] = true
			t, ok := f.Tensor(key)
			if !ok {
				return nil, lerr(key, "missing weight: layer %q (%s) needs %s %s, the file has no such tensor", l.Name(), l.Type(), wantDType, w.Value.Shape())
			}
			if t.DType != wantDType {
				return nil, lerr(key, "dtype: want %s (the model's %s), got %s", wantDType, m.DType, t.DType)
			}
			if !tensor.Shape(t.Shape).Equal(w.Value.Shape()) {
				return nil, lerr(key, "shape: want %s (from the architecture), got %s", w.Value.Shape(), tensor.Shape(t.Shape))
			}
			if d := w.Value.Float32s(); d != nil {
				v, err := t.Float32s()
				if err != nil {
					return nil, &LoadError{Path: name, Key: key, Err: err}
				}
				copy(d, v)
			} else {
				v, err := t.Float64s()
				if err != nil {
					return nil, &LoadError{Path: name, Key: key, Err: err}
				}
				copy(w.Value.Float64s(), v)
			}
			if !w.Value.AllFinite() {
				return nil, lerr(key, "want finite values, got NaN or infinity at element %d", firstNonFinite(w.Value))
			}
		}
	}
	for _, t := range f.Tensors {
		if !want[t.Name] {
			return nil, lerr(t.Name, "unexpected weight: the architecture has no such layer weight")
		}
	}
	return m, nil
}

// archWithin parses the architecture JSON of model or checkpoint file f
// and returns it with the unbuilt model it describes. Since every weight
// must be in the file, building should allocate no more values than f's
// tensors hold: archWithin refuses, before anything is allocated, an
// architecture whose weights need more than twice that plus 2^20 values.
// The slack lets a file missing a weight or two be reported by name.
func archWithin(f *safetensors.File, archJSON string) (*Arch, *Sequential, error) {
	a, err := parseArch([]byte(archJSON))
	if err != nil {
		return nil, nil, err
	}
	m, err := newFromArch(a)
	if err != nil {
		return nil, nil, err
	}
	var have uint64
	for _, t := range f.Tensors {
		have += uint64(len(t.Data) / max(t.DType.Size(), 1))
	}
	if n := weightElems(m.Layers, a.Config.InputShape); n > 2*have+1<<20 {
		return nil, nil, fmt.Errorf("model: architecture JSON: the layers need %d weight values for input_shape %v, want at most about what the file's tensors hold (%d values)",
			n, a.Config.InputShape, have)
	}
	return a, m, nil
}

// firstNonFinite returns the index of t's first NaN or infinite element.
func firstNonFinite(t *tensor.Tensor) int {
	for i := range t.Len() {
		if v := t.Index(i); math.IsNaN(v) || math.IsInf(v, 0) {
			return i
		}
	}
	return -1
}
