package kernel

import "math"

// The norm reductions keep their float64 partial sums in lanes: element i
// of a block always goes to lane i mod the block size, each lane is one
// fused multiply-add chain, and the lanes are added in a fixed tree at the
// end. The assembly versions hold the lanes in registers; the Go versions
// hold them in arrays and use math.FMA, so both give the same bits.

const (
	sumSqBlock  = 16 // lanes of SumSq
	updateBlock = 8  // lanes of each of UpdateSums' three sums
)

var (
	sumSqBlocks  = sumSqBlocksGeneric
	updateBlocks = updateBlocksGeneric
)

// SumSq returns the sum of squares of x, with each square and sum in
// float64. The order of summation depends only on len(x).
func SumSq(x []float32) float64 {
	var acc [sumSqBlock]float64
	n := len(x) &^ (sumSqBlock - 1)
	if n > 0 {
		sumSqBlocks(x[:n], &acc)
	}
	for j, v := range x[n:] {
		a := float64(v)
		acc[j] = math.FMA(a, a, acc[j])
	}
	return tree(acc[:])
}

// UpdateSums returns, in one pass, the sums of squares of w, of w − prev
// and of prev over len(w) elements, in float64 (the difference is taken
// in float64 too). It panics if len(prev) < len(w). The order of
// summation depends only on len(w).
func UpdateSums(w, prev []float32) (w2, d2, p2 float64) {
	if len(prev) < len(w) {
		panic("kernel: UpdateSums: len(prev) < len(w)")
	}
	var acc [3 * updateBlock]float64
	n := len(w) &^ (updateBlock - 1)
	if n > 0 {
		updateBlocks(w[:n], prev[:n], &acc)
	}
	for j := range w[n:] {
		updateLane(&acc, j, w[n+j], prev[n+j])
	}
	return tree(acc[:updateBlock]), tree(acc[updateBlock : 2*updateBlock]), tree(acc[2*updateBlock:])
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

func updateLane(acc *[3 * updateBlock]float64, j int, wv, pv float32) {
	a, c := float64(wv), float64(pv)
	d := a - c
	acc[j] = math.FMA(a, a, acc[j])
	acc[updateBlock+j] = math.FMA(d, d, acc[updateBlock+j])
	acc[2*updateBlock+j] = math.FMA(c, c, acc[2*updateBlock+j])
}

// sumSqBlocksGeneric accumulates x (its length a multiple of sumSqBlock)
// into acc.
func sumSqBlocksGeneric(x []float32, acc *[sumSqBlock]float64) {
	for i := 0; i < len(x); i += sumSqBlock {
		for j, v := range x[i : i+sumSqBlock] {
			a := float64(v)
			acc[j] = math.FMA(a, a, acc[j])
		}
	}
}

// updateBlocksGeneric accumulates w and prev (of one length, a multiple
// of updateBlock) into acc: w's lanes, then w − prev's, then prev's.
func updateBlocksGeneric(w, prev []float32, acc *[3 * updateBlock]float64) {
	prev = prev[:len(w)]
	for i := 0; i < len(w); i += updateBlock {
		for j := range updateBlock {
			updateLane(acc, j, w[i+j], prev[i+j])
		}
	}
}
