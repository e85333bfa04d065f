//go:build amd64 && !noasm

package kernel

// sumSqAsm is sumSqGeneric: whole blocks of sumSqLanes in assembly, the
// tail in Go into the same lanes.
func sumSqAsm(x []float32) float64 {
	var acc [sumSqLanes]float64
	n := len(x) &^ (sumSqLanes - 1)
	if n > 0 {
		sumSqAVX2(x[:n], &acc)
	}
	sumSqFrom(&acc, x[n:])
	return tree(acc[:])
}

// updateSumsAsm is updateSumsGeneric, split as sumSqAsm is.
func updateSumsAsm(w, prev []float32) (w2, d2, p2 float64) {
	var acc [3 * updateLanes]float64
	n := len(w) &^ (updateLanes - 1)
	if n > 0 {
		updateSumsAVX2(w[:n], prev[:n], &acc)
	}
	updateSumsFrom(&acc, w[n:], prev[n:])
	return updateTrees(&acc)
}

// sumSqAVX2 accumulates x, its length a multiple of sumSqLanes, into acc
// (lanes 4q..4q+3 in Yq).
//
//go:noescape
func sumSqAVX2(x []float32, acc *[sumSqLanes]float64)

// updateSumsAVX2 accumulates w and prev, of one length, a multiple of
// updateLanes, into acc as updateSumsFrom does.
//
//go:noescape
func updateSumsAVX2(w, prev []float32, acc *[3 * updateLanes]float64)
