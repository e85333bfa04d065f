package kernel

import "fmt"

// Sum returns the sum of x. The order of summation depends only on len(x)
// (and the backend), never on the number of threads.
func Sum(x []float32) float32 {
	return impl.sum(x)
}

// AddTo sets dst[i] = a[i] + b[i]. It panics unless the three lengths
// are equal. Each element is one rounding, so vector and plain Go agree
// bit for bit.
func AddTo(dst, a, b []float32) {
	if len(dst) != len(a) || len(dst) != len(b) {
		panic(fmt.Sprintf("kernel: AddTo: len(dst)=%d len(a)=%d len(b)=%d", len(dst), len(a), len(b)))
	}
	impl.add(dst, a, b)
}

// AllFinite reports whether x holds no NaN and no infinity.
func AllFinite(x []float32) bool {
	// Fast path: a NaN or an infinity makes the vector sum non-finite.
	// A non-finite sum of finite values (an overflow) falls through to
	// the exact loop.
	if s := impl.sum(x); s-s == 0 {
		return true
	}
	for _, v := range x {
		if v-v != 0 {
			return false
		}
	}
	return true
}

// AddRowTo sets dst[i,j] = a[i,j] + row[j] for row-major dst and a with
// cols columns and no padding (a bias add). dst may be a itself; row must
// not share memory with dst. It panics unless len(row) == cols, len(dst)
// == len(a) and cols divides len(a).
func AddRowTo(dst, a, row []float32, cols int) {
	if len(row) != cols || len(dst) != len(a) || (cols == 0 && len(a) != 0) || (cols != 0 && len(a)%cols != 0) {
		panic(fmt.Sprintf("kernel: AddRowTo: len(dst)=%d len(a)=%d len(row)=%d cols=%d", len(dst), len(a), len(row), cols))
	}
	if len(a) > 0 {
		impl.addRows(dst, a, row, cols)
	}
}

// ReluTo sets dst[i] = 0 where x[i] < 0 and x[i] otherwise, so NaN and -0
// pass through unchanged. It panics if len(dst) != len(x).
func ReluTo(dst, x []float32) {
	if len(dst) != len(x) {
		panic("kernel: ReluTo: len(dst) != len(x)")
	}
	impl.relu(dst, x)
}

// ReluGradTo sets dst[i] = dy[i] where y[i] > 0 and 0 otherwise (also for
// NaN y). It panics unless the three lengths are equal.
func ReluGradTo(dst, dy, y []float32) {
	if len(dst) != len(dy) || len(dst) != len(y) {
		panic("kernel: ReluGradTo: lengths differ")
	}
	impl.reluGrad(dst, dy, y)
}

// ReluGradAddTo adds dy[i] to dst[i] where x[i] > 0 (ReLU's backward
// pass into a gradient that may already hold other terms), leaving the
// other elements as they are. It panics unless the three lengths are
// equal.
func ReluGradAddTo(dst, dy, x []float32) {
	if len(dst) != len(dy) || len(dst) != len(x) {
		panic("kernel: ReluGradAddTo: lengths differ")
	}
	impl.reluGradAdd(dst, dy, x)
}

// sumGeneric is the reference Sum:
//
//	var s float32
//	for _, v := range x {
//		s += v
//	}
//
// Vector versions sum in lanes and may round differently.
func sumGeneric(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += v
	}
	return s
}

// addGeneric sets dst = a + b over len(a) elements, the others at least
// as long:
//
//	for i, v := range a {
//		dst[i] = v + b[i]
//	}
func addGeneric(dst, a, b []float32) {
	dst = dst[:len(a)]
	b = b[:len(a)]
	for i, v := range a {
		dst[i] = v + b[i]
	}
}

// addRowsGeneric is the reference AddRowTo, for cols > 0:
//
//	for i := 0; i < len(a); i += cols {
//		for j := 0; j < cols; j++ {
//			dst[i+j] = a[i+j] + row[j]
//		}
//	}
func addRowsGeneric(dst, a, row []float32, cols int) {
	for i := 0; i < len(a); i += cols {
		d, x := dst[i:i+cols], a[i:i+cols]
		for j, v := range row {
			d[j] = x[j] + v
		}
	}
}

// reluGeneric is the reference ReluTo:
//
//	for i, v := range x {
//		if v < 0 {
//			v = 0
//		}
//		dst[i] = v
//	}
func reluGeneric(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		if v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

// reluGradGeneric is the reference ReluGradTo:
//
//	for i := range dst {
//		if y[i] > 0 {
//			dst[i] = dy[i]
//		} else {
//			dst[i] = 0
//		}
//	}
func reluGradGeneric(dst, dy, y []float32) {
	dy = dy[:len(dst)]
	y = y[:len(dst)]
	for i := range dst {
		if y[i] > 0 {
			dst[i] = dy[i]
		} else {
			dst[i] = 0
		}
	}
}

// reluGradAddGeneric is the reference ReluGradAddTo:
//
//	for i, g := range dy {
//		if x[i] > 0 {
//			dst[i] += g
//		}
//	}
func reluGradAddGeneric(dst, dy, x []float32) {
	dy = dy[:len(dst)]
	x = x[:len(dst)]
	for i, g := range dy {
		if x[i] > 0 {
			dst[i] += g
		}
	}
}
