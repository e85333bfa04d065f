// Package golden loads the reference values in testdata/golden/*.json for
// numerical tests.
//
// The files are written by internal/golden/gen.py (PyTorch, float64, fixed
// seeds); Go tests never run Python, they read the committed JSON. Each file
// is
//
//	{"generator": "internal/golden/gen.py", "torch": "<version>",
//	 "cases": [{"name": "...", "kind": "...", ...fields...}, ...]}
//
// A field is a tensor {"shape": [...], "data": [flat row-major numbers]}, a
// list of tensors (a sequence, one per step), a number (a loss, a
// hyperparameter) or a string (a note on the convention used). gen.py
// documents every field of every file.
//
// Typical use in a test:
//
//	f, err := golden.Load("batchnorm")
//	if err != nil { t.Fatal(err) }
//	for _, c := range f.Cases {
//		x := c.MustTensor(t, "x")
//		eps := c.MustFloat(t, "eps")
//		...
//		if i, ok := golden.Close(got, c.MustTensor(t, "y").Data, 1e-9, 1e-12); !ok { ... }
//	}
package golden

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Tensor is a dense row-major float64 array as stored in the golden files.
type Tensor struct {
	// Shape is the size of each dimension; empty for a scalar.
	Shape []int `json:"shape"`
	// Data holds the elements in row-major order; len(Data) == Size().
	Data []float64 `json:"data"`
}

// Size returns the number of elements implied by Shape (1 for a scalar).
func (t Tensor) Size() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Validate reports an error when the tensor has a negative dimension or when
// len(Data) differs from the product of Shape.
func (t Tensor) Validate() error {
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("golden: negative dimension in shape %v", t.Shape)
		}
	}
	if len(t.Data) != t.Size() {
		return fmt.Errorf("golden: shape %v implies %d elements, data has %d", t.Shape, t.Size(), len(t.Data))
	}
	return nil
}

// Case is one named test case: a JSON object whose fields are decoded on
// demand by the accessor methods.
type Case map[string]json.RawMessage

// File is one golden file.
type File struct {
	// Generator is the script that wrote the file (internal/golden/gen.py).
	Generator string `json:"generator"`
	// Torch is the torch.__version__ that computed the values.
	Torch string `json:"torch"`
	// Cases are the test cases in file order.
	Cases []Case `json:"cases"`
}

// Case returns the case with the given name.
func (f *File) Case(name string) (Case, error) {
	for _, c := range f.Cases {
		if c.Name() == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("golden: no case %q", name)
}

// Kind returns the cases whose "kind" field equals kind, in file order.
func (f *File) Kind(kind string) []Case {
	var out []Case
	for _, c := range f.Cases {
		if k, err := c.String("kind"); err == nil && k == kind {
			out = append(out, c)
		}
	}
	return out
}

// Name returns the case's "name" field, or "" when it has none.
func (c Case) Name() string {
	s, _ := c.String("name")
	return s
}

// Has reports whether the case has the field key.
func (c Case) Has(key string) bool {
	_, ok := c[key]
	return ok
}

// Keys returns the case's field names, sorted.
func (c Case) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (c Case) raw(key string) (json.RawMessage, error) {
	r, ok := c[key]
	if !ok {
		return nil, fmt.Errorf("golden: case %q has no field %q", c.Name(), key)
	}
	return r, nil
}

// Tensor decodes the field key as a tensor and checks that its data length
// matches its shape.
func (c Case) Tensor(key string) (Tensor, error) {
	r, err := c.raw(key)
	if err != nil {
		return Tensor{}, err
	}
	var t Tensor
	if err := json.Unmarshal(r, &t); err != nil {
		return Tensor{}, fmt.Errorf("golden: case %q field %q: %w", c.Name(), key, err)
	}
	if t.Data == nil {
		return Tensor{}, fmt.Errorf("golden: case %q field %q is not a tensor", c.Name(), key)
	}
	if err := t.Validate(); err != nil {
		return Tensor{}, fmt.Errorf("case %q field %q: %w", c.Name(), key, err)
	}
	return t, nil
}

// Tensors decodes the field key as a list of tensors (a sequence, such as the
// parameters after each optimizer step) and validates each of them.
func (c Case) Tensors(key string) ([]Tensor, error) {
	r, err := c.raw(key)
	if err != nil {
		return nil, err
	}
	var ts []Tensor
	if err := json.Unmarshal(r, &ts); err != nil {
		return nil, fmt.Errorf("golden: case %q field %q: %w", c.Name(), key, err)
	}
	for i, t := range ts {
		if t.Data == nil {
			return nil, fmt.Errorf("golden: case %q field %q[%d] is not a tensor", c.Name(), key, i)
		}
		if err := t.Validate(); err != nil {
			return nil, fmt.Errorf("case %q field %q[%d]: %w", c.Name(), key, i, err)
		}
	}
	return ts, nil
}

// Float decodes the field key as a number. A tensor with exactly one element
// is accepted too.
func (c Case) Float(key string) (float64, error) {
	r, err := c.raw(key)
	if err != nil {
		return 0, err
	}
	var v float64
	if err := json.Unmarshal(r, &v); err == nil {
		return v, nil
	}
	var t Tensor
	if err := json.Unmarshal(r, &t); err == nil && t.Validate() == nil && len(t.Data) == 1 {
		return t.Data[0], nil
	}
	return 0, fmt.Errorf("golden: case %q field %q is not a number", c.Name(), key)
}

// Int decodes the field key as a number and checks that it is an integer.
func (c Case) Int(key string) (int, error) {
	v, err := c.Float(key)
	if err != nil {
		return 0, err
	}
	if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return 0, fmt.Errorf("golden: case %q field %q = %v is not an integer", c.Name(), key, v)
	}
	return int(v), nil
}

