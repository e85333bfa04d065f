package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// file builds a safetensors file from a header text and data bytes, with no
// padding added.
func file(hdr, data string) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	return append(append(b, hdr...), data...)
}

// lenPrefix is a raw 8-byte header length.
func lenPrefix(n uint64) string {
	return string(binary.LittleEndian.AppendUint64(nil, n))
}

const (
	// okEntry is a valid entry for an F32 tensor of shape [2].
	okEntry = `{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`
	data8   = "\x00\x00\x80\x3f\x00\x00\x00\xc0" // float32s 1, -2
)

// entryWith returns a header with a single tensor "a" whose entry is e.
func entryWith(e string) string { return `{"a":` + e + `}` }

// badFiles lists malformed files, one per strictness rule, with the Key and
// Field of the expected *FormatError. FuzzParse uses them as seeds.
var badFiles = []struct {
	name       string
	b          []byte
	key, field string
}{
	// Length prefix.
	{"empty file", nil, "", "header length"},
	{"file shorter than 8 bytes", []byte("\x02\x00\x00\x00\x00\x00\x00"), "", "header length"},
	{"header length over 100 MB", []byte(lenPrefix(MaxHeaderSize+1) + "{}"), "", "header length"},
	{"header length 2^64-1", []byte(lenPrefix(math.MaxUint64) + "{}"), "", "header length"},
	{"header longer than file", []byte(lenPrefix(100) + "{}      "), "", "header"},

	// Header text.
	{"header not UTF-8", file(`{"a`+"\xff"+`":`+okEntry+`}`, data8), "", "header"},
	{"header empty", file("", ""), "", "header"},
	{"header not JSON", file(`{"a":`, ""), "", "header"},
	{"header JSON missing colon", file(`{"a" 1}`, ""), "", "header"},
	{"header JSON trailing comma", file(`{"a":`+okEntry+`,}`, data8), "", "header"},
	{"header an array", file(`[]`, ""), "", "header"},
	{"header a string", file(`"{}"`, ""), "", "header"},
	{"header null", file(`null`, ""), "", "header"},
	{"header with leading space", file(` {}`, ""), "", "header"},
	{"header with two objects", file(`{}{}`, ""), "", "header"},
	{"header with trailing garbage", file(`{}  x`, ""), "", "header"},
	{"header padded with NUL", file("{}\x00\x00\x00\x00\x00\x00", ""), "", "header"},

	// Duplicate keys, which encoding/json would silently accept.
	{"duplicate tensor", file(`{"a":`+okEntry+`,"a":`+okEntry+`}`, data8), "a", ""},
	{"duplicate tensor via escape", file(`{"a":`+okEntry+`,"\u0061":`+okEntry+`}`, data8), "a", ""},
	{"duplicate __metadata__", file(`{"__metadata__":{},"__metadata__":{}}`, ""), "__metadata__", ""},
	{"duplicate metadata key", file(`{"__metadata__":{"k":"1","k":"2"}}`, ""), "__metadata__", "k"},
	{"duplicate field", file(entryWith(`{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}`), data8), "a", "dtype"},

	// Tensor entries.
	{"empty tensor name", file(`{"":`+okEntry+`}`, data8), "", "name"},
	{"entry not an object", file(entryWith(`[1]`), ""), "a", ""},
	{"unknown field", file(entryWith(`{"dtype":"F32","shape":[2],"data_offsets":[0,8],"offsets":[0,8]}`), data8), "a", "offsets"},
	{"missing dtype", file(entryWith(`{"shape":[2],"data_offsets":[0,8]}`), data8), "a", "dtype"},
	{"missing shape", file(entryWith(`{"dtype":"F32","data_offsets":[0,8]}`), data8), "a", "shape"},
	{"missing data_offsets", file(entryWith(`{"dtype":"F32","shape":[2]}`), data8), "a", "data_offsets"},
	{"unknown dtype", file(entryWith(`{"dtype":"F31","shape":[2],"data_offsets":[0,8]}`), data8), "a", "dtype"},
	{"lower-case dtype", file(entryWith(`{"dtype":"f32","shape":[2],"data_offsets":[0,8]}`), data8), "a", "dtype"},
	{"dtype not a string", file(entryWith(`{"dtype":4,"shape":[2],"data_offsets":[0,8]}`), data8), "a", "dtype"},
	{"shape not an array", file(entryWith(`{"dtype":"F32","shape":2,"data_offsets":[0,8]}`), data8), "a", "shape"},
	{"shape negative", file(entryWith(`{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}`), data8), "a", "shape"},
	{"shape negative zero", file(entryWith(`{"dtype":"F32","shape":[-0],"data_offsets":[0,0]}`), ""), "a", "shape"},
	{"shape fraction", file(entryWith(`{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}`), data8), "a", "shape"},
	{"shape exponent", file(entryWith(`{"dtype":"F32","shape":[2e0],"data_offsets":[0,8]}`), data8), "a", "shape"},
	{"shape string", file(entryWith(`{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}`), data8), "a", "shape"},
	{"shape nested", file(entryWith(`{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}`), data8), "a", "shape"},
	{"shape dim beyond uint64", file(entryWith(`{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,0]}`), ""), "a", "shape"},
	{"shape dim beyond int", file(entryWith(`{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,0]}`), ""), "a", "shape"},
	{"shape product overflows", file(entryWith(`{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}`), ""), "a", "shape"},
	{"shape product overflows with zero later", file(entryWith(`{"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}`), ""), "a", "shape"},
	{"shape size overflows", file(entryWith(`{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}`), ""), "a", "shape"},
	{"offsets not an array", file(entryWith(`{"dtype":"F32","shape":[2],"data_offsets":8}`), data8), "a", "data_offsets"},
	{"offsets one element", file(entryWith(`{"dtype":"F32","shape":[2],"data_offsets":[8]}`), data8), "a", "data_offsets"},
	{"offsets three elements", file(entryWith(`{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}`), data8), "a", "data_offsets"},
	{"offsets negative", file(entryWith(`{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}`), data8), "a", "data_offsets"},
	{"offsets fraction", file(entryWith(`{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}`), data8), "a", "data_offsets"},
	{"offsets null", file(entryWith(`{"dtype":"F32","shape":[2],"data_offsets":[0,null]}`), data8), "a", "data_offsets"},
	{"offsets begin after end", file(entryWith(`{"dtype":"F32","shape":[2],"data_offsets":[8,0]}`), data8), "a", "data_offsets"},
	{"offsets size mismatch", file(entryWith(`{"dtype":"F32","shape":[2],"data_offsets":[0,6]}`), data8[:6]), "a", "data_offsets"},
	{"offsets huge", file(entryWith(`{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551614,18446744073709551615]}`), "x"), "a", "data_offsets"},

	// Layout of the data section.
	{"offsets not starting at 0", file(entryWith(`{"dtype":"F32","shape":[2],"data_offsets":[4,12]}`), data8+"1234"), "a", "data_offsets"},
	{"offsets overlapping", file(`{"a":`+okEntry+`,"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}}`, data8), "b", "data_offsets"},
	{"offsets with a gap", file(`{"a":`+okEntry+`,"b":{"dtype":"U8","shape":[2],"data_offsets":[9,11]}}`, data8+"123"), "b", "data_offsets"},
	{"zero-size tensor inside another", file(`{"a":`+okEntry+`,"b":{"dtype":"U8","shape":[0],"data_offsets":[4,4]}}`, data8), "b", "data_offsets"},
	{"bytes after the last tensor", file(entryWith(okEntry), data8+"\x00"), "", "data"},
	{"data not covered, no tensors", file(`{}`, "12345678"), "", "data"},
	{"data section truncated", file(entryWith(okEntry), data8[:7]), "", "data"},

	// Metadata.
	{"metadata value a number", file(`{"__metadata__":{"epoch":3}}`, ""), "__metadata__", "epoch"},
	{"metadata value an object", file(`{"__metadata__":{"k":{"x":"y"}}}`, ""), "__metadata__", "k"},
	{"metadata value null", file(`{"__metadata__":{"k":null}}`, ""), "__metadata__", "k"},
	{"metadata an array", file(`{"__metadata__":["k","v"]}`, ""), "__metadata__", ""},
	{"metadata null", file(`{"__metadata__":null}`, ""), "__metadata__", ""},
}

