package npy

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
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

type manifest struct {
	Files map[string]struct {
		Refuse       string    `json:"refuse"`
		Shape        []int     `json:"shape"`
		Descr        string    `json:"descr"`
		FortranOrder bool      `json:"fortran_order"`
		Values       []float64 `json:"values"`
	} `json:"files"`
}

func readManifest(t testing.TB) manifest {
	b, err := os.ReadFile("testdata/numpy/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestNumPyFiles reads files written by NumPy (testdata/gen.py).
func TestNumPyFiles(t *testing.T) {
	m := readManifest(t)
	if len(m.Files) < 30 {
		t.Fatalf("got %d files in the manifest, want at least 30", len(m.Files))
	}
	for name, want := range m.Files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "numpy", name)
			a, err := ReadFile(path)
			if want.Refuse != "" {
				var fe *FormatError
				if !errors.As(err, &fe) || !errors.Is(err, ErrFormat) {
					t.Fatalf("got %v, want a *FormatError refusing %s", err, want.Refuse)
				}
				if fe.Field != "descr" || fe.Path != path {
					t.Errorf("got field %q, path %q; want \"descr\", %q (%v)", fe.Field, fe.Path, path, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if !reflect.DeepEqual(a.Shape, want.Shape) || a.DType != want.Descr || a.FortranOrder != want.FortranOrder {
				t.Errorf("got shape %v, %q, fortran %v; want %v, %q, %v", a.Shape, a.DType, a.FortranOrder, want.Shape, want.Descr, want.FortranOrder)
			}
			if a.Len() != len(want.Values) {
				t.Errorf("Len: got %d, want %d", a.Len(), len(want.Values))
			}
			f64, err := a.Float64s()
			if err != nil {
				t.Fatalf("Float64s: %v", err)
			}
			if !reflect.DeepEqual(f64, want.Values) && !(len(f64) == 0 && len(want.Values) == 0) {
				t.Errorf("Float64s: got %v, want %v", f64, want.Values)
			}
			f32, err := a.Float32s()
			if err != nil {
				t.Fatalf("Float32s: %v", err)
			}
			for i, v := range want.Values {
				if f32[i] != float32(v) {
					t.Errorf("Float32s[%d]: got %v, want %v", i, f32[i], float32(v))
				}
			}
		})
	}
}

func TestWriteMatchesNumPy(t *testing.T) {
	want, err := os.ReadFile("testdata/numpy/f4_le.npy")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, []int{2, 3}, []float32{-1.25, -0.75, -0.25, 0.25, 0.75, 1.25}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("got\n%q\nwant (NumPy's)\n%q", buf.Bytes(), want)
	}
}

func TestWriteRoundTrip(t *testing.T) {
	big := make([]float32, 40000) // more than Write's chunk
	for i := range big {
		big[i] = float32(i) / 3
	}
	tests := []struct {
		shape []int
		data  []float32
	}{
		{[]int{}, []float32{2.5}},
		{[]int{3}, []float32{1, -2, float32(math.Inf(1))}},
		{[]int{0, 4}, []float32{}},
		{[]int{2, 1, 2}, []float32{1, 2, 3, 4}},
		{[]int{200, 200}, big},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := Write(&buf, tt.shape, tt.data); err != nil {
			t.Fatalf("Write(%v): %v", tt.shape, err)
		}
		hlen := int(binary.LittleEndian.Uint16(buf.Bytes()[8:]))
		if (10+hlen)%64 != 0 || buf.Bytes()[10+hlen-1] != '\n' {
			t.Errorf("Write(%v): got header length %d, want data aligned to 64 after a newline", tt.shape, hlen)
		}
		a, err := Read(&buf)
		if err != nil {
			t.Fatalf("Read(%v): %v", tt.shape, err)
		}
		got, _ := a.Float32s()
		if !reflect.DeepEqual(a.Shape, tt.shape) || !reflect.DeepEqual(got, tt.data) || a.DType != "<f4" {
			t.Errorf("round trip: got %v %q %v, want %v \"<f4\" %v", a.Shape, a.DType, got, tt.shape, tt.data)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name  string
		shape []int
		n     int
	}{
		{"too few", []int{2, 3}, 5},
		{"too many", []int{2}, 3},
		{"negative", []int{-1, -2}, 2},
		{"scalar", []int{}, 0},
		{"too many dims", make([]int, 65), 0},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		err := Write(&buf, tt.shape, make([]float32, tt.n))
		if !errors.Is(err, ErrFormat) || buf.Len() != 0 {
			t.Errorf("%s: got %v and %d bytes, want ErrFormat and none", tt.name, err, buf.Len())
		}
	}
}

// file builds a .npy file by hand: magic, version, header (padded to 64
// with spaces and a newline unless raw), data.
func file(major byte, hdr string, raw bool, data []byte) []byte {
	b := []byte(magic)
	b = append(b, major, 0)
	lenSize := 2
	if major > 1 {
		lenSize = 4
	}
	if !raw {
		pad := (64 - (8+lenSize+len(hdr)+1)%64) % 64
		hdr += strings.Repeat(" ", pad) + "\n"
	}
	if lenSize == 2 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(hdr)))
	}
	b = append(b, hdr...)
	return append(b, data...)
}

