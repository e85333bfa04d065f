package idx

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// sample returns a small array of type t with dims 2×3 whose elements are
// -2.5, -1.5, ... rounded as t requires, and the float32 values expected.
func sample(t Type) (*Array, []float32) {
	vals := []float64{0, 1, 2, 3, 4, 5}
	switch t {
	case Int8, Int16, Int32:
		vals = []float64{-3, -2, -1, 0, 1, 127}
	case Float32, Float64:
		vals = []float64{-2.5, -1.5, 0, 0.25, 1e3, math.Inf(1)}
	}
	data := make([]byte, 0, 6*t.Size())
	want := make([]float32, len(vals))
	for i, v := range vals {
		want[i] = float32(v)
		switch t {
		case Uint8:
			data = append(data, byte(v))
		case Int8:
			data = append(data, byte(int8(v)))
		case Int16:
			data = binary.BigEndian.AppendUint16(data, uint16(int16(v)))
		case Int32:
			data = binary.BigEndian.AppendUint32(data, uint32(int32(v)))
		case Float32:
			data = binary.BigEndian.AppendUint32(data, math.Float32bits(float32(v)))
		case Float64:
			data = binary.BigEndian.AppendUint64(data, math.Float64bits(v))
		}
	}
	return &Array{Type: t, Dims: []int{2, 3}, Data: data}, want
}

var allTypes = []Type{Uint8, Int8, Int16, Int32, Float32, Float64}

func encode(t testing.TB, a *Array, gz bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, a); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if !gz {
		return buf.Bytes()
	}
	return gzipBytes(buf.Bytes())
}

func gzipBytes(b []byte) []byte {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b)
	zw.Close()
	return z.Bytes()
}

func TestRoundTrip(t *testing.T) {
	for _, typ := range allTypes {
		for _, gz := range []bool{false, true} {
			a, want := sample(typ)
			name := typ.String()
			if gz {
				name += ".gz"
			}
			t.Run(name, func(t *testing.T) {
				got, err := Read(bytes.NewReader(encode(t, a, gz)))
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				if got.Type != typ {
					t.Errorf("Type: got %v, want %v", got.Type, typ)
				}
				if !reflect.DeepEqual(got.Dims, a.Dims) {
					t.Errorf("Dims: got %v, want %v", got.Dims, a.Dims)
				}
				if !bytes.Equal(got.Data, a.Data) {
					t.Errorf("Data: got % x, want % x", got.Data, a.Data)
				}
				if got.Len() != 6 {
					t.Errorf("Len: got %d, want 6", got.Len())
				}
				if f := got.Float32s(); !reflect.DeepEqual(f, want) {
					t.Errorf("Float32s: got %v, want %v", f, want)
				}
			})
		}
	}
}

func TestZeroDim(t *testing.T) {
	a := &Array{Type: Float64, Dims: []int{0, 5}, Data: []byte{}}
	got, err := Read(bytes.NewReader(encode(t, a, false)))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got.Len() != 0 || len(got.Data) != 0 {
		t.Errorf("got Len %d, %d bytes; want 0, 0", got.Len(), len(got.Data))
	}
}

func TestTypeString(t *testing.T) {
	tests := []struct {
		t    Type
		want string
		size int
	}{
		{Uint8, "uint8", 1}, {Int8, "int8", 1}, {Int16, "int16", 2}, {Int32, "int32", 4},
		{Float32, "float32", 4}, {Float64, "float64", 8}, {Type(0x42), "Type(0x42)", 0},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("String(%#x): got %q, want %q", byte(tt.t), got, tt.want)
		}
		if got := tt.t.Size(); got != tt.size {
			t.Errorf("Size(%v): got %d, want %d", tt.t, got, tt.size)
		}
	}
}

