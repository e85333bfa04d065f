package tensor_test

import (
	"math"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/tensor"
)

// allBytes returns the 256 byte values in order.
func allBytes() []uint8 {
	b := make([]uint8, 256)
	for i := range b {
		b[i] = uint8(i)
	}
	return b
}

// TestUint8Values: every accessor and As give float32(byte)/div, the bits
// of the division done in float32 by hand, for several divisors.
func TestUint8Values(t *testing.T) {
	for _, div := range []float32{255, 1, 127.5, 3} {
		x := tensor.FromUint8(allBytes(), div, 16, 16)
		if x.DType() != tensor.Uint8 || x.Len() != 256 || x.Divisor() != div || len(x.Uint8s()) != 256 {
			t.Fatalf("div %g: dtype %s, len %d, divisor %g", div, x.DType(), x.Len(), x.Divisor())
		}
		if x.Float32s() != nil || x.Float64s() != nil {
			t.Errorf("div %g: Float32s or Float64s not nil for a uint8 tensor", div)
		}
		f32, f64 := x.As(tensor.Float32), x.As(tensor.Float64)
		if !f32.Shape().Equal(x.Shape()) || !f64.Shape().Equal(x.Shape()) {
			t.Errorf("div %g: As changed the shape: %s, %s", div, f32.Shape(), f64.Shape())
		}
		for q := range 256 {
			want := float32(q) / div
			if got := x.Index(q); got != float64(want) {
				t.Errorf("div %g: Index(%d) = %v, want %v", div, q, got, want)
			}
			if got := x.At(q/16, q%16); got != float64(want) {
				t.Errorf("div %g: At(%d, %d) = %v, want %v", div, q/16, q%16, got, want)
			}
			if got := f32.Float32s()[q]; math.Float32bits(got) != math.Float32bits(want) {
				t.Errorf("div %g: As(Float32)[%d] = %v, want %v", div, q, got, want)
			}
			if got := f64.Float64s()[q]; got != float64(want) {
				t.Errorf("div %g: As(Float64)[%d] = %v, want %v", div, q, got, want)
			}
		}
		if !x.AllFinite() {
			t.Errorf("div %g: AllFinite false", div)
		}
		if x.As(tensor.Uint8) != x {
			t.Errorf("div %g: As(Uint8) of a uint8 tensor copies", div)
		}
	}
	if got := tensor.FromUint8([]uint8{51}, 255).Item(); got != float64(float32(51)/255) {
		t.Errorf("Item = %v, want %v", got, float32(51)/255)
	}
}

// TestUint8Views: Rows, Reshape and Clone keep the dtype and the divisor;
// Rows and Reshape share the bytes, Clone copies them.
func TestUint8Views(t *testing.T) {
	data := allBytes()[:12]
	x := tensor.FromUint8(data, 3, 4, 3)
	r := x.Rows(1, 3)
	if r.DType() != tensor.Uint8 || r.Divisor() != 3 || !r.Shape().Equal(tensor.Shape{2, 3}) || r.At(0, 0) != float64(float32(3)/3) {
		t.Fatalf("Rows(1, 3) = %v", r)
	}
	if cap(r.Uint8s()) != 6 {
		t.Errorf("Rows(1, 3) has capacity %d, want 6 (capped at its rows)", cap(r.Uint8s()))
	}
	v := x.Reshape(2, 2, 3)
	if v.DType() != tensor.Uint8 || v.Divisor() != 3 || v.At(1, 1, 2) != float64(float32(11)/3) {
		t.Errorf("Reshape = %v", v)
	}
	c := x.Clone()
	data[0] = 200
	if c.DType() != tensor.Uint8 || c.Divisor() != 3 || c.Index(0) != 0 || x.Index(0) != float64(float32(200)/3) {
		t.Errorf("Clone = %v shares or lost data (original %v)", c, x)
	}
	for _, e := range []*tensor.Tensor{x.Rows(2, 2), x.Rows(2, 2).Clone(), tensor.FromUint8(nil, 255, 0, 3), tensor.FromUint8([]uint8{}, 255, 0).Clone()} {
		if e.DType() != tensor.Uint8 || e.Len() != 0 {
			t.Errorf("empty uint8 tensor %v: dtype %s, len %d", e.Shape(), e.DType(), e.Len())
		}
	}
	if got, want := x.Rows(0, 1).String(), "Tensor(1, 3) uint8/3 [66.6667 0.333333 0.666667]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if tensor.Uint8.String() != "uint8" || tensor.Uint8.Size() != 1 {
		t.Errorf("Uint8: String %q, Size %d", tensor.Uint8.String(), tensor.Uint8.Size())
	}
}