func TestParseRejects(t *testing.T) {
	for _, tt := range badFiles {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.b)
			if err == nil {
				t.Fatalf("Parse: got %+v, nil; want an error", f)
			}
			checkFormatError(t, "Parse", err, tt.key, tt.field)
			_, err = Read(bytes.NewReader(tt.b))
			if err == nil {
				t.Fatal("Read: got nil error; want an error")
			}
			checkFormatError(t, "Read", err, tt.key, tt.field)
		})
	}
}

// checkFormatError checks that err is a *FormatError wrapping ErrFormat
// with the given key and field.
func checkFormatError(t *testing.T, fn string, err error, key, field string) {
	t.Helper()
	if !errors.Is(err, ErrFormat) {
		t.Errorf("%s: errors.Is(%v, ErrFormat) = false, want true", fn, err)
	}
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("%s: got %T, want *FormatError", fn, err)
	}
	if fe.Key != key || fe.Field != field {
		t.Errorf("%s: got key %q field %q, want key %q field %q (%v)", fn, fe.Key, fe.Field, key, field, err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "safetensors: ") {
		t.Errorf("%s: error %q: want prefix \"safetensors: \"", fn, msg)
	}
}

func TestFormatErrorOffsets(t *testing.T) {
	hdr := entryWith(okEntry) // 54 bytes: data section starts at 62
	gapHdr := `{"a":` + okEntry + `,"b":{"dtype":"U8","shape":[2],"data_offsets":[9,11]}}`
	tests := []struct {
		name string
		b    []byte
		want int64
	}{
		{"short file", []byte("abc"), 3},
		{"header length cap", []byte(lenPrefix(MaxHeaderSize + 1)), 0},
		{"header truncated", []byte(lenPrefix(10) + "{}"), 10},
		{"invalid UTF-8 at byte 3 of header", file(`{"`+"\xc3"+`":1}`, ""), 10},
		{"bytes after the last tensor", file(hdr, data8+"xy"), 62 + 8},
		{"data truncated", file(hdr, data8[:5]), 62 + 5},
		{"gap starts at end of first tensor", file(gapHdr, data8+"123"), 8 + int64(len(gapHdr)) + 8},
		{"metadata value", file(`{"__metadata__": {"epoch": 3}}`, ""), 8 + 27},
		{"dtype value", file(`{"a": {"dtype" :"F31"}}`, ""), 8 + 16},
		{"shape element", file(entryWith(`{"dtype":"F32","shape":[2, -1],"data_offsets":[0,8]}`), data8), 8 + 32},
		{"duplicate key", file(`{"a":`+okEntry+`, "a":`+okEntry+`}`, data8), 8 + 55},
	}
	for _, tt := range tests {
		_, err := Parse(tt.b)
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: got %v, want a *FormatError", tt.name, err)
			continue
		}
		if fe.Offset != tt.want {
			t.Errorf("%s: got offset %d, want %d (%v)", tt.name, fe.Offset, tt.want, err)
		}
	}
}