func TestReadVariants(t *testing.T) {
	four := []byte{1, 0, 0, 0, 2, 0, 0, 0}
	tests := []struct {
		name  string
		in    []byte
		shape []int
		want  []float64
	}{
		{"python 2 longs", file(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2L,), }", false, four), []int{2}, []float64{1, 2}},
		{"double quotes, no trailing comma", file(1, `{"descr": "<i4", "fortran_order": False, "shape": (1, 2)}`, false, four), []int{1, 2}, []float64{1, 2}},
		{"key order, tabs", file(1, "{'shape':(2,),\t'fortran_order':False,'descr':'<i4'}", false, four), []int{2}, []float64{1, 2}},
		{"16-byte alignment", file(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }   \n", true, four), []int{2}, []float64{1, 2}},
		{"'<' on a one-byte type", file(1, "{'descr': '<u1', 'fortran_order': False, 'shape': (2,), }", false, []byte{7, 255}), []int{2}, []float64{7, 255}},
		{"version 3, fortran 3-d", file(3, "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 2, 1), }", false, []byte{1, 0, 2, 0, 3, 0, 4, 0}), []int{2, 2, 1}, []float64{1, 3, 2, 4}},
		{"fortran 0-d", file(1, "{'descr': '>i4', 'fortran_order': True, 'shape': (), }", false, []byte{0, 0, 1, 0}), []int{}, []float64{256}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Read(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			got, err := a.Float64s()
			if err != nil || !reflect.DeepEqual(got, tt.want) || !reflect.DeepEqual(a.Shape, tt.shape) {
				t.Errorf("got %v %v (%v), want %v %v", a.Shape, got, err, tt.shape, tt.want)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	const ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
	data := make([]byte, 8)
	hdr := func(descr, fortran, shape string) string {
		return "{'descr': " + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }"
	}
	bigHeader := append([]byte(magic), 2, 0, 0, 0, 1, 0) // header length 1<<16+... little-endian 0x00010000
	bigHeader[8] = 1                                     // 65537
	tests := []struct {
		name   string
		in     []byte
		field  string
		offset int64 // -1: don't check
	}{
		{"empty", nil, "magic", 0},
		{"short magic", []byte("\x93NUM"), "magic", 0},
		{"bad magic", []byte("\x93NUMPZ\x01\x00\x00\x00"), "magic", 0},
		{"version 4.0", file(4, ok, false, data), "version", 6},
		{"version 1.1", append([]byte(magic), 1, 1, 0, 0), "version", 6},
		{"version 0.0", append([]byte(magic), 0, 0, 0, 0), "version", 6},
		{"truncated length", append([]byte(magic), 2, 0, 1), "header length", 8},
		{"header too long", bigHeader, "header length", 8},
		{"truncated header", file(1, ok, false, data)[:40], "header", 10},
		{"not a dict", file(1, "[1, 2]", false, nil), "header", 10},
		{"missing key", file(1, "{'descr': '<f4', 'shape': (2,), }", false, data), "header", -1},
		{"extra key", file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", false, data), "header", 10 + 56},
		{"repeated key", file(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", false, data), "header", 10 + 17},
		{"unquoted key", file(1, "{descr: '<f4'}", false, data), "header", 11},
		{"descr not a string", file(1, hdr("[('a', '<f4')]", "False", "(2,)"), false, data), "descr", -1},
		{"escape in string", file(1, hdr(`'<f\x34'`, "False", "(2,)"), false, data), "descr", -1},
		{"unterminated string", file(1, "{'descr: '<f4', }", false, data), "header", -1},
		{"fortran_order lowercase", file(1, hdr("'<f4'", "false", "(2,)"), false, data), "fortran_order", -1},
		{"fortran_order 0", file(1, hdr("'<f4'", "0", "(2,)"), false, data), "fortran_order", -1},
		{"shape (2) is no tuple", file(1, hdr("'<f4'", "False", "(2)"), false, data), "shape", -1},
		{"shape list", file(1, hdr("'<f4'", "False", "[2]"), false, data), "shape", -1},
		{"negative dim", file(1, hdr("'<f4'", "False", "(-2,)"), false, data), "shape", -1},
		{"leading zero", file(1, hdr("'<f4'", "False", "(02,)"), false, data), "shape", -1},
		{"float dim", file(1, hdr("'<f4'", "False", "(2.0,)"), false, data), "shape", -1},
		{"dim beyond int", file(1, hdr("'<f4'", "False", "(99999999999999999999,)"), false, data), "shape", -1},
		{"65 dims", file(1, hdr("'<f4'", "False", "("+strings.Repeat("1, ", 65)+")"), false, data), "shape", -1},
		{"product overflows", file(1, hdr("'<f8'", "False", "(4294967296, 4294967296, 4294967296)"), false, data), "shape", -1},
		{"no final newline", file(1, ok+"   ", true, data), "header", -1},
		{"text after dict", file(1, ok+" x", false, data), "header", -1},
		{"newline inside", file(1, "{'descr': '<f4',\n'fortran_order': False, 'shape': (2,), }", false, data), "header", -1},
		{"object", file(1, hdr("'|O'", "False", "(2,)"), false, data), "descr", -1},
		{"unicode", file(1, hdr("'<U2'", "False", "(1,)"), false, data), "descr", -1},
		{"float16", file(1, hdr("'<f2'", "False", "(4,)"), false, data), "descr", -1},
		{"native order", file(1, hdr("'=f4'", "False", "(2,)"), false, data), "descr", -1},
		{"'|' on a multi-byte type", file(1, hdr("'|f4'", "False", "(2,)"), false, data), "descr", -1},
		{"truncated data", file(1, ok, false, data[:7]), "data", 128},
		{"no data", file(1, ok, false, nil), "data", 128},
		{"trailing data", file(1, ok, false, append(data, 0)), "end of input", 136},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Read(bytes.NewReader(tt.in))
			if err == nil {
				t.Fatalf("got %+v, want an error", a)
			}
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v (%T), want a *FormatError", err, err)
			}
			if fe.Field != tt.field {
				t.Errorf("Field: got %q, want %q (%v)", fe.Field, tt.field, err)
			}
			if tt.offset >= 0 && fe.Offset != tt.offset {
				t.Errorf("Offset: got %d, want %d (%v)", fe.Offset, tt.offset, err)
			}
			if !strings.HasPrefix(err.Error(), "npy: ") {
				t.Errorf("got %q, want prefix %q", err, "npy: ")
			}
		})
	}
}

// A header claiming 8 TB over 8 bytes of data must not allocate it.
func TestNoAllocationFromHeader(t *testing.T) {
	in := file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }", false, make([]byte, 8))
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

func TestHandBuiltArrays(t *testing.T) {
	tests := []struct {
		name string
		a    Array
	}{
		{"bad dtype", Array{DType: "<f2", Shape: []int{1}, Data: make([]byte, 2)}},
		{"short data", Array{DType: "<f4", Shape: []int{2}, Data: make([]byte, 7)}},
		{"negative dim", Array{DType: "<f4", Shape: []int{-1}}},
		{"too many dims", Array{DType: "|u1", Shape: make([]int, 65)}},
	}
	for _, tt := range tests {
		if _, err := tt.a.Float32s(); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: Float32s: got %v, want ErrFormat", tt.name, err)
		}
		if _, err := tt.a.Float64s(); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: Float64s: got %v, want ErrFormat", tt.name, err)
		}
	}
	if got := (&Array{Shape: []int{-1, 0}}).Len(); got != -1 {
		t.Errorf("Len of negative shape: got %d, want -1", got)
	}
}

func TestFormatErrorMessage(t *testing.T) {
	tests := []struct {
		e    FormatError
		want string
	}{
		{FormatError{Path: "x.npy", Offset: 6, Field: "version", Want: "1.0, 2.0 or 3.0", Got: "4.0"},
			"npy: x.npy: offset 6: version: want 1.0, 2.0 or 3.0, got 4.0"},
		{FormatError{Offset: -1, Field: "data", Want: "8 bytes", Got: "7 bytes"},
			"npy: data: want 8 bytes, got 7 bytes"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	_, err := ReadFile(filepath.Join(t.TempDir(), "missing.npy"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "npy: ") {
		t.Errorf("got %v, want fs.ErrNotExist", err)
	}
}

func FuzzRead(f *testing.F) {
	entries, err := os.ReadDir("testdata/numpy")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".npy") {
			b, err := os.ReadFile(filepath.Join("testdata", "numpy", e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add(file(1, "{'descr': '<i4', 'fortran_order': True, 'shape': (2L, 1), }", false, []byte{1, 0, 0, 0, 2, 0, 0, 0}))
	f.Add(file(3, `{"shape": (), "descr": "|b1", "fortran_order": False}`, false, []byte{1}))
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := Read(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v, want an error matching ErrFormat", err)
			}
			return
		}
		f64, err := a.Float64s()
		if err != nil {
			t.Fatalf("Float64s of a read array: %v", err)
		}
		f32, err := a.Float32s()
		if err != nil {
			t.Fatalf("Float32s of a read array: %v", err)
		}
		if len(f64) != a.Len() || len(f32) != a.Len() {
			t.Fatalf("got %d and %d values, want %d", len(f64), len(f32), a.Len())
		}
		var buf bytes.Buffer
		if err := Write(&buf, a.Shape, f32); err != nil {
			t.Fatalf("Write: %v", err)
		}
		b, err := Read(&buf)
		if err != nil {
			t.Fatalf("Read of a written array: %v", err)
		}
		g32, _ := b.Float32s()
		if !reflect.DeepEqual(b.Shape, a.Shape) || len(g32) != len(f32) {
			t.Fatalf("round trip: got %v, want %v", b.Shape, a.Shape)
		}
		for i := range f32 {
			if math.Float32bits(g32[i]) != math.Float32bits(f32[i]) {
				t.Fatalf("round trip value %d: got %v, want %v", i, g32[i], f32[i])
			}
		}
	})
}