// header builds an IDX header by hand.
func header(typ byte, dims ...uint32) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestReadErrors(t *testing.T) {
	valid := encode(t, func() *Array { a, _ := sample(Int16); return a }(), false)
	gz := gzipBytes(valid)
	corrupt := bytes.Clone(gz)
	corrupt[12] ^= 0xff // inside the deflate data
	badCRC := bytes.Clone(gz)
	badCRC[len(badCRC)-8] ^= 0xff
	overCapField, overCapOffset := "dims[2]", int64(12)
	if math.MaxInt == math.MaxInt32 { // the payload limit is math.MaxInt
		overCapField, overCapOffset = "dims[1]", 8
	}
	tests := []struct {
		name   string
		in     []byte
		field  string
		offset int64
	}{
		{"empty", nil, "magic", 0},
		{"short magic", []byte{0, 0, 8}, "magic", 0},
		{"bad magic", []byte{1, 0, 8, 1, 0, 0, 0, 0}, "magic", 0},
		{"unknown type", header(0x0A, 1), "type", 2},
		{"zero ndims", header(0x08), "ndims", 3},
		{"too many dims", header(0x08, 1, 1, 1, 1, 1, 1, 1, 1, 1), "ndims", 3},
		{"truncated dims", header(0x08, 1, 2)[:9], "dims", 4},
		{"overflow", header(0x0E, 0xffffffff, 0xffffffff, 0xffffffff), "dims[0]", 4},
		{"over cap", header(0x08, 1<<16, 1<<16, 2), overCapField, overCapOffset},
		{"truncated payload", valid[:len(valid)-1], "payload", 12},
		{"no payload", header(0x08, 3), "payload", 8},
		{"trailing bytes", cat(valid, []byte{0}), "end of input", int64(len(valid))},
		{"gzip truncated payload", gzipBytes(valid[:len(valid)-2]), "payload", 12},
		{"gzip trailing bytes", gzipBytes(cat(valid, []byte{1, 2})), "end of input", int64(len(valid))},
		{"gzip corrupt", corrupt, "gzip", -1},
		{"gzip bad checksum", badCRC, "gzip", -1},
		{"gzip truncated stream", gz[:len(gz)-5], "gzip", -1},
		{"gzip header only", gz[:2], "gzip", 0},
		{"garbage after gzip", cat(gz, []byte("junk")), "gzip", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Read(bytes.NewReader(tt.in))
			if err == nil {
				t.Fatalf("got %v, want an error", a)
			}
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v, want an error matching ErrFormat", err)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("got %T, want *FormatError", err)
			}
			if fe.Field != tt.field {
				t.Errorf("Field: got %q, want %q (%v)", fe.Field, tt.field, err)
			}
			if tt.offset >= 0 && fe.Offset != tt.offset {
				t.Errorf("Offset: got %d, want %d (%v)", fe.Offset, tt.offset, err)
			}
			if !strings.HasPrefix(err.Error(), "idx: ") {
				t.Errorf("got %q, want prefix %q", err, "idx: ")
			}
		})
	}
}

func TestFormatErrorMessage(t *testing.T) {
	e := &FormatError{Path: "a/b.idx", Offset: 3, Field: "ndims", Want: "1 to 8", Got: "0"}
	want := "idx: a/b.idx: offset 3: ndims: want 1 to 8, got 0"
	if got := e.Error(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e.Path = ""
	want = "idx: offset 3: ndims: want 1 to 8, got 0"
	if got := e.Error(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A header claiming 2 GiB over a 10-byte payload must not allocate 2 GiB.
func TestNoAllocationFromHeader(t *testing.T) {
	in := cat(header(0x08, 1<<31), make([]byte, 10))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Read(bytes.NewReader(in))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("got %v, want ErrFormat", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 8<<20 {
		t.Errorf("allocated %d bytes, want at most 8 MiB", d)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	a, want := sample(Float32)
	for _, gz := range []bool{false, true} {
		p := filepath.Join(dir, "x.idx")
		if gz {
			p += ".gz"
		}
		if err := os.WriteFile(p, encode(t, a, gz), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(p)
		if err != nil {
			t.Fatalf("ReadFile(%s): %v", p, err)
		}
		if f := got.Float32s(); !reflect.DeepEqual(f, want) {
			t.Errorf("ReadFile(%s): got %v, want %v", p, f, want)
		}
		got, err = ReadFS(os.DirFS(dir), filepath.Base(p))
		if err != nil {
			t.Fatalf("ReadFS(%s): %v", p, err)
		}
		if f := got.Float32s(); !reflect.DeepEqual(f, want) {
			t.Errorf("ReadFS(%s): got %v, want %v", p, f, want)
		}
	}

	bad := filepath.Join(dir, "bad.gz")
	os.WriteFile(bad, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3}, 0o644)
	_, err := ReadFile(bad)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), bad) {
		t.Errorf("ReadFile(corrupt gzip): got %v, want ErrFormat naming %s", err, bad)
	}
	var fe *FormatError
	if errors.As(err, &fe) && fe.Path != bad {
		t.Errorf("Path: got %q, want %q", fe.Path, bad)
	}

	missing := filepath.Join(dir, "missing")
	_, err = ReadFile(missing)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) || !strings.HasPrefix(err.Error(), "idx: ") {
		t.Errorf("ReadFile(missing): got %v, want fs.ErrNotExist naming %s", err, missing)
	}
}

func TestWriteErrors(t *testing.T) {
	// On 32-bit platforms every int fits a uint32 dimension, and the size
	// check that fails is the payload's.
	maxDim := int(min(uint64(math.MaxUint32), uint64(math.MaxInt)))
	dimTooBigField := "dims[0]"
	if math.MaxInt == math.MaxInt32 {
		dimTooBigField = "payload"
	}
	tests := []struct {
		name  string
		a     *Array
		field string
	}{
		{"nil", nil, "array"},
		{"unknown type", &Array{Type: 0x42, Dims: []int{1}, Data: []byte{0}}, "type"},
		{"no dims", &Array{Type: Uint8}, "ndims"},
		{"too many dims", &Array{Type: Uint8, Dims: make([]int, 9)}, "ndims"},
		{"negative dim", &Array{Type: Uint8, Dims: []int{2, -1}}, "dims[1]"},
		{"dim too big", &Array{Type: Uint8, Dims: []int{math.MaxInt}}, dimTooBigField},
		{"short data", &Array{Type: Int16, Dims: []int{2}, Data: []byte{0, 1, 2}}, "payload"},
		{"long data", &Array{Type: Uint8, Dims: []int{2}, Data: []byte{0, 1, 2}}, "payload"},
		{"overflow", &Array{Type: Float64, Dims: []int{maxDim, maxDim, 4}}, "payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tt.a)
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v, want a *FormatError", err)
			}
			if fe.Field != tt.field {
				t.Errorf("Field: got %q, want %q", fe.Field, tt.field)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes, want 0", buf.Len())
			}
		})
	}
}