func TestFormatErrorMessage(t *testing.T) {
	_, err := Parse(file(entryWith(`{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}`), strings.Repeat("x", 20)))
	want := `safetensors: invalid format at offset 57: tensor "a": data_offsets: want end-begin = 24 bytes (shape [2,3] × 4-byte F32), got [0,20], 20 bytes`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	_, err = Parse(file(`{"__metadata__":{"epoch":3}}`, ""))
	want = `safetensors: invalid format at offset 33: __metadata__: key "epoch": want a string value, got number "3"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// pythonStyle is a file laid out as the reference implementation writes
// one, constructed by hand from the format description: metadata first,
// tensors ordered by dtype and not by name, header padded to 152 bytes.
var pythonStyle = []byte("\x98\x00\x00\x00\x00\x00\x00\x00" +
	`{"__metadata__":{"format":"pt"},` +
	`"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},` +
	`"bias":{"dtype":"F16","shape":[2],"data_offsets":[16,20]}}` +
	" " + // 151 bytes of JSON, 1 space of padding
	"\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40" + // 1, 2, 3, 4
	"\x00\x38\x00\xbc") // F16 0.5, -1

func TestParseHandBuilt(t *testing.T) {
	for _, read := range []struct {
		name string
		fn   func([]byte) (*File, error)
	}{
		{"Parse", Parse},
		{"Read", func(b []byte) (*File, error) { return Read(bytes.NewReader(b)) }},
	} {
		f, err := read.fn(pythonStyle)
		if err != nil {
			t.Fatalf("%s: %v", read.name, err)
		}
		if got := f.Metadata["format"]; len(f.Metadata) != 1 || got != "pt" {
			t.Errorf("%s: metadata: got %v, want map[format:pt]", read.name, f.Metadata)
		}
		if len(f.Tensors) != 2 || f.Tensors[0].Name != "weight" || f.Tensors[1].Name != "bias" {
			t.Fatalf("%s: got %d tensors %+v, want weight, bias in file order", read.name, len(f.Tensors), f.Tensors)
		}
		w := f.Tensors[0]
		if w.DType != DTypeF32 || !equalShape(w.Shape, []int{2, 2}) {
			t.Errorf("%s: weight: got %s %v, want F32 [2 2]", read.name, w.DType, w.Shape)
		}
		if v, err := w.Float32s(); err != nil || !equalF32(v, []float32{1, 2, 3, 4}) {
			t.Errorf("%s: weight: got %v, %v, want [1 2 3 4]", read.name, v, err)
		}
		b, ok := f.Tensor("bias")
		if !ok || b.DType != DTypeF16 || !equalShape(b.Shape, []int{2}) {
			t.Fatalf("%s: bias: got %+v, %v, want F16 [2]", read.name, b, ok)
		}
		if v, err := b.Float64s(); err != nil || len(v) != 2 || v[0] != 0.5 || v[1] != -1 {
			t.Errorf("%s: bias: got %v, %v, want [0.5 -1]", read.name, v, err)
		}
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name  string
		b     []byte
		names []string // in file order
	}{
		{"no tensors", file(`{}`, ""), nil},
		{"no tensors, padded", file(`{}      `, ""), nil},
		{"trailing JSON whitespace", file("{}\n\t\r ", ""), nil},
		{"metadata only", file(`{"__metadata__":{"a":"b","":""}}`, ""), nil},
		{"empty metadata", file(`{"__metadata__":{}}`, ""), nil},
		{"scalar", file(entryWith(`{"dtype":"F64","shape":[],"data_offsets":[0,8]}`), "12345678"), []string{"a"}},
		{"whitespace inside JSON", file("{ \"a\" :\n{ \"shape\" : [ 2 ] , \"data_offsets\":[0 ,8],\"dtype\":\"F32\" } }", data8), []string{"a"}},
		{"zero-size tensors share offsets", file(`{"z":{"dtype":"U8","shape":[0,5],"data_offsets":[2,2]},`+
			`"y":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},`+
			`"x":{"dtype":"I16","shape":[1],"data_offsets":[0,2]}}`, "ab"), []string{"y", "x", "z"}},
		{"header order differs from data order", file(`{"second":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},`+
			`"first":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}`, "\x01\x02"), []string{"first", "second"}},
		{"escaped and non-ASCII names", file(`{"a\"b\\c\n\u00e9\ud83d\ude00":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"日本":{"dtype":"I8","shape":[1],"data_offsets":[1,2]}}`, "\x01\x02"),
			[]string{"a\"b\\c\né😀", "日本"}},
		{"every dtype", file(`{"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]},`+
			`"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},`+
			`"c":{"dtype":"I8","shape":[1],"data_offsets":[2,3]},`+
			`"d":{"dtype":"F8_E5M2","shape":[1],"data_offsets":[3,4]},`+
			`"e":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[4,5]},`+
			`"f":{"dtype":"I16","shape":[1],"data_offsets":[5,7]},`+
			`"g":{"dtype":"U16","shape":[1],"data_offsets":[7,9]},`+
			`"h":{"dtype":"F16","shape":[1],"data_offsets":[9,11]},`+
			`"i":{"dtype":"BF16","shape":[1],"data_offsets":[11,13]},`+
			`"j":{"dtype":"I32","shape":[1],"data_offsets":[13,17]},`+
			`"k":{"dtype":"U32","shape":[1],"data_offsets":[17,21]},`+
			`"l":{"dtype":"F32","shape":[1],"data_offsets":[21,25]},`+
			`"m":{"dtype":"F64","shape":[1],"data_offsets":[25,33]},`+
			`"n":{"dtype":"I64","shape":[1],"data_offsets":[33,41]},`+
			`"o":{"dtype":"U64","shape":[1],"data_offsets":[41,49]}}`, strings.Repeat("x", 49)),
			strings.Split("a b c d e f g h i j k l m n o", " ")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var names []string
			for _, x := range f.Tensors {
				names = append(names, x.Name)
			}
			if strings.Join(names, "|") != strings.Join(tt.names, "|") {
				t.Errorf("got tensors %q, want %q", names, tt.names)
			}
			g, err := Read(bytes.NewReader(tt.b))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !sameFile(f, g) {
				t.Errorf("Read: got %+v, want %+v as from Parse", g, f)
			}
		})
	}
}

