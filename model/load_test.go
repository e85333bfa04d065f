package model_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/safetensors"
	"github.com/myelin-go/myelin/tensor"
)

// small returns a built, compiled Dense-BN-Dense model for 5 features and
// 3 classes: small enough to write by hand, with every kind of weight.
func small(t testing.TB) *model.Sequential {
	t.Helper()
	m := model.NewSequential(
		layers.NewDense(4, nn.ActReLU),
		layers.NewBatchNormalization(),
		layers.NewDense(3, nn.ActSoftmax),
	)
	if err := m.CompileNames("adam", "categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	if err := m.Build(5); err != nil {
		t.Fatal(err)
	}
	return m
}

// encodeFile writes f as safetensors bytes.
func encodeFile(t testing.TB, f *safetensors.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tensorIndex returns the index of the tensor called name in f.
func tensorIndex(t testing.TB, f *safetensors.File, name string) int {
	t.Helper()
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return i
		}
	}
	t.Fatalf("no tensor %q in %v", name, f.Tensors)
	return -1
}

func TestDecodeRoundTrip(t *testing.T) {
	m := small(t)
	f, err := m.File()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := model.Decode(encodeFile(t, f))
	if err != nil {
		t.Fatal(err)
	}
	got, want := weightsOf(m2), weightsOf(m)
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("got %d weights, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("weight %d: got %g, want %g", i, got[i], want[i])
		}
	}
	if m2.Loss() == nil || m2.Loss().Name() != "categorical_crossentropy" {
		t.Errorf("decoded model not compiled as saved: loss %v", m2.Loss())
	}
}

