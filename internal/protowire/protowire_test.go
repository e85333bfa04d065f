package protowire

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// The encodings below are worked by hand from the protobuf "Encoding"
// guide, not produced by the encoders under test.
func TestAppendGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		got  []byte
		want []byte
	}{
		{"int 150", AppendInt(nil, 1, 150), []byte{0x08, 0x96, 0x01}},
		{"int -1", AppendInt(nil, 2, -1), []byte{0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"key field 16", AppendKey(nil, 16, Bytes), []byte{0x82, 0x01}},
		{"float 1", AppendFloat(nil, 2, 1), []byte{0x15, 0x00, 0x00, 0x80, 0x3f}},
		{"double 1", AppendDouble(nil, 1, 1), []byte{0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}},
		{"string testing", AppendString(nil, 2, "testing"), []byte{0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'}},
		{"bytes", AppendBytes(nil, 3, []byte{1, 2}), []byte{0x1a, 0x02, 1, 2}},
		{"packed ints", AppendPackedInts(nil, 4, []int64{3, 270, 86942}), []byte{0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05}},
		{"packed ints empty", AppendPackedInts(nil, 4, nil), []byte{0x22, 0x00}},
		{"packed doubles", AppendPackedDoubles(nil, 6, []float64{2}), []byte{0x32, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x40}},
	} {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("%s: got % x, want % x", c.name, c.got, c.want)
		}
	}
}

// TestMessageMatchesAppendBytes checks that BeginMessage/EndMessage write
// the canonical encoding, AppendBytes's, at body lengths around each varint
// length cutoff (1, 2 and 3 bytes of length), after a prefix and nested.
func TestMessageMatchesAppendBytes(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 129, 16383, 16384, 16385} {
		body := bytes.Repeat([]byte{0xab}, n)
		prefix := []byte{0x08, 0x01}
		b, at := BeginMessage(append([]byte(nil), prefix...), 5)
		b = append(b, body...)
		got := EndMessage(b, at)
		want := AppendBytes(append([]byte(nil), prefix...), 5, body)
		if !bytes.Equal(got, want) {
			t.Errorf("body of %d bytes: got %d bytes % x..., want %d bytes % x...", n, len(got), head(got), len(want), head(want))
		}

		b, outer := BeginMessage(nil, 1)
		b, inner := BeginMessage(b, 2)
		b = append(b, body...)
		got = EndMessage(EndMessage(b, inner), outer)
		want = AppendBytes(nil, 1, AppendBytes(nil, 2, body))
		if !bytes.Equal(got, want) {
			t.Errorf("nested body of %d bytes: got % x..., want % x...", n, head(got), head(want))
		}
	}
}

func head(b []byte) []byte { return b[:min(len(b), 8)] }

// TestParseRoundTrip decodes what the encoders write, field by field.
func TestParseRoundTrip(t *testing.T) {
	var b []byte
	b = AppendInt(b, 1, -7)
	b = AppendFloat(b, 2, 1.5)
	b = AppendDouble(b, 3, math.Pi)
	b = AppendString(b, 4, "tag")
	b = AppendPackedInts(b, 5, []int64{1, 300, -2})
	b = AppendPackedDoubles(b, 6, []float64{0.25, -8})
	fs, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 6 {
		t.Fatalf("got %d fields, want 6", len(fs))
	}
	for i, f := range fs {
		if f.Num != i+1 {
			t.Errorf("field %d: got number %d, want %d", i, f.Num, i+1)
		}
	}
	if got := int64(fs[0].V); got != -7 || fs[0].Wire != Varint {
		t.Errorf("int: got %d (wire %d), want -7 (wire %d)", got, fs[0].Wire, Varint)
	}
	if got := math.Float32frombits(uint32(fs[1].V)); got != 1.5 || fs[1].Want(Fixed32) != nil {
		t.Errorf("float: got %g (wire %d), want 1.5 (wire %d)", got, fs[1].Wire, Fixed32)
	}
	if got := math.Float64frombits(fs[2].V); got != math.Pi || fs[2].Want(Fixed64) != nil {
		t.Errorf("double: got %g (wire %d), want pi (wire %d)", got, fs[2].Wire, Fixed64)
	}
	if got := string(fs[3].B); got != "tag" {
		t.Errorf("string: got %q, want %q", got, "tag")
	}
	ints, err := RepeatedInts(fs[4])
	if err != nil || len(ints) != 3 || ints[0] != 1 || ints[1] != 300 || ints[2] != -2 {
		t.Errorf("packed ints: got %v, %v, want [1 300 -2]", ints, err)
	}
	ds, err := Doubles(fs[5].B)
	if err != nil || len(ds) != 2 || ds[0] != 0.25 || ds[1] != -8 {
		t.Errorf("packed doubles: got %v, %v, want [0.25 -8]", ds, err)
	}
	if got, err := RepeatedInts(fs[0]); err != nil || len(got) != 1 || got[0] != -7 {
		t.Errorf("unpacked repeated int: got %v, %v, want [-7]", got, err)
	}
	if _, err := RepeatedInts(fs[1]); err == nil {
		t.Error("RepeatedInts of a fixed32 field: got no error")
	}
	if err := fs[0].Want(Bytes); err == nil {
		t.Error("Want(Bytes) of a varint field: got no error")
	}
}

// TestParseRejects feeds malformed messages; each must fail, naming the
// package, and Each must call its function on nothing.
func TestParseRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"truncated key", []byte{0x80}},
		{"field 0", []byte{0x00, 0x01}},
		{"truncated varint", []byte{0x08, 0x96}},
		{"short fixed64", []byte{0x09, 1, 2, 3}},
		{"short fixed32", []byte{0x15, 1, 2}},
		{"length past the end", []byte{0x12, 0x05, 'a'}},
		{"group", []byte{0x0b}},
		{"good then bad", []byte{0x08, 0x01, 0x12, 0x05}},
	} {
		calls := 0
		err := Each(c.b, func(Field) error { calls++; return nil })
		if err == nil || !strings.HasPrefix(err.Error(), "protowire: ") {
			t.Errorf("%s (% x): got error %v, want one starting \"protowire: \"", c.name, c.b, err)
		}
		if calls != 0 {
			t.Errorf("%s: Each called fn %d times on a malformed message, want 0", c.name, calls)
		}
	}
	if _, err := Varints([]byte{0x01, 0x80}); err == nil {
		t.Error("Varints of a truncated varint: got no error")
	}
	if _, err := Doubles(make([]byte, 7)); err == nil {
		t.Error("Doubles of 7 bytes: got no error")
	}
}