func TestLenAndFloat32sOnHandBuiltArrays(t *testing.T) {
	tests := []struct {
		name string
		a    Array
		len  int
		f32  []float32
	}{
		{"no dims", Array{Type: Uint8}, 0, []float32{}},
		{"negative", Array{Type: Uint8, Dims: []int{-1}, Data: []byte{7}}, -1, []float32{7}},
		{"overflow", Array{Type: Uint8, Dims: []int{math.MaxInt, 3}, Data: []byte{7}}, -1, []float32{7}},
		{"short data", Array{Type: Int16, Dims: []int{3}, Data: []byte{0, 1, 0}}, 3, []float32{1}},
		{"zero beats overflow", Array{Type: Uint8, Dims: []int{math.MaxInt, math.MaxInt, 0}}, 0, []float32{}},
		{"long data", Array{Type: Uint8, Dims: []int{1}, Data: []byte{1, 2}}, 1, []float32{1}},
		{"unknown type", Array{Type: 0x42, Dims: []int{1}, Data: []byte{1}}, 1, nil},
	}
	for _, tt := range tests {
		if got := tt.a.Len(); got != tt.len {
			t.Errorf("%s: Len: got %d, want %d", tt.name, got, tt.len)
		}
		if got := tt.a.Float32s(); !reflect.DeepEqual(got, tt.f32) {
			t.Errorf("%s: Float32s: got %v, want %v", tt.name, got, tt.f32)
		}
	}
}

func FuzzRead(f *testing.F) {
	for _, typ := range allTypes {
		a, _ := sample(typ)
		f.Add(encode(f, a, false))
		f.Add(encode(f, a, true))
	}
	f.Add(encode(f, &Array{Type: Uint8, Dims: []int{1, 1, 1, 1, 1, 1, 1, 1}, Data: []byte{9}}, false))
	f.Add(encode(f, &Array{Type: Int32, Dims: []int{0}}, true))
	f.Add(header(0x08, 1<<31))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := Read(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v, want an error matching ErrFormat", err)
			}
			if a != nil {
				t.Fatalf("got %v with error %v, want nil", a, err)
			}
			return
		}
		if len(a.Dims) < 1 || len(a.Dims) > MaxDims {
			t.Fatalf("got %d dims, want 1 to %d", len(a.Dims), MaxDims)
		}
		if n := a.Len(); n < 0 || n*a.Type.Size() != len(a.Data) {
			t.Fatalf("got Len %d and %d bytes of %v", n, len(a.Data), a.Type)
		}
		if got := len(a.Float32s()); got != a.Len() {
			t.Fatalf("Float32s: got %d values, want %d", got, a.Len())
		}
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			t.Fatalf("Write of a read array: %v", err)
		}
		b, err := Read(&buf)
		if err != nil {
			t.Fatalf("Read of a written array: %v", err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip: got %+v, want %+v", b, a)
		}
	})
}
