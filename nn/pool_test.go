package nn_test

import (
	"fmt"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/gradcheck"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

type poolCase struct {
	x             [4]int
	pool, strides [2]int
	pad           nn.Padding
}

var poolCases = []poolCase{
	{[4]int{2, 4, 4, 3}, [2]int{2, 2}, [2]int{0, 0}, nn.Valid},
	{[4]int{2, 5, 7, 2}, [2]int{2, 2}, [2]int{0, 0}, nn.Valid}, // odd sizes: the last row and column dropped
	{[4]int{2, 5, 7, 2}, [2]int{2, 2}, [2]int{0, 0}, nn.Same},  // odd sizes: a padded last row and column
	{[4]int{1, 6, 6, 2}, [2]int{3, 3}, [2]int{1, 1}, nn.Same},  // overlapping windows
	{[4]int{2, 7, 6, 1}, [2]int{3, 2}, [2]int{2, 1}, nn.Valid},
	{[4]int{1, 5, 5, 2}, [2]int{1, 1}, [2]int{2, 2}, nn.Same},
}

func (c poolCase) String() string {
	return fmt.Sprintf("x%v/p%v/s%v/%s", c.x, c.pool, c.strides, c.pad)
}

// TestPoolGradient checks MaxPool2D's and AvgPool2D's input gradients
// against central differences.
func TestPoolGradient(t *testing.T) {
	for _, c := range poolCases {
		for name, f := range map[string]func(*autodiff.Tape, *autodiff.Var, [2]int, [2]int, nn.Padding) *autodiff.Var{
			"max": nn.MaxPool2D, "avg": nn.AvgPool2D,
		} {
			t.Run(name+"/"+c.String(), func(t *testing.T) {
				x := spatialRandn(c.x[:]...)
				gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
					return project(tp, f(tp, v[0], c.pool, c.strides, c.pad))
				}, 1e-6, x)
			})
		}
	}
}

// TestAvgPoolSameExcludesPadding pins Keras's average at a padded border:
// a 2×2 window over a 3×3 image of ones with "same" padding averages to 1
// everywhere (padding counted, the last row and column would be 0.5 and
// the corner 0.25).
func TestAvgPoolSameExcludesPadding(t *testing.T) {
	tp := autodiff.NewTape()
	x := tensor.Ones(tensor.Float64, 1, 3, 3, 1)
	y := nn.AvgPool2D(tp, tp.Const(x), [2]int{2, 2}, [2]int{0, 0}, nn.Same)
	if !y.Shape().Equal(tensor.Shape{1, 2, 2, 1}) {
		t.Fatalf("got shape %s, want (1, 2, 2, 1)", y.Shape())
	}
	for i, v := range y.Value.Float64s() {
		if v != 1 {
			t.Errorf("element %d: got %g, want 1", i, v)
		}
	}
}

// TestMaxPoolIgnoresPadding checks that padding never wins the maximum:
// with all-negative inputs, a zero pad would.
func TestMaxPoolIgnoresPadding(t *testing.T) {
	tp := autodiff.NewTape()
	x := tensor.FromFloat64([]float64{-1, -2, -3, -4, -5, -6, -7, -8, -9}, 1, 3, 3, 1)
	y := nn.MaxPool2D(tp, tp.Const(x), [2]int{2, 2}, [2]int{0, 0}, nn.Same)
	want := []float64{-1, -3, -7, -9}
	for i, v := range y.Value.Float64s() {
		if v != want[i] {
			t.Errorf("element %d: got %g, want %g", i, v, want[i])
		}
	}
}

// TestShapeOpsGradient checks GlobalAvgPool2D, Reshape and Rescale.
func TestShapeOpsGradient(t *testing.T) {
	for name, f := range map[string]func(*autodiff.Tape, *autodiff.Var) *autodiff.Var{
		"GlobalAvgPool2D": nn.GlobalAvgPool2D,
		"Reshape":         func(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return nn.Reshape(tp, x, tensor.Shape{5, -1}) },
		"Flatten":         func(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return nn.Reshape(tp, x, tensor.Shape{-1}) },
		"Rescale":         func(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return nn.Rescale(tp, x, -0.7, 0.2) },
	} {
		t.Run(name, func(t *testing.T) {
			x := spatialRandn(2, 3, 5, 2)
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				return project(tp, f(tp, v[0]))
			}, 1e-6, x)
		})
	}
}

// TestReshapeShapes checks the target shapes Reshape gives and refuses.
func TestReshapeShapes(t *testing.T) {
	tp := autodiff.NewTape()
	x := tp.Const(tensor.New(tensor.Float32, 4, 784))
	for _, c := range []struct {
		tail, want tensor.Shape
	}{
		{tensor.Shape{28, 28, 1}, tensor.Shape{4, 28, 28, 1}},
		{tensor.Shape{-1, 28, 1}, tensor.Shape{4, 28, 28, 1}},
		{tensor.Shape{-1}, tensor.Shape{4, 784}},
	} {
		if got := nn.Reshape(tp, x, c.tail).Shape(); !got.Equal(c.want) {
			t.Errorf("Reshape to %s: got %s, want %s", c.tail, got, c.want)
		}
	}
	for _, tail := range []tensor.Shape{{28, 27, 1}, {-1, -1}, {-1, 5}, {-2, 392}} {
		func() {
			defer func() {
				if _, ok := recover().(*tensor.ShapeError); !ok {
					t.Errorf("Reshape to %s: want a *tensor.ShapeError panic", tail)
				}
			}()
			nn.Reshape(tp, x, tail)
		}()
	}
}
