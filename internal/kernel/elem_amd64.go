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