// TestUint8ReadOnly: every mutator panics on a uint8 tensor with a message
// saying why, and leaves the bytes alone.
func TestUint8ReadOnly(t *testing.T) {
	data := []uint8{1, 2, 3, 4}
	x := tensor.FromUint8(data, 255, 2, 2)
	for name, f := range map[string]func(){
		"tensor.SetIndex": func() { x.SetIndex(0, 1) },
		"tensor.Set":      func() { x.Set(1, 0, 0) },
		"tensor.Fill":     func() { x.Fill(1) },
		"tensor.Zero":     func() { x.Zero() },
		"tensor.CopyFrom": func() { x.CopyFrom(tensor.FromUint8([]uint8{9, 9, 9, 9}, 255, 2, 2)) },
		"tensor.Lerp":     func() { tensor.Lerp(x, tensor.FromUint8([]uint8{9, 9, 9, 9}, 255, 2, 2), 0.5) },
	} {
		msg := panicMessage(t, f)
		if !strings.Contains(msg, name+":") || !strings.Contains(msg, "read-only") {
			t.Errorf("%s on uint8: panic %q, want one naming %s and saying read-only", name, msg, name)
		}
	}
	if data[0] != 1 || data[3] != 4 {
		t.Errorf("a mutator changed the bytes: %v", data)
	}
}

func TestUint8Panics(t *testing.T) {
	for name, c := range map[string]struct {
		f    func()
		want string
	}{
		"zero divisor":     {func() { tensor.FromUint8([]uint8{1}, 0, 1) }, "divisor 0"},
		"negative divisor": {func() { tensor.FromUint8([]uint8{1}, -255, 1) }, "divisor -255"},
		"NaN divisor":      {func() { tensor.FromUint8([]uint8{1}, float32(math.NaN()), 1) }, "divisor NaN"},
		"Inf divisor":      {func() { tensor.FromUint8([]uint8{1}, float32(math.Inf(1)), 1) }, "divisor +Inf"},
		"tiny divisor":     {func() { tensor.FromUint8([]uint8{1}, 1e-38, 1) }, "divisor 1e-38"},
		"length":           {func() { tensor.FromUint8([]uint8{1, 2, 3}, 255, 2, 2) }, "tensor.FromUint8: (2, 2): shape holds 4 elements, data has 3"},
		"New":              {func() { tensor.New(tensor.Uint8, 2) }, "FromUint8"},
		"As uint8":         {func() { tensor.New(tensor.Float32, 2).As(tensor.Uint8) }, "cannot convert float32 to uint8"},
		"copy into float":  {func() { tensor.New(tensor.Float32, 1).CopyFrom(tensor.FromUint8([]uint8{1}, 255, 1)) }, "want float32"},
	} {
		if msg := panicMessage(t, c.f); !strings.Contains(msg, c.want) {
			t.Errorf("%s: panic %q, want it to contain %q", name, msg, c.want)
		}
	}
}

// panicMessage runs f and returns what it panicked with, as a string.
func panicMessage(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		switch r := recover().(type) {
		case nil:
			t.Error("no panic")
		case error:
			msg = r.Error()
		case string:
			msg = r
		default:
			t.Errorf("panic %v (%T)", r, r)
		}
	}()
	f()
	return ""
}
