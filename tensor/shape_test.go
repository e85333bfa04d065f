package tensor_test

import (
	"testing"

	"github.com/myelin-go/myelin/tensor"
)

func TestEqualUpToTrailingOne(t *testing.T) {
	for _, c := range []struct {
		a, b tensor.Shape
		want bool
	}{
		{tensor.Shape{4}, tensor.Shape{4}, true},
		{tensor.Shape{4, 1}, tensor.Shape{4}, true},
		{tensor.Shape{4}, tensor.Shape{4, 1}, true},
		{tensor.Shape{}, tensor.Shape{1}, true},
		{tensor.Shape{4, 2}, tensor.Shape{4}, false},
		{tensor.Shape{4}, tensor.Shape{4, 2}, false},
		{tensor.Shape{4, 1, 1}, tensor.Shape{4}, false}, // only one axis is dropped
		{tensor.Shape{1, 4}, tensor.Shape{4}, false},    // only a trailing one
		{tensor.Shape{3}, tensor.Shape{4, 1}, false},
		{tensor.Shape{4, 1}, tensor.Shape{4, 1}, true},
	} {
		if got := c.a.EqualUpToTrailingOne(c.b); got != c.want {
			t.Errorf("%v.EqualUpToTrailingOne(%v): got %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
