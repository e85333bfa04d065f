//go:build amd64 && !noasm

package kernel

// The elementwise loops of elem_amd64.s; the first slice of x, a or dst
// sets the count (see each reference), the exported functions have
// checked the others.

// sumAVX2 is sumGeneric in 32 lanes (see elem_amd64.s for the order).
//
//go:noescape
func sumAVX2(x []float32) float32

// addAVX2 is addGeneric.
//
//go:noescape
func addAVX2(dst, a, b []float32)

// reluAVX2 is reluGeneric.
//
//go:noescape
func reluAVX2(dst, x []float32)

// reluGradAVX2 is reluGradGeneric.
//
//go:noescape
func reluGradAVX2(dst, dy, y []float32)

// reluGradAddAVX2 is reluGradAddGeneric.
//
//go:noescape
func reluGradAddAVX2(dst, dy, x []float32)

// addRowsAsm is addRowsGeneric. A row of whole vectors up to 64 columns
// (the CNN's 32 and 64 filters) stays in registers for the whole matrix;
// other rows go one call of addAVX2 each, or the plain loop when they are
// too short to pay for a call.
func addRowsAsm(dst, a, row []float32, cols int) {
	switch {
	case cols > 0 && cols%8 == 0 && cols <= 64:
		addRowsAVX2(dst[:len(a)], a, row[:cols], len(a)/cols)
	case cols < 16:
		addRowsGeneric(dst, a, row, cols)
	default:
		for i := 0; i < len(a); i += cols {
			addAVX2(dst[i:i+cols], a[i:i+cols], row)
		}
	}
}

// addRowsAVX2 adds row to each of the rows rows of a into dst; len(row)
// is a multiple of 8 from 8 to 64 and a and dst hold rows·len(row) values.
//
//go:noescape
func addRowsAVX2(dst, a, row []float32, rows int)