// TestDecodeErrors checks that each malformed model file gives a
// *model.LoadError naming the key at fault and saying what was wanted and
// found.
func TestDecodeErrors(t *testing.T) {
	const arch = "__metadata__.architecture"
	base := func(t *testing.T) *safetensors.File {
		f, err := small(t).File()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	// setArch edits the architecture JSON text.
	setArch := func(old, new string) func(*testing.T, *safetensors.File) {
		return func(t *testing.T, f *safetensors.File) {
			a := f.Metadata["architecture"]
			if !strings.Contains(a, old) {
				t.Fatalf("architecture has no %q:\n%s", old, a)
			}
			f.Metadata["architecture"] = strings.Replace(a, old, new, 1)
		}
	}
	cases := []struct {
		name  string
		edit  func(*testing.T, *safetensors.File)
		raw   []byte // used instead of the edited file when set
		key   string
		wants []string // substrings of the message, in any order
		is    error    // errors.Is target, if any
	}{
		{name: "empty input", raw: []byte{}, key: "", wants: []string{"header length", "want 8 bytes"}, is: safetensors.ErrFormat},
		{name: "not safetensors", raw: []byte("not a model file at all"), key: "", wants: []string{"header length"}, is: safetensors.ErrFormat},
		{name: "truncated", raw: []byte("trunc"), key: "", wants: []string{"end of file after 5 bytes"}, is: safetensors.ErrFormat},
		{name: "safetensors without metadata",
			edit: func(_ *testing.T, f *safetensors.File) { f.Metadata = nil },
			key:  "__metadata__.format", wants: []string{`want "myelin", got none`, "not a myelin model file"}},
		{name: "foreign format",
			edit: func(_ *testing.T, f *safetensors.File) { f.Metadata["format"] = "pt" },
			key:  "__metadata__.format", wants: []string{`want "myelin", got "pt"`}},
		{name: "future format version",
			edit: func(_ *testing.T, f *safetensors.File) { f.Metadata["format_version"] = "2" },
			key:  "__metadata__.format_version", wants: []string{`want "1"`, `got "2"`}},
		{name: "no architecture",
			edit: func(_ *testing.T, f *safetensors.File) { delete(f.Metadata, "architecture") },
			key:  arch, wants: []string{"want the architecture JSON, got none"}},
		{name: "architecture not JSON",
			edit: func(_ *testing.T, f *safetensors.File) { f.Metadata["architecture"] = "{class_name" },
			key:  arch, wants: []string{"architecture JSON", "invalid character"}},
		{name: "architecture truncated",
			edit: func(_ *testing.T, f *safetensors.File) { f.Metadata["architecture"] = f.Metadata["architecture"][:40] },
			key:  arch, wants: []string{"architecture JSON"}},
		{name: "architecture with trailing data",
			edit: func(_ *testing.T, f *safetensors.File) { f.Metadata["architecture"] += " {}" },
			key:  arch, wants: []string{"want the end of the JSON, got more data"}},
		{name: "architecture with a duplicate key",
			edit: setArch(`"units": 4,`, `"units": 4, "units": 5,`),
			key:  arch, wants: []string{`key "units": want unique keys, got a duplicate`}},
		{name: "architecture nested too deep",
			edit: func(_ *testing.T, f *safetensors.File) {
				f.Metadata["architecture"] = strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
			},
			key: arch, wants: []string{"levels of nesting"}},
		{name: "not Sequential",
			edit: setArch(`"class_name": "Sequential"`, `"class_name": "Functional"`),
			key:  arch, wants: []string{`class_name "Functional", want "Sequential"`}},
		{name: "unknown layer type",
			edit: setArch(`"class_name": "Dense"`, `"class_name": "Conv9D"`),
			key:  arch, wants: []string{"layer 0", `unknown layer type "Conv9D"`}},
		{name: "unknown layer field",
			edit: setArch(`"units": 4,`, `"units": 4, "filters": 2,`),
			key:  arch, wants: []string{"layer 0", `unknown field "filters"`}},
		{name: "unknown top-level field",
			edit: setArch(`"seed": 1,`, `"seed": 1, "optimizer_state": 1,`),
			key:  arch, wants: []string{`unknown field "optimizer_state"`}},
		{name: "bad dtype",
			edit: setArch(`"dtype": "float32"`, `"dtype": "float16"`),
			key:  arch, wants: []string{`dtype "float16", want float32 or float64`}},
		{name: "no input shape",
			edit: setArch(`"input_shape": [`+"\n      5\n    ],", ``),
			key:  arch, wants: []string{"want an input_shape, got none"}},
		{name: "zero input dimension",
			edit: setArch(`"input_shape": [`+"\n      5\n", `"input_shape": [`+"\n      0\n"),
			key:  arch, wants: []string{"non-positive dimension"}},
		{name: "unknown optimizer",
			edit: setArch(`"optimizer": "adam"`, `"optimizer": "adamw9"`),
			key:  arch, wants: []string{"adamw9"}},
		{name: "architecture far larger than the file",
			edit: setArch(`"units": 4,`, `"units": 1000000000,`),
			key:  arch, wants: []string{"need 13000000003 weight values", "want at most about what the file's tensors hold"}},
		{name: "missing weight",
			edit: func(t *testing.T, f *safetensors.File) {
				i := tensorIndex(t, f, "dense/kernel")
				f.Tensors = append(f.Tensors[:i], f.Tensors[i+1:]...)
			},
			key: "dense/kernel", wants: []string{"missing weight", `layer "dense" (Dense) needs F32 (5, 4)`}},
		{name: "missing batch-norm state",
			edit: func(t *testing.T, f *safetensors.File) {
				i := tensorIndex(t, f, "batch_normalization/moving_variance")
				f.Tensors = append(f.Tensors[:i], f.Tensors[i+1:]...)
			},
			key: "batch_normalization/moving_variance", wants: []string{"missing weight"}},
		{name: "extra weight",
			edit: func(_ *testing.T, f *safetensors.File) {
				f.Tensors = append(f.Tensors, safetensors.F32("dense_9/kernel", []int{1}, []float32{1}))
			},
			key: "dense_9/kernel", wants: []string{"unexpected weight"}},
		{name: "wrong shape",
			edit: func(t *testing.T, f *safetensors.File) {
				f.Tensors[tensorIndex(t, f, "dense_1/bias")] = safetensors.F32("dense_1/bias", []int{2}, []float32{0, 0})
			},
			key: "dense_1/bias", wants: []string{"shape: want (3,) (from the architecture), got (2,)"}},
		{name: "transposed kernel",
			edit: func(t *testing.T, f *safetensors.File) {
				f.Tensors[tensorIndex(t, f, "dense/kernel")] = safetensors.F32("dense/kernel", []int{4, 5}, make([]float32, 20))
			},
			key: "dense/kernel", wants: []string{"shape: want (5, 4)", "got (4, 5)"}},
		{name: "F64 weight in a float32 model",
			edit: func(t *testing.T, f *safetensors.File) {
				f.Tensors[tensorIndex(t, f, "dense/bias")] = safetensors.F64("dense/bias", []int{4}, make([]float64, 4))
			},
			key: "dense/bias", wants: []string{"dtype: want F32 (the model's float32), got F64"}},
		{name: "F16 weight",
			edit: func(t *testing.T, f *safetensors.File) {
				f.Tensors[tensorIndex(t, f, "dense/bias")] = safetensors.Tensor{Name: "dense/bias", DType: safetensors.DTypeF16, Shape: []int{4}, Data: make([]byte, 8)}
			},
			key: "dense/bias", wants: []string{"dtype: want F32", "got F16"}},
		{name: "integer weight",
			edit: func(t *testing.T, f *safetensors.File) {
				f.Tensors[tensorIndex(t, f, "dense/bias")] = safetensors.Tensor{Name: "dense/bias", DType: safetensors.DTypeI32, Shape: []int{4}, Data: make([]byte, 16)}
			},
			key: "dense/bias", wants: []string{"dtype: want F32", "got I32"}},
		{name: "NaN weight",
			edit: func(t *testing.T, f *safetensors.File) {
				d := f.Tensors[tensorIndex(t, f, "dense_1/kernel")].Data
				binary.LittleEndian.PutUint32(d[4*3:], math.Float32bits(float32(math.NaN())))
			},
			key: "dense_1/kernel", wants: []string{"want finite values, got NaN or infinity at element 3"}},
		{name: "infinite moving variance",
			edit: func(t *testing.T, f *safetensors.File) {
				d := f.Tensors[tensorIndex(t, f, "batch_normalization/moving_variance")].Data
				binary.LittleEndian.PutUint32(d[4*2:], math.Float32bits(float32(math.Inf(1))))
			},
			key: "batch_normalization/moving_variance", wants: []string{"at element 2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.raw
			if b == nil {
				f := base(t)
				c.edit(t, f)
				b = encodeFile(t, f)
			}
			m, err := model.Decode(b)
			var le *model.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Decode: got %v (%T), model %v; want a *model.LoadError", err, err, m)
			}
			if m != nil {
				t.Errorf("Decode returned a model with error %v", err)
			}
			if le.Key != c.key || le.Path != "" {
				t.Errorf("got Key %q, Path %q; want Key %q, no Path\n%v", le.Key, le.Path, c.key, err)
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err, w)
				}
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("got %v, want it to match %v", err, c.is)
			}
			if !strings.HasPrefix(err.Error(), "model: ") || strings.Count(err.Error(), "model: ") != 1 {
				t.Errorf("got %q, want the prefix \"model: \" once", err)
			}
		})
	}
}

