package tensor_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/tensor"
)

// shapePanic runs f and returns the *tensor.ShapeError it panicked with.
func shapePanic(t *testing.T, f func()) (se *tensor.ShapeError) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic")
		}
		err, ok := r.(error)
		if !ok || !errors.As(err, &se) {
			t.Fatalf("panic %v (%T), want *tensor.ShapeError", r, r)
		}
	}()
	f()
	return nil
}

func TestShape(t *testing.T) {
	for _, c := range []struct {
		s    tensor.Shape
		str  string
		size int
	}{
		{tensor.Shape{}, "()", 1},
		{tensor.Shape{5}, "(5,)", 5},
		{tensor.Shape{2, 3}, "(2, 3)", 6},
		{tensor.Shape{2, 0, 4}, "(2, 0, 4)", 0},
	} {
		if got := c.s.String(); got != c.str {
			t.Errorf("%v.String() = %q, want %q", []int(c.s), got, c.str)
		}
		if got := c.s.Len(); got != c.size {
			t.Errorf("%v.Len() = %d, want %d", []int(c.s), got, c.size)
		}
		if !c.s.Equal(c.s.Clone()) {
			t.Errorf("%v is not Equal to its Clone", c.s)
		}
	}
	if (tensor.Shape{2, 3}).Equal(tensor.Shape{3, 2}) || (tensor.Shape{2}).Equal(tensor.Shape{2, 1}) {
		t.Error("Equal confuses different shapes")
	}
	s := tensor.Shape{1, 2}
	c := s.Clone()
	c[0] = 9
	if s[0] != 1 {
		t.Error("Clone shares memory with the original")
	}
}

func TestNewAndAccessors(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		x := tensor.New(dt, 2, 3)
		if x.DType() != dt || x.Rank() != 2 || x.Len() != 6 || x.Dim(0) != 2 || x.Dim(-1) != 3 {
			t.Fatalf("%s: New(2, 3) gives dtype %s rank %d len %d dims %d,%d", dt, x.DType(), x.Rank(), x.Len(), x.Dim(0), x.Dim(-1))
		}
		if (dt == tensor.Float32) != (x.Float32s() != nil) || (dt == tensor.Float64) != (x.Float64s() != nil) {
			t.Errorf("%s: wrong backing slice", dt)
		}
		x.Set(7.5, 1, 2)
		if got := x.At(1, 2); got != 7.5 {
			t.Errorf("%s: At(1, 2) = %g after Set 7.5", dt, got)
		}
		if got := x.Index(5); got != 7.5 { // row-major: 1*3+2
			t.Errorf("%s: Index(5) = %g, want 7.5 (row-major)", dt, got)
		}
		o := tensor.Ones(dt, 4)
		for i := range 4 {
			if o.Index(i) != 1 {
				t.Errorf("%s: Ones[%d] = %g", dt, i, o.Index(i))
			}
		}
		o.Zero()
		if o.Index(3) != 0 {
			t.Errorf("%s: Zero left %g", dt, o.Index(3))
		}
		if got := tensor.Ones(dt).Item(); got != 1 {
			t.Errorf("%s: scalar Item = %g", dt, got)
		}
	}
}

