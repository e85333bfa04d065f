package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sameFile reports whether a and b hold the same metadata (nil and empty
// alike) and the same tensors by name, in any order (nil and empty shapes
// and data alike).
func sameFile(a, b *File) bool {
	if len(a.Metadata) != len(b.Metadata) || !maps.Equal(a.Metadata, b.Metadata) {
		return false
	}
	if len(a.Tensors) != len(b.Tensors) {
		return false
	}
	for _, x := range a.Tensors {
		y, ok := b.Tensor(x.Name)
		if !ok || x.DType != y.DType || !equalShape(x.Shape, y.Shape) || !bytes.Equal(x.Data, y.Data) {
			return false
		}
	}
	return true
}

// roundTripFiles are valid File values with their tensors in name order.
var roundTripFiles = map[string]*File{
	"empty":         {},
	"metadata only": {Metadata: map[string]string{"format": "pt", "": "empty key", "多": "byte\x00\x7f"}},
	"floats": {Tensors: []Tensor{
		F64("a.bias", []int{3}, []float64{0.1, math.Inf(-1), math.NaN()}),
		F32("a.weight", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
		F32("scalar", []int{}, []float32{42}),
	}},
	"zero-size and odd sizes": {Tensors: []Tensor{
		{Name: "bools", DType: DTypeBOOL, Shape: []int{3}, Data: []byte{1, 0, 1}},
		{Name: "empty", DType: DTypeF32, Shape: []int{0, 7}},
		{Name: "empty2", DType: DTypeI64, Shape: []int{4, 0}, Data: []byte{}},
		{Name: "h", DType: DTypeF16, Shape: []int{1}, Data: []byte{0, 0x3c}},
	}},
	"names needing escapes": {
		Metadata: map[string]string{`quote"back\slash`: "tab\tnewline\n\x01<&>"},
		Tensors: []Tensor{
			{Name: "\x1f\u2028", DType: DTypeU8, Shape: []int{1}, Data: []byte{9}},
			{Name: `a"b\c`, DType: DTypeI8, Shape: []int{1, 1, 1}, Data: []byte{0x80}},
			{Name: "日本語", DType: DTypeU64, Shape: []int{1}, Data: make([]byte, 8)},
		},
	},
}

func TestRoundTrip(t *testing.T) {
	for name, f := range roundTripFiles {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, f); err != nil {
				t.Fatalf("Write: %v", err)
			}
			b := buf.Bytes()
			n := binary.LittleEndian.Uint64(b)
			if (8+n)%8 != 0 || b[8] != '{' {
				t.Errorf("data section starts at %d, want a multiple of 8; header starts %q", 8+n, b[8])
			}
			g, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !sameFile(f, g) {
				t.Errorf("Parse: got %+v, want %+v", g, f)
			}
			var names []string
			for _, x := range g.Tensors {
				names = append(names, x.Name)
			}
			if !slices.IsSorted(names) {
				t.Errorf("file order: got %q, want sorted by name", names)
			}
			r, err := Read(bytes.NewReader(b))
			if err != nil || !sameFile(f, r) {
				t.Errorf("Read: got %+v, %v, want %+v", r, err, f)
			}
			var again bytes.Buffer
			if err := Write(&again, g); err != nil || !bytes.Equal(again.Bytes(), b) {
				t.Errorf("Write(Parse(b)): got %q, %v, want the same bytes %q", again.Bytes(), err, b)
			}
		})
	}
}