// TestLoadNamesThePath checks that Load's errors name the file once, and
// that a file that cannot be read is not a LoadError but the file system's
// error.
func TestLoadNamesThePath(t *testing.T) {
	dir := t.TempDir()
	f, err := small(t).File()
	if err != nil {
		t.Fatal(err)
	}
	f.Metadata["format"] = "gguf"
	path := filepath.Join(dir, "m.safetensors")
	if err := os.WriteFile(path, encodeFile(t, f), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = model.Load(path)
	var le *model.LoadError
	if !errors.As(err, &le) || le.Path != path || le.Key != "__metadata__.format" {
		t.Fatalf("got %v (%#v), want a *LoadError for %s, key __metadata__.format", err, le, path)
	}
	if n := strings.Count(err.Error(), path); n != 1 {
		t.Errorf("got %q: names the path %d times, want once", err, n)
	}

	trunc := filepath.Join(dir, "trunc.safetensors")
	os.WriteFile(trunc, []byte{1, 0, 0, 0, 0, 0, 0, 0}, 0o644)
	_, err = model.Load(trunc)
	if !errors.As(err, &le) || le.Path != trunc || !errors.Is(err, safetensors.ErrFormat) {
		t.Fatalf("truncated file: got %v, want a *LoadError for %s wrapping safetensors.ErrFormat", err, trunc)
	}

	_, err = model.Load(filepath.Join(dir, "absent.safetensors"))
	if !errors.Is(err, os.ErrNotExist) || errors.As(err, &le) {
		t.Fatalf("missing file: got %v, want an fs.ErrNotExist error, not a LoadError", err)
	}
}

func TestFromFileNil(t *testing.T) {
	_, err := model.FromFile(nil, "x")
	var le *model.LoadError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "got nil") {
		t.Fatalf("FromFile(nil): got %v, want a *LoadError saying nil", err)
	}
}