func TestShapeErrors(t *testing.T) {
	x := tensor.New(tensor.Float32, 2, 3)
	for _, c := range []struct {
		name, want string
		f          func()
	}{
		{"negative", "tensor.New: (2, -1): negative dimension", func() { tensor.New(tensor.Float32, 2, -1) }},
		{"overflow", "too many elements", func() { tensor.New(tensor.Float32, 1<<20, 1<<20) }},
		{"from", "tensor.FromFloat32: (2, 2): shape holds 4 elements, data has 3", func() { tensor.FromFloat32(make([]float32, 3), 2, 2) }},
		{"reshape", "tensor.Reshape: (2, 3) and (4,): element counts differ", func() { x.Reshape(4) }},
		{"rows", "tensor.Rows: (2, 3): rows [1, 3) out of range", func() { x.Rows(1, 3) }},
		{"at rank", "tensor.At: (2, 3): 1 indices for rank 2", func() { x.At(0) }},
		{"at range", "index 3 out of range on axis 1", func() { x.At(0, 3) }},
		{"item", "tensor.Item: (2, 3): want one element", func() { x.Item() }},
		{"same", "tensor.Lerp: (2, 3) and (3, 2): shapes differ", func() { tensor.Lerp(x, tensor.New(tensor.Float32, 3, 2), 0.5) }},
		{"dtype", "dtypes differ: float32 and float64", func() { tensor.Lerp(x, tensor.New(tensor.Float64, 2, 3), 0.5) }},
		{"copy", "tensor.CopyFrom", func() { x.CopyFrom(tensor.New(tensor.Float64, 6)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			se := shapePanic(t, c.f)
			if !strings.Contains(se.Error(), c.want) {
				t.Errorf("error %q does not contain %q", se.Error(), c.want)
			}
		})
	}
}

func TestViewsShareData(t *testing.T) {
	x := tensor.FromFloat64([]float64{0, 1, 2, 3, 4, 5}, 3, 2)
	r := x.Rows(1, 3)
	if !r.Shape().Equal(tensor.Shape{2, 2}) || r.At(0, 0) != 2 {
		t.Fatalf("Rows(1, 3) = %v", r)
	}
	r.Set(-1, 1, 1)
	if x.At(2, 1) != -1 {
		t.Error("Rows does not share data")
	}
	// Appending to a row view's data must not overwrite the next rows.
	r0 := x.Rows(0, 1)
	if got := cap(r0.Float64s()); got != 2 {
		t.Errorf("Rows(0, 1) has capacity %d, want 2 (capped at its rows)", got)
	}
	v := x.Reshape(6)
	v.SetIndex(0, 9)
	if x.At(0, 0) != 9 {
		t.Error("Reshape does not share data")
	}
	c := x.Clone()
	c.SetIndex(0, 42)
	if x.At(0, 0) != 9 {
		t.Error("Clone shares data")
	}
}

func TestAs(t *testing.T) {
	x := tensor.FromFloat64([]float64{0.1, -2, 1e40}, 3)
	if x.As(tensor.Float64) != x {
		t.Error("As to the same dtype copies")
	}
	f := x.As(tensor.Float32)
	want := []float32{0.1, -2, float32(math.Inf(1))}
	for i, w := range want {
		if f.Float32s()[i] != w {
			t.Errorf("As(Float32)[%d] = %g, want %g", i, f.Float32s()[i], w)
		}
	}
	if !f.Shape().Equal(x.Shape()) {
		t.Errorf("As changed the shape to %s", f.Shape())
	}
}

func TestLerp(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		dst := tensor.New(dt, 3)
		src := tensor.New(dt, 3)
		for i, v := range []float64{1, 2, -4} {
			dst.SetIndex(i, 1)
			src.SetIndex(i, v)
		}
		tensor.Lerp(dst, src, 0.25) // 1 + 0.25*(v-1)
		for i, want := range []float64{1, 1.25, -0.25} {
			if got := dst.Index(i); got != want {
				t.Errorf("%s: Lerp[%d] = %g, want %g", dt, i, got, want)
			}
		}
	}
}

func TestAllFinite(t *testing.T) {
	big := float32(math.MaxFloat32)
	for _, c := range []struct {
		name string
		data []float32
		want bool
	}{
		{"empty", nil, true},
		{"ordinary", []float32{1, -2, 3}, true},
		{"sum overflows but all finite", []float32{big, big, big, big, big, big, big, big, big, big, big, big, big, big, big, big, big}, true},
		{"opposite overflows", []float32{big, big, -big, -big, big, -big, big, -big, big, big, big, big, big, big, big, big, -big}, true},
		{"NaN", []float32{1, float32(math.NaN()), 3}, false},
		{"+Inf", []float32{1, 2, float32(math.Inf(1))}, false},
		{"-Inf late", append(make([]float32, 100), float32(math.Inf(-1))), false},
		{"+Inf and -Inf", []float32{float32(math.Inf(1)), float32(math.Inf(-1))}, false},
	} {
		if got := tensor.FromFloat32(c.data, len(c.data)).AllFinite(); got != c.want {
			t.Errorf("%s float32: AllFinite = %v, want %v", c.name, got, c.want)
		}
		d := make([]float64, len(c.data))
		for i, v := range c.data {
			d[i] = float64(v)
		}
		if got := tensor.FromFloat64(d, len(d)).AllFinite(); got != c.want {
			t.Errorf("%s float64: AllFinite = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestString(t *testing.T) {
	x := tensor.FromFloat32([]float32{1, 2.5, 3, 4, 5, 6, 7, 8, 9}, 3, 3)
	if got, want := x.String(), "Tensor(3, 3) float32 [1 2.5 3 4 5 6 7 8 ...]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := tensor.Float64.String()+" "+tensor.DType(9).String(), "float64 dtype(9)"; got != want {
		t.Errorf("DType strings %q, want %q", got, want)
	}
	if tensor.Float32.Size() != 4 || tensor.Float64.Size() != 8 {
		t.Error("DType.Size wrong")
	}
}

// TestEmptyKeepsDType: an empty float64 tensor (no rows) stays float64
// through Rows and Clone.
func TestEmptyKeepsDType(t *testing.T) {
	x := tensor.New(tensor.Float64, 3, 2)
	for _, e := range []*tensor.Tensor{x.Rows(1, 1), x.Rows(1, 1).Clone(), tensor.New(tensor.Float64, 0, 2).Clone()} {
		if e.DType() != tensor.Float64 || e.Len() != 0 {
			t.Fatalf("empty tensor %v: dtype %v, len %d", e.Shape(), e.DType(), e.Len())
		}
	}
}
