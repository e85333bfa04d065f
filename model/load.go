package model

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/myelin-go/myelin/safetensors"
	"github.com/myelin-go/myelin/tensor"
)

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
// (SaveCheckpoint, BackupAndRestore). A file that cannot be read gives the
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
	m, err := modelWithin(f, archJSON, false)
	if err != nil {
		return nil, &LoadError{Path: name, Key: archKey, Err: err}
	}
	wantDType := stDType(m.DType)
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
			if err := fromSafetensors(w.Value, t); err != nil {
				return nil, &LoadError{Path: name, Key: key, Err: err}
			}
			if i := firstNonFinite(w.Value); i >= 0 {
				return nil, lerr(key, "want finite values, got NaN or infinity at element %d", i)
			}
		}
	}
	for _, t := range f.Tensors {
		if !want[t.Name] {
			return nil, lerr(t.Name, "unexpected weight: the architecture has no such layer weight")
		}
	}
	if m.Dataset, err = readDataset(f.Metadata); err != nil {
		return nil, lerr("__metadata__."+datasetKey, "%v", err)
	}
	return m, nil
}

// modelWithin returns the model, built and compiled, that the
// architecture JSON of model or checkpoint file f describes, refusing
// before anything is allocated an architecture whose weights need more
// than twice the values f's tensors hold plus 2^20: every weight must be
// in the file, and the slack lets a file missing a weight or two be
// reported by name. The JSON must give an input shape, and with
// needCompile a compile configuration.
func modelWithin(f *safetensors.File, archJSON string, needCompile bool) (*Sequential, error) {
	a, err := parseArch([]byte(archJSON))
	if err != nil {
		return nil, err
	}
	m, err := newFromArch(a)
	if err != nil {
		return nil, err
	}
	var have uint64
	for _, t := range f.Tensors {
		have += uint64(len(t.Data) / max(t.DType.Size(), 1))
	}
	if err := m.checkBound(a.Config.InputShape, 2*have+1<<20, fmt.Sprintf("about what the file's tensors hold (%d values)", have)); err != nil {
		return nil, err
	}
	if len(a.Config.InputShape) == 0 {
		return nil, errors.New("want an input_shape, got none")
	}
	if needCompile && a.Config.Compile == nil {
		return nil, errors.New("want a compile configuration, got none")
	}
	if err := m.Build(a.Config.InputShape...); err != nil {
		return nil, err
	}
	if err := compileArch(m, a.Config.Compile); err != nil {
		return nil, err
	}
	return m, nil
}