func TestFloat64ModelRoundTrip(t *testing.T) {
	m := model.NewSequential(layers.NewDense(2, nn.ActSigmoid))
	m.DType = tensor.Float64
	if err := m.Build(3); err != nil {
		t.Fatal(err)
	}
	f, err := m.File()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Decode(encodeFile(t, f)); err != nil {
		t.Fatalf("float64 model: %v", err)
	}
	// The same file with an F32 kernel: the model is float64.
	f.Tensors[tensorIndex(t, f, "dense/kernel")] = safetensors.F32("dense/kernel", []int{3, 2}, make([]float32, 6))
	_, err = model.Decode(encodeFile(t, f))
	if err == nil || !strings.Contains(err.Error(), "dtype: want F64 (the model's float64), got F32") {
		t.Fatalf("F32 weight in a float64 model: got %v", err)
	}
}

// TestFromArchitectureStrict checks the architecture JSON errors that do
// not need a model file around them.
func TestFromArchitectureStrict(t *testing.T) {
	ok := `{"class_name":"Sequential","config":{"input_shape":[3],"layers":[{"class_name":"Dense","config":{"units":2}}]}}`
	if _, err := model.FromArchitecture([]byte(ok)); err != nil {
		t.Fatalf("valid architecture: %v", err)
	}
	cases := []struct{ name, json, want string }{
		{"empty", ``, "want a JSON value, got the end of the input"},
		{"null", `null`, `class_name "", want "Sequential"`},
		{"array", `[]`, "cannot unmarshal array"},
		{"trailing object", ok + `{}`, "want the end of the JSON, got more data"},
		{"trailing garbage", ok + ` x`, "offset"},
		{"duplicate top-level key", `{"class_name":"Sequential","class_name":"Sequential"}`, `key "class_name": want unique keys`},
		{"duplicate layer key", strings.Replace(ok, `"units":2`, `"units":2,"units":3`, 1), `key "units"`},
		{"no layers", `{"class_name":"Sequential","config":{"layers":[]}}`, "no layers"},
		{"negative units", strings.Replace(ok, `"units":2`, `"units":-2`, 1), "units -2 must be positive"},
		{"units beyond the limit", strings.Replace(ok, `"units":2`, `"units":4000000000`, 1), "want at most 2147483648"},
		{"input beyond the limit", strings.Replace(ok, `[3]`, `[4000000000]`, 1), "want at most 2147483648"},
		{"units product overflows", `{"class_name":"Sequential","config":{"input_shape":[9223372036854775807],"layers":[{"class_name":"Dense","config":{"units":9223372036854775807}}]}}`, "want at most"},
		{"huge batch norm", `{"class_name":"Sequential","config":{"input_shape":[3000000000],"layers":[{"class_name":"BatchNormalization"}]}}`, "need 12000000000 weight values"},
		{"seed negative", strings.Replace(ok, `"config":{`, `"config":{"seed":-1,`, 1), "cannot unmarshal number -1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := model.FromArchitecture([]byte(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, %v; want an error containing %q", m, err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "model: ") {
				t.Errorf("got %q, want the prefix \"model: \"", err)
			}
		})
	}
}