func TestParseAliasesInput(t *testing.T) {
	b := file(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}`, "xyz")
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.Tensor("a")
	if got := cap(a.Data); got != 2 {
		t.Errorf("cap(a.Data): got %d, want 2, so appends cannot clobber b", got)
	}
	b[len(b)-3] = 'X'
	if got := string(a.Data); got != "Xy" {
		t.Errorf("a.Data after changing the input: got %q, want %q (aliasing)", got, "Xy")
	}
}

func TestFileTensor(t *testing.T) {
	f := &File{Tensors: []Tensor{F32("a", []int{1}, []float32{1}), F32("b", []int{1}, []float32{2})}}
	tests := []struct {
		name string
		ok   bool
	}{{"a", true}, {"b", true}, {"c", false}, {"", false}}
	for _, tt := range tests {
		got, ok := f.Tensor(tt.name)
		if ok != tt.ok || (ok && got.Name != tt.name) || (!ok && got != nil) {
			t.Errorf("Tensor(%q): got %v, %v, want ok %v", tt.name, got, ok, tt.ok)
		}
	}
	got, _ := f.Tensor("b")
	got.Name = "renamed"
	if f.Tensors[1].Name != "renamed" {
		t.Error("Tensor: got a copy, want a pointer into f.Tensors")
	}
}

func TestReadReaderErrors(t *testing.T) {
	errBoom := errors.New("boom")
	valid := file(entryWith(okEntry), data8)
	for _, cut := range []int{0, 4, 8, 20, len(valid) - 1, len(valid)} {
		r := io.MultiReader(bytes.NewReader(valid[:cut]), iotest.ErrReader(errBoom))
		_, err := Read(r)
		if !errors.Is(err, errBoom) || errors.Is(err, ErrFormat) {
			t.Errorf("error after %d bytes: got %v, want it wrapping the reader's error only", cut, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "safetensors: ") {
			t.Errorf("error %q: want prefix \"safetensors: \"", err)
		}
	}
}

func TestReadSlowReaders(t *testing.T) {
	valid := file(entryWith(okEntry), data8)
	readers := map[string]func(io.Reader) io.Reader{
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+EOF": iotest.DataErrReader,
	}
	for name, wrap := range readers {
		f, err := Read(wrap(bytes.NewReader(valid)))
		if err != nil {
			t.Errorf("%s reader: %v", name, err)
			continue
		}
		if v, err := f.Tensors[0].Float32s(); err != nil || !equalF32(v, []float32{1, -2}) {
			t.Errorf("%s reader: got %v, %v, want [1 -2]", name, v, err)
		}
	}
}

// allocated returns the bytes allocated while running fn.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestReadHugeClaimsAllocateLittle(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"header of 100 MB claimed, 10 bytes present", []byte(lenPrefix(MaxHeaderSize) + `{"a":1}   `)},
		{"tensor of 1 TB claimed, 8 bytes present", file(entryWith(`{"dtype":"U8","shape":[1099511627776],"data_offsets":[0,1099511627776]}`), data8)},
		{"tensor of 2^62 bytes claimed", file(entryWith(`{"dtype":"F64","shape":[576460752303423488],"data_offsets":[0,4611686018427387904]}`), data8)},
	}
	for _, tt := range tests {
		var err error
		n := allocated(func() { _, err = Read(bytes.NewReader(tt.b)) })
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: got %v, want an ErrFormat", tt.name, err)
		}
		if n > 1<<20 {
			t.Errorf("%s: allocated %d bytes, want under 1 MiB", tt.name, n)
		}
	}
}

func TestReadUpTo(t *testing.T) {
	src := bytes.Repeat([]byte("0123456789"), 30000) // 300 kB, past the first buffer
	tests := []struct {
		n, want int
	}{{0, 0}, {5, 5}, {64 << 10, 64 << 10}, {100001, 100001}, {300000, 300000}, {400000, 300000}}
	for _, tt := range tests {
		r := bytes.NewReader(src)
		got, err := readUpTo(r, tt.n)
		if err != nil || len(got) != tt.want || !bytes.Equal(got, src[:tt.want]) {
			t.Errorf("readUpTo(%d): got %d bytes, %v, want %d bytes of the input", tt.n, len(got), err, tt.want)
		}
		if rest := r.Len(); rest != len(src)-tt.want {
			t.Errorf("readUpTo(%d): %d bytes left unread, want %d", tt.n, rest, len(src)-tt.want)
		}
	}
}