// String decodes the field key as a string (names, kinds, notes).
func (c Case) String(key string) (string, error) {
	r, err := c.raw(key)
	if err != nil {
		return "", err
	}
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		return "", fmt.Errorf("golden: case %q field %q is not a string", c.Name(), key)
	}
	return s, nil
}

// MustTensor is Tensor for tests: it calls tb.Fatal on error.
func (c Case) MustTensor(tb testing.TB, key string) Tensor {
	tb.Helper()
	t, err := c.Tensor(key)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// MustTensors is Tensors for tests: it calls tb.Fatal on error.
func (c Case) MustTensors(tb testing.TB, key string) []Tensor {
	tb.Helper()
	ts, err := c.Tensors(key)
	if err != nil {
		tb.Fatal(err)
	}
	return ts
}

// MustFloat is Float for tests: it calls tb.Fatal on error.
func (c Case) MustFloat(tb testing.TB, key string) float64 {
	tb.Helper()
	v, err := c.Float(key)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// MustInt is Int for tests: it calls tb.Fatal on error.
func (c Case) MustInt(tb testing.TB, key string) int {
	tb.Helper()
	v, err := c.Int(key)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// Dir returns the absolute path of testdata/golden in the module: it walks up
// from the working directory to the first directory containing go.mod.
func Dir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "testdata", "golden"), nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("golden: no go.mod found above " + wd)
		}
		d = parent
	}
}

// Names returns the names of the available golden files (without ".json"),
// sorted.
func Names() ([]string, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = strings.TrimSuffix(filepath.Base(p), ".json")
	}
	sort.Strings(names)
	return names, nil
}

// Load reads testdata/golden/<name>.json (name like "batchnorm") from the
// module containing the working directory.
func Load(name string) (*File, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		return nil, fmt.Errorf("golden: %w", err)
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("golden: %s.json: %w", name, err)
	}
	return &f, nil
}

// Close compares got with want elementwise: element i matches when
// |got[i]-want[i]| <= atol + rtol*|want[i]|, and a NaN or infinite value
// matches only an identical one. It returns the index of the first mismatch
// and false, or -1 and true when all match. When the lengths differ it returns
// min(len(got), len(want)) and false unless an earlier element mismatches.
func Close(got, want []float64, rtol, atol float64) (i int, ok bool) {
	n := min(len(got), len(want))
	for k := 0; k < n; k++ {
		g, w := got[k], want[k]
		if math.IsNaN(g) || math.IsNaN(w) {
			if math.IsNaN(g) && math.IsNaN(w) {
				continue
			}
			return k, false
		}
		if math.IsInf(g, 0) || math.IsInf(w, 0) {
			if g == w {
				continue
			}
			return k, false
		}
		if !(math.Abs(g-w) <= atol+rtol*math.Abs(w)) {
			return k, false
		}
	}
	if len(got) != len(want) {
		return n, false
	}
	return -1, true
}
