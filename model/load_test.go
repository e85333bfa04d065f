package model_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/myelin-go/myelin/data/csv"
	"github.com/myelin-go/myelin/data/idx"
	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/data/npy"
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
		{"duplicate key in another case", strings.Replace(ok, `"units":2`, `"units":2,"Units":3`, 1), `key "Units": want unique keys, got a duplicate of "units" (keys match regardless of case)`},
		{"duplicate key by Unicode folding", strings.Replace(ok, `"class_name":"Sequential"`, `"class_name":"Sequential","claſs_name":"Sequential"`, 1), `got a duplicate of "class_name"`},
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

// TestNoPanicOnBadInput calls every exported loader and entry point of the
// model, data and file-format packages with nil, empty, truncated and
// garbage input: each must return an error (or, for methods without one, a
// harmless value), never panic.
func TestNoPanicOnBadInput(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(4, 2))
	garbage := func(prefix string, n int) []byte {
		b := []byte(prefix)
		for range n {
			b = append(b, byte(rng.Uint32()))
		}
		return b
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// One valid file of each format, to truncate.
	mf, err := small(t).File()
	if err != nil {
		t.Fatal(err)
	}
	validModel := encodeFile(t, mf)
	var idxBuf, npyBuf bytes.Buffer
	if err := idx.Write(&idxBuf, &idx.Array{Type: idx.Float32, Dims: []int{2, 3}, Data: make([]byte, 24)}); err != nil {
		t.Fatal(err)
	}
	if err := npy.Write(&npyBuf, []int{2, 3}, make([]float32, 6)); err != nil {
		t.Fatal(err)
	}
	validArch, err := small(t).Architecture()
	if err != nil {
		t.Fatal(err)
	}

	type input struct {
		name string
		b    []byte
		bad  bool // an error is required
	}
	inputs := func(valid []byte, magic string) []input {
		in := []input{{"nil", nil, true}, {"empty", []byte{}, true},
			{"garbage", garbage("", 1000), true}, {"garbage after magic", garbage(magic, 1000), true},
			{"long garbage after magic", garbage(magic, 100000), true}}
		for _, k := range []int{1, 7, 8, 9, 11, len(valid) / 3, len(valid) / 2, len(valid) - 1} {
			if k < len(valid) {
				in = append(in, input{"truncated to " + strconv.Itoa(k), valid[:k], true})
			}
		}
		return in
	}
	// Each entry point takes bytes (written to a file for path-based ones).
	type entry struct {
		name  string
		fn    func(b []byte) error
		valid []byte
		magic string
		text  bool // a truncated text file may still be valid
	}
	readers := func(name string, f func(r io.Reader) error) func([]byte) error {
		return func(b []byte) error { return f(bytes.NewReader(b)) }
	}
	file := func(name string, f func(path string) error) func([]byte) error {
		return func(b []byte) error { return f(write(name, b)) }
	}
	mnistDir := func(classes int) func([]byte) error {
		return func(b []byte) error {
			d := filepath.Join(dir, "mnist")
			os.MkdirAll(d, 0o755)
			for _, base := range []string{mnist.TrainImages, mnist.TrainLabels, mnist.TestImages, mnist.TestLabels} {
				if err := os.WriteFile(filepath.Join(d, base), b, 0o644); err != nil {
					return err
				}
			}
			_, _, err := mnist.LoadDirClasses(d, classes)
			return err
		}
	}
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	entries := []entry{
		{"safetensors.Parse", func(b []byte) error { _, err := safetensors.Parse(b); return err }, validModel, "\x10\x00\x00\x00\x00\x00\x00\x00{", false},
		{"safetensors.Read", readers("", func(r io.Reader) error { _, err := safetensors.Read(r); return err }), validModel, "\x10\x00\x00\x00\x00\x00\x00\x00{", false},
		{"safetensors.ReadFile", file("x.safetensors", func(p string) error { _, err := safetensors.ReadFile(p); return err }), validModel, "\x10\x00\x00\x00\x00\x00\x00\x00{", false},
		{"idx.Read", readers("", func(r io.Reader) error { _, err := idx.Read(r); return err }), idxBuf.Bytes(), "\x00\x00\x0d\x02", false},
		{"idx.Read gzip", readers("", func(r io.Reader) error { _, err := idx.Read(r); return err }), gz(idxBuf.Bytes()), "\x1f\x8b", false},
		{"idx.ReadFile", file("x.idx", func(p string) error { _, err := idx.ReadFile(p); return err }), idxBuf.Bytes(), "\x00\x00\x08\x03", false},
		{"idx.ReadFS", func(b []byte) error {
			_, err := idx.ReadFS(fstest.MapFS{"a": &fstest.MapFile{Data: b}}, "a")
			return err
		}, idxBuf.Bytes(), "\x00\x00\x08\x01", false},
		{"npy.Read", readers("", func(r io.Reader) error { _, err := npy.Read(r); return err }), npyBuf.Bytes(), "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', ", false},
		{"npy.ReadFile", file("x.npy", func(p string) error { _, err := npy.ReadFile(p); return err }), npyBuf.Bytes(), "\x93NUMPY\x02\x00", false},
		{"csv.Read", readers("", func(r io.Reader) error { _, err := csv.Read(r, csv.Options{}); return err }), []byte("1,2,3\n4,5,6\n"), "1,2,3\n", true},
		{"csv.Read header label", readers("", func(r io.Reader) error {
			_, err := csv.Read(r, csv.Options{Header: true, HasLabel: true, LabelColumn: -1})
			return err
		}), []byte("a,b,y\n4,5,6\n"), "a,b,y\n", true},
		{"csv.ReadFile", file("x.csv", func(p string) error { _, err := csv.ReadFile(p, csv.Options{HasLabel: true}); return err }), []byte("1,2\n3,4\n"), "1,2\n", true},
		{"mnist.LoadDir", mnistDir(0), idxBuf.Bytes(), "\x00\x00\x08\x03", false},
		{"mnist.LoadDirClasses", mnistDir(10), gz(idxBuf.Bytes()), "\x1f\x8b\x08", false},
		{"model.Decode", func(b []byte) error { _, err := model.Decode(b); return err }, validModel, "\x10\x00\x00\x00\x00\x00\x00\x00{", false},
		{"model.Load", file("m.safetensors", func(p string) error { _, err := model.Load(p); return err }), validModel, "\x10\x00\x00\x00\x00\x00\x00\x00{", false},
		{"model.FromArchitecture", func(b []byte) error { _, err := model.FromArchitecture(b); return err }, validArch, `{"class_name":"Sequential","config":{"layers":[`, false},
		{"model.LoadCheckpoint", file("c.safetensors", func(p string) error { _, _, err := model.LoadCheckpoint(p); return err }), validModel, "\x10\x00\x00\x00\x00\x00\x00\x00{", false},
		{"model.LatestCheckpoint", func(b []byte) error {
			d := filepath.Join(dir, "ckpts")
			os.MkdirAll(d, 0o755)
			if err := os.WriteFile(filepath.Join(d, model.CheckpointName(1)), b, 0o644); err != nil {
				return err
			}
			_, _, err := model.LatestCheckpoint(d)
			return err
		}, validModel, "\x10\x00\x00\x00\x00\x00\x00\x00{", false},
		{"model.ReadArchitecture", file("a.json", func(p string) error { _, err := model.ReadArchitecture(p); return err }), validArch, `{"class_name":"Sequential",`, false},
	}
	call := func(t *testing.T, fn func() error) (err error) {
		t.Helper()
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		return fn()
	}
	for _, e := range entries {
		for _, in := range inputs(e.valid, e.magic) {
			t.Run(e.name+"/"+in.name, func(t *testing.T) {
				err := call(t, func() error { return e.fn(in.b) })
				if in.bad && err == nil && !(e.text && strings.HasPrefix(in.name, "truncated")) {
					t.Fatalf("got no error for %d bytes %q...", len(in.b), in.b[:min(len(in.b), 40)])
				}
			})
		}
	}

	// Nil readers, writers, files and hand-built values.
	neg := safetensors.Tensor{Name: "a", DType: safetensors.DTypeF32, Shape: []int{-1}}
	short := safetensors.Tensor{Name: "a", DType: safetensors.DTypeF32, Shape: []int{2}, Data: []byte{1, 2, 3}}
	others := []struct {
		name   string
		fn     func() error
		wantOK bool // the call has no error to return; only no panic
	}{
		{"safetensors.Read(nil)", func() error { _, err := safetensors.Read(nil); return err }, false},
		{"safetensors.Write(nil, f)", func() error { return safetensors.Write(nil, mf) }, false},
		{"safetensors.Write(w, nil)", func() error { return safetensors.Write(io.Discard, nil) }, false},
		{"safetensors.Write negative shape", func() error {
			return safetensors.Write(io.Discard, &safetensors.File{Tensors: []safetensors.Tensor{neg}})
		}, false},
		{"safetensors.WriteFile(nil)", func() error { return safetensors.WriteFile(filepath.Join(dir, "w.st"), nil) }, false},
		{"safetensors.ReadFile(dir)", func() error { _, err := safetensors.ReadFile(dir); return err }, false},
		{"(*safetensors.File)(nil).Tensor", func() error { _, _ = (*safetensors.File)(nil).Tensor("a"); return nil }, true},
		{"(*safetensors.Tensor)(nil).Float32s", func() error { _, err := (*safetensors.Tensor)(nil).Float32s(); return err }, false},
		{"(*safetensors.Tensor)(nil).Float64s", func() error { _, err := (*safetensors.Tensor)(nil).Float64s(); return err }, false},
		{"Tensor negative shape Float32s", func() error { _, err := neg.Float32s(); return err }, false},
		{"Tensor short data Float64s", func() error { _, err := short.Float64s(); return err }, false},
		{"idx.Read(nil)", func() error { _, err := idx.Read(nil); return err }, false},
		{"idx.ReadFile(dir)", func() error { _, err := idx.ReadFile(dir); return err }, false},
		{"idx.ReadFS missing", func() error { _, err := idx.ReadFS(fstest.MapFS{}, "a"); return err }, false},
		{"idx.Write(nil, a)", func() error {
			return idx.Write(nil, &idx.Array{Type: idx.Uint8, Dims: []int{1}, Data: []byte{1}})
		}, false},
		{"(*idx.Array)(nil) methods", func() error { _ = (*idx.Array)(nil).Len(); _ = (*idx.Array)(nil).Float32s(); return nil }, true},
		{"idx.Array bad dims Float32s", func() error {
			_ = (&idx.Array{Type: idx.Float64, Dims: []int{-3, math.MaxInt/2 + 1}, Data: []byte{1, 2, 3}}).Float32s()
			return nil
		}, true},
		{"csv.Read(nil)", func() error { _, err := csv.Read(nil, csv.Options{}); return err }, false},
		{"csv.Read bad comma", func() error { _, err := csv.Read(strings.NewReader("1"), csv.Options{Comma: '\n'}); return err }, false},
		{"csv.Read label column out of range", func() error {
			_, err := csv.Read(strings.NewReader("1,2\n"), csv.Options{HasLabel: true, LabelColumn: math.MinInt})
			return err
		}, false},
		{"csv.ReadFile(dir)", func() error { _, err := csv.ReadFile(dir, csv.Options{}); return err }, false},
		{"npy.Read(nil)", func() error { _, err := npy.Read(nil); return err }, false},
		{"npy.Write(nil, ...)", func() error { return npy.Write(nil, []int{1}, []float32{1}) }, false},
		{"npy.Write negative shape", func() error { return npy.Write(io.Discard, []int{-1, -1}, []float32{1}) }, false},
		{"(*npy.Array)(nil).Float32s", func() error { _, err := (*npy.Array)(nil).Float32s(); return err }, false},
		{"(*npy.Array)(nil).Float64s", func() error { _ = (*npy.Array)(nil).Len(); _, err := (*npy.Array)(nil).Float64s(); return err }, false},
		{"npy.Array fortran huge shape", func() error {
			_, err := (&npy.Array{DType: "<f4", FortranOrder: true, Shape: []int{math.MaxInt/2 + 1, math.MaxInt/2 + 1}, Data: make([]byte, 4)}).Float32s()
			return err
		}, false},
		{"mnist.LoadDir missing", func() error { _, _, err := mnist.LoadDir(filepath.Join(dir, "absent")); return err }, false},
		{"mnist.LoadDirClasses(-1)", func() error { _, _, err := mnist.LoadDirClasses(dir, -1); return err }, false},
		{"(*mnist.Set)(nil) methods", func() error {
			var s *mnist.Set
			_, _, _, _ = s.Features(), s.OneHot(), s.SparseLabels(), s.Slice(-1, 5)
			_, _ = s.X()
			return nil
		}, true},
		{"mnist.Set inconsistent", func() error {
			s := &mnist.Set{Pixels: make([]uint8, 3), Labels: []uint8{200, 1}, N: 9, Rows: -2, Cols: 3, Classes: 4}
			_, _, _, _ = s.Features(), s.OneHot(), s.SparseLabels(), s.Slice(1, 8)
			_, _ = s.X()
			s.Rows = 2
			_, _, _ = s.OneHot(), s.SparseLabels(), s.Slice(-5, 50)
			_, _ = s.X(3, 2)
			return nil
		}, true},
		{"model.FromFile(nil)", func() error { _, err := model.FromFile(nil, "x"); return err }, false},
		{"model.FromFile(empty)", func() error { _, err := model.FromFile(&safetensors.File{}, "x"); return err }, false},
		{"model.Load(dir)", func() error { _, err := model.Load(dir); return err }, false},
		{"model.ReadArchitecture missing", func() error { _, err := model.ReadArchitecture(filepath.Join(dir, "absent.json")); return err }, false},
	}
	for _, o := range others {
		t.Run(o.name, func(t *testing.T) {
			err := call(t, o.fn)
			if !o.wantOK && err == nil {
				t.Fatal("got no error")
			}
		})
	}
}

// TestDecodeBoundsAllocation checks that a tiny model or checkpoint file
// whose architecture asks for gigabytes of weights is refused before they
// are allocated (FromArchitecture alone would accept 1.8·10⁹ values).
func TestDecodeBoundsAllocation(t *testing.T) {
	arch := `{"class_name":"Sequential","config":{"input_shape":[5],"layers":[{"class_name":"Dense","config":{"units":300000000}}]}}`
	for _, format := range []string{"myelin", "myelin-checkpoint"} {
		t.Run(format, func(t *testing.T) {
			b := encodeFile(t, &safetensors.File{
				Metadata: map[string]string{"format": format, "format_version": "1", "architecture": arch},
				Tensors:  []safetensors.Tensor{safetensors.F32("dense/bias", []int{1}, []float32{0})},
			})
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := model.Decode(b)
			runtime.ReadMemStats(&after)
			var le *model.LoadError
			if !errors.As(err, &le) || le.Key != "__metadata__.architecture" || !strings.Contains(err.Error(), "need 1800000000 weight values") {
				t.Fatalf("got %v, want a *LoadError about the architecture's 1800000000 weight values", err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Errorf("Decode allocated %d bytes for a %d-byte file", grew, len(b))
			}
		})
	}
}