func TestWriteExactBytes(t *testing.T) {
	tests := []struct {
		name string
		f    *File
		want string
	}{
		{"no tensors", &File{}, "\x08\x00\x00\x00\x00\x00\x00\x00" + "{}      "},
		{"two tensors, written in name order", &File{Tensors: []Tensor{
			F32("w", []int{2}, []float32{1, -2}),
			F64("b", []int{}, []float64{3}),
		}},
			"\x70\x00\x00\x00\x00\x00\x00\x00" + // 112
				`{"b":{"dtype":"F64","shape":[],"data_offsets":[0,8]},` +
				`"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}` +
				"     " + // 107 bytes of JSON, 5 of padding
				"\x00\x00\x00\x00\x00\x00\x08\x40" + // 3.0
				"\x00\x00\x80\x3f\x00\x00\x00\xc0", // 1, -2
		},
		{"metadata with escapes", &File{
			Metadata: map[string]string{`a"b`: "x\ny"},
			Tensors: []Tensor{
				F32("w", []int{2}, []float32{1, -2}),
				F64("b", []int{}, []float64{3}),
			}},
			"\x90\x00\x00\x00\x00\x00\x00\x00" + // 144
				`{"__metadata__":{"a\"b":"x\ny"},` +
				`"b":{"dtype":"F64","shape":[],"data_offsets":[0,8]},` +
				`"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}` +
				"      " + // 138 bytes of JSON, 6 of padding
				"\x00\x00\x00\x00\x00\x00\x08\x40" +
				"\x00\x00\x80\x3f\x00\x00\x00\xc0",
		},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := Write(&buf, tt.f); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := buf.String(); got != tt.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestWriteRejects(t *testing.T) {
	ok := F32("ok", []int{1}, []float32{1})
	tests := []struct {
		name       string
		f          *File
		key, field string
	}{
		{"empty name", &File{Tensors: []Tensor{ok, F32("", []int{1}, []float32{1})}}, "", "name"},
		{"reserved name", &File{Tensors: []Tensor{F32("__metadata__", []int{1}, []float32{1})}}, "__metadata__", "name"},
		{"name not UTF-8", &File{Tensors: []Tensor{F32("a\xff", []int{1}, []float32{1})}}, "a\xff", "name"},
		{"duplicate name", &File{Tensors: []Tensor{ok, F32("b", nil, []float32{1}), ok}}, "ok", "name"},
		{"unknown dtype", &File{Tensors: []Tensor{{Name: "x", DType: "F128", Shape: []int{1}, Data: make([]byte, 16)}}}, "x", "dtype"},
		{"empty dtype", &File{Tensors: []Tensor{{Name: "x", Shape: []int{0}}}}, "x", "dtype"},
		{"negative dimension", &File{Tensors: []Tensor{{Name: "x", DType: DTypeU8, Shape: []int{2, -1}}}}, "x", "shape"},
		{"size overflows", &File{Tensors: []Tensor{{Name: "x", DType: DTypeF32, Shape: []int{math.MaxInt/2 + 1, math.MaxInt/2 + 1}}}}, "x", "shape"},
		{"data too short", &File{Tensors: []Tensor{F32("x", []int{2, 2}, []float32{1, 2, 3})}}, "x", "data"},
		{"data too long", &File{Tensors: []Tensor{F32("x", []int{}, []float32{1, 2})}}, "x", "data"},
		{"metadata key not UTF-8", &File{Metadata: map[string]string{"\xc3": "v"}}, "__metadata__", "\xc3"},
		{"metadata value not UTF-8", &File{Metadata: map[string]string{"k": "\xed\xa0\x80"}}, "__metadata__", "k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tt.f)
			if err == nil {
				t.Fatal("got nil error, want an error")
			}
			checkFormatError(t, "Write", err, tt.key, tt.field)
			var fe *FormatError
			if errors.As(err, &fe) && fe.Offset != -1 {
				t.Errorf("offset: got %d, want -1", fe.Offset)
			}
			if buf.Len() != 0 {
				t.Errorf("got %d bytes written, want none", buf.Len())
			}
		})
	}
	if err := Write(new(bytes.Buffer), nil); err == nil || !strings.HasPrefix(err.Error(), "safetensors: ") {
		t.Errorf("nil File: got %v, want a safetensors error", err)
	}
}

// failWriter accepts n bytes, then fails.
type failWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	k := w.n
	w.n = 0
	return k, errDiskFull
}

func TestWriteWriterError(t *testing.T) {
	f := roundTripFiles["floats"]
	for _, n := range []int{0, 10, 200} {
		err := Write(&failWriter{n: n}, f)
		if !errors.Is(err, errDiskFull) || errors.Is(err, ErrFormat) {
			t.Errorf("writer failing after %d bytes: got %v, want the writer's error", n, err)
		}
	}
}

func TestWriteFileReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	f := roundTripFiles["floats"]
	if err := WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	g, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !sameFile(f, g) {
		t.Errorf("ReadFile: got %+v, want %+v", g, f)
	}

	// An invalid File leaves the existing file alone and no temporary.
	before, _ := os.ReadFile(path)
	bad := &File{Tensors: []Tensor{F32("x", []int{3}, nil)}}
	err = WriteFile(path, bad)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Path != path || !strings.Contains(err.Error(), path) {
		t.Errorf("WriteFile of an invalid File: got %v, want a *FormatError naming %s", err, path)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Error("WriteFile of an invalid File changed the existing file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory: got %d entries, want only the file", len(entries))
	}

	missing := filepath.Join(dir, "no", "such.safetensors")
	if err := WriteFile(missing, f); err == nil || !strings.Contains(err.Error(), missing) || !strings.HasPrefix(err.Error(), "safetensors: ") {
		t.Errorf("WriteFile into a missing directory: got %v, want an error naming %s", err, missing)
	}
	if _, err := ReadFile(missing); err == nil || !strings.Contains(err.Error(), missing) || !strings.HasPrefix(err.Error(), "safetensors: ") {
		t.Errorf("ReadFile of a missing file: got %v, want an error naming %s", err, missing)
	}

	corrupt := filepath.Join(dir, "corrupt.safetensors")
	if err := os.WriteFile(corrupt, file(`{"a":1}`, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile(corrupt)
	if !errors.As(err, &fe) || fe.Path != corrupt || !strings.Contains(err.Error(), corrupt) {
		t.Errorf("ReadFile of a corrupt file: got %v, want a *FormatError naming %s", err, corrupt)
	}
}
