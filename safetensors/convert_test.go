package safetensors

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// equalF32 compares bit patterns, so NaNs and signed zeros count.
func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func u16s(v ...uint16) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, x)
	}
	return b
}

func TestF16ToF32(t *testing.T) {
	tests := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x3800, 0.5},
		{0x3555, 0.333251953125},
		{0x7bff, 65504},                // largest normal
		{0x0400, 1.0 / (1 << 14)},      // smallest normal
		{0x0001, 1.0 / (1 << 24)},      // smallest subnormal
		{0x03ff, 1023.0 / (1 << 24)},   // largest subnormal
		{0x8001, -1.0 / (1 << 24)},     // negative subnormal
		{0x7c00, float32(math.Inf(1))}, // +Inf
		{0xfc00, float32(math.Inf(-1))},
	}
	for _, tt := range tests {
		if got := f16ToF32(tt.h); got != tt.want {
			t.Errorf("f16ToF32(%#04x): got %g, want %g", tt.h, got, tt.want)
		}
	}
	if got := math.Float32bits(f16ToF32(0x8000)); got != 0x80000000 {
		t.Errorf("f16ToF32(0x8000): got bits %#08x, want -0 (0x80000000)", got)
	}
	for _, h := range []uint16{0x7e00, 0x7c01, 0xfe00} {
		if got := f16ToF32(h); !math.IsNaN(float64(got)) {
			t.Errorf("f16ToF32(%#04x): got %g, want NaN", h, got)
		}
	}
}

func TestFloat32s(t *testing.T) {
	tests := []struct {
		name string
		t    Tensor
		want []float32
	}{
		{"F32", F32("x", []int{3}, []float32{1, -2.5, float32(math.Inf(1))}), []float32{1, -2.5, float32(math.Inf(1))}},
		{"F32 scalar", F32("x", []int{}, []float32{7}), []float32{7}},
		{"F32 empty", F32("x", []int{0, 3}, nil), []float32{}},
		{"F64 rounded", F64("x", []int{3}, []float64{0.1, 1e300, -1e-300}), []float32{0.1, float32(math.Inf(1)), float32(math.Copysign(0, -1))}},
		{"F16", Tensor{Name: "x", DType: DTypeF16, Shape: []int{2}, Data: u16s(0x3c00, 0xc100)}, []float32{1, -2.5}},
		{"BF16", Tensor{Name: "x", DType: DTypeBF16, Shape: []int{1, 2}, Data: u16s(0x3f80, 0x4049)}, []float32{1, 3.140625}},
	}
	for _, tt := range tests {
		got, err := tt.t.Float32s()
		if err != nil || !equalF32(got, tt.want) {
			t.Errorf("%s: got %v, %v, want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestFloat64s(t *testing.T) {
	tests := []struct {
		name string
		t    Tensor
		want []float64
	}{
		{"F64", F64("x", []int{2}, []float64{0.1, -1e300}), []float64{0.1, -1e300}},
		{"F32 widened", F32("x", []int{2}, []float32{0.1, 3}), []float64{float64(float32(0.1)), 3}},
		{"F16", Tensor{Name: "x", DType: DTypeF16, Shape: []int{2}, Data: u16s(0x0001, 0x7bff)}, []float64{1.0 / (1 << 24), 65504}},
		{"BF16", Tensor{Name: "x", DType: DTypeBF16, Shape: []int{1}, Data: u16s(0xbf80)}, []float64{-1}},
	}
	for _, tt := range tests {
		got, err := tt.t.Float64s()
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("%s: got %v, %v, want %v", tt.name, got, err, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
				break
			}
		}
	}
}

func TestFloatConversionErrors(t *testing.T) {
	tests := []struct {
		name   string
		t      Tensor
		target error
		field  string
	}{
		{"I32", Tensor{Name: "x", DType: DTypeI32, Shape: []int{1}, Data: make([]byte, 4)}, ErrDType, ""},
		{"BOOL", Tensor{Name: "x", DType: DTypeBOOL, Shape: []int{1}, Data: make([]byte, 1)}, ErrDType, ""},
		{"unknown dtype", Tensor{Name: "x", DType: "F128", Shape: []int{1}, Data: make([]byte, 16)}, ErrDType, ""},
		{"data too short", Tensor{Name: "x", DType: DTypeF32, Shape: []int{2}, Data: make([]byte, 7)}, ErrFormat, "data"},
		{"data too long", F32("x", []int{1}, []float32{1, 2}), ErrFormat, "data"},
		{"negative dimension", Tensor{Name: "x", DType: DTypeF64, Shape: []int{-1}}, ErrFormat, "shape"},
		{"overflowing shape", Tensor{Name: "x", DType: DTypeF16, Shape: []int{math.MaxInt, 2}}, ErrFormat, "shape"},
	}
	for _, tt := range tests {
		for _, conv := range []struct {
			name string
			fn   func() error
		}{
			{"Float32s", func() error { _, err := tt.t.Float32s(); return err }},
			{"Float64s", func() error { _, err := tt.t.Float64s(); return err }},
		} {
			err := conv.fn()
			if !errors.Is(err, tt.target) {
				t.Errorf("%s %s: got %v, want %v", tt.name, conv.name, err, tt.target)
				continue
			}
			var fe *FormatError
			if errors.As(err, &fe) && (fe.Field != tt.field || fe.Key != "x" || fe.Offset != -1) {
				t.Errorf("%s %s: got key %q field %q offset %d, want key \"x\" field %q offset -1", tt.name, conv.name, fe.Key, fe.Field, fe.Offset, tt.field)
			}
		}
	}
	_, err := (&Tensor{Name: "step", DType: DTypeI64}).Float32s()
	want := `safetensors: tensor "step": cannot convert dtype "I64" to float32`
	if err.Error() != want {
		t.Errorf("message: got %q, want %q", err, want)
	}
}

func TestDTypeSize(t *testing.T) {
	tests := []struct {
		d    DType
		want int
	}{
		{DTypeBOOL, 1}, {DTypeU8, 1}, {DTypeI8, 1}, {DTypeF8E5M2, 1}, {DTypeF8E4M3, 1},
		{DTypeI16, 2}, {DTypeU16, 2}, {DTypeF16, 2}, {DTypeBF16, 2},
		{DTypeI32, 4}, {DTypeU32, 4}, {DTypeF32, 4},
		{DTypeF64, 8}, {DTypeI64, 8}, {DTypeU64, 8},
		{"", 0}, {"f32", 0}, {"F128", 0},
	}
	for _, tt := range tests {
		if got := tt.d.Size(); got != tt.want {
			t.Errorf("DType(%q).Size(): got %d, want %d", tt.d, got, tt.want)
		}
	}
}

func TestConstructors(t *testing.T) {
	shape := []int{2}
	x := F32("x", shape, []float32{1, -2})
	shape[0] = 99
	if x.DType != DTypeF32 || !equalShape(x.Shape, []int{2}) || string(x.Data) != data8 {
		t.Errorf("F32: got %+v, want F32 [2] with bytes %q and its own shape", x, data8)
	}
	y := F64("y", nil, []float64{2})
	if y.DType != DTypeF64 || y.Shape != nil || string(y.Data) != "\x00\x00\x00\x00\x00\x00\x00\x40" {
		t.Errorf("F64: got %+v, want F64 scalar with bytes of 2.0", y)
	}
}
