package kernel

import "math"

// The norm reductions keep their float64 partial sums in lanes: element i
// always goes to lane i mod the number of lanes, each lane is one fused
// multiply-add chain, and the lanes are added in a fixed tree at the end.
// The assembly versions hold the lanes in registers; the references hold
// them in arrays and use math.FMA, so both give the same bits.

const (
	sumSqLanes  = 16 // lanes of SumSq
	updateLanes = 8  // lanes of each of UpdateSums' three sums
)

// SumSq returns the sum of squares of x, with each square and sum in
// float64. The order of summation depends only on len(x).
func SumSq(x []float32) float64 {
	return impl.sumSq(x)
}

// UpdateSums returns, in one pass, the sums of squares of w, of w − prev
// and of prev over len(w) elements, in float64 (the difference is taken
// in float64 too). It panics if len(prev) < len(w). The order of
// summation depends only on len(w).
func UpdateSums(w, prev []float32) (w2, d2, p2 float64) {
	if len(prev) < len(w) {
		panic("kernel: UpdateSums: len(prev) < len(w)")
	}
	return impl.updateSums(w, prev[:len(w)])
}

// sumSqGeneric is the reference SumSq:
//
//	var acc [sumSqLanes]float64
//	for i, v := range x {
//		acc[i%sumSqLanes] = math.FMA(float64(v), float64(v), acc[i%sumSqLanes])
//	}
//	return tree(acc[:])
func sumSqGeneric(x []float32) float64 {
	var acc [sumSqLanes]float64
	sumSqFrom(&acc, x)
	return tree(acc[:])
}

// sumSqFrom adds x's squares into acc, element i into lane i mod
// sumSqLanes: for a vector version's tail, x starts at a multiple of it.
func sumSqFrom(acc *[sumSqLanes]float64, x []float32) {
	for i, v := range x {
		a := float64(v)
		acc[i%sumSqLanes] = math.FMA(a, a, acc[i%sumSqLanes])
	}
}

// updateSumsGeneric is the reference UpdateSums (len(prev) == len(w)):
//
//	var acc [3 * updateLanes]float64 // w's lanes, then w − prev's, then prev's
//	for i := range w {
//		a, c := float64(w[i]), float64(prev[i])
//		d, j := a-c, i%updateLanes
//		acc[j] = math.FMA(a, a, acc[j])
//		acc[updateLanes+j] = math.FMA(d, d, acc[updateLanes+j])
//		acc[2*updateLanes+j] = math.FMA(c, c, acc[2*updateLanes+j])
//	}
//	return tree(acc[:updateLanes]), tree(acc[updateLanes:2*updateLanes]), tree(acc[2*updateLanes:])
func updateSumsGeneric(w, prev []float32) (w2, d2, p2 float64) {
	var acc [3 * updateLanes]float64
	updateSumsFrom(&acc, w, prev)
	return updateTrees(&acc)
}

// updateSumsFrom adds w and prev into acc, element i into lane i mod
// updateLanes: for a vector version's tail, w starts at a multiple of it.
func updateSumsFrom(acc *[3 * updateLanes]float64, w, prev []float32) {
	prev = prev[:len(w)]
	for i := range w {
		a, c := float64(w[i]), float64(prev[i])
		d, j := a-c, i%updateLanes
		acc[j] = math.FMA(a, a, acc[j])
		acc[updateLanes+j] = math.FMA(d, d, acc[updateLanes+j])
		acc[2*updateLanes+j] = math.FMA(c, c, acc[2*updateLanes+j])
	}
}

func updateTrees(acc *[3 * updateLanes]float64) (w2, d2, p2 float64) {
	return tree(acc[:updateLanes]), tree(acc[updateLanes : 2*updateLanes]), tree(acc[2*updateLanes:])
}

// tree adds a power-of-two number of lanes pairwise.
func tree(s []float64) float64 {
	for len(s) > 1 {
		h := len(s) / 2
		for i := range h {
			s[i] += s[i+h]
		}
		s = s[:h]
	}
	return s[0]
}
