package losses

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/myelin-go/myelin/tensor"
)

// Labels to one-hot rows live here, beside the losses that take them:
// Sparse tells a caller whether a loss wants class indices or rows, and
// these functions make the rows when it wants rows. tensor knows no
// classes, and data holds datasets, not targets.

// ToCategorical returns the one-hot rows of the class indices in labels
// (Keras's keras.utils.to_categorical): labels of shape (n,) or (n, 1)
// become an (n, classes) tensor of labels' dtype with a 1 in column
// labels[i]. classes 0 means one more than the largest label. It returns
// an error for a label that is not a whole number in [0, classes).
func ToCategorical(labels *tensor.Tensor, classes int) (*tensor.Tensor, error) {
	s := labels.Shape()
	if len(s) > 2 || len(s) == 2 && s[1] != 1 {
		return nil, fmt.Errorf("losses: ToCategorical: labels of shape %s, want (n,) or (n, 1)", s)
	}
	n := labels.Len()
	if classes == 0 {
		for i := range n {
			classes = max(classes, int(labels.Index(i))+1)
		}
	}
	if classes <= 0 {
		return nil, fmt.Errorf("losses: ToCategorical: %d classes, want at least 1", classes)
	}
	out := tensor.New(labels.DType(), n, classes)
	for i := range n {
		v := labels.Index(i)
		if v != math.Trunc(v) || v < 0 || v >= float64(classes) {
			return nil, fmt.Errorf("losses: ToCategorical: label %d is %g, want a whole number in [0, %d)", i, v, classes)
		}
		out.SetIndex(i*classes+int(v), 1)
	}
	return out, nil
}

// OneHot returns the one-hot rows of labels of any ordered type (strings,
// integers that need not start at 0 or be contiguous), as a float64
// tensor of shape (len(labels), len(classes)), and the classes: the
// distinct labels in increasing order, so that column j stands for
// classes[j] (scikit-learn's LabelBinarizer order). Convert the result
// with As for a float32 model.
func OneHot[L cmp.Ordered](labels []L) (*tensor.Tensor, []L) {
	classes := slices.Clone(labels)
	slices.Sort(classes)
	classes = slices.Compact(classes)
	out := tensor.New(tensor.Float64, len(labels), len(classes))
	for i, l := range labels {
		j, _ := slices.BinarySearch(classes, l)
		out.SetIndex(i*len(classes)+j, 1)
	}
	return out, classes
}
