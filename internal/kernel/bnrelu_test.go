package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestBNReLULoops checks the fused batch-norm-and-ReLU loops of the backend
// in use against their references bit for bit, and the references against
// the separate loops they fuse (NormalizeRows then ReluTo; ReluGradAddTo
// into a cleared buffer then BNBackwardSums and BNBackwardInput), with
// zeros of both signs, NaNs and infinities among the gradients.
func TestBNReLULoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []int{1, 7, 8, 9, 16, 17, 32, 64, 65} {
		for _, rows := range []int{1, 3, 32} {
			n := rows * c
			x, _ := guarded(n, 1, rng, false)
			dy, _ := guarded(n, 2, rng, true)
			mean, _ := guarded(c, 1, rng, false)
			invstd, _ := guarded(c, 2, rng, false)
			gamma, _ := guarded(c, 3, rng, false)
			beta, _ := guarded(c, 0, rng, false)
			k, _ := guarded(c, 1, rng, false)
			for _, affine := range []bool{true, false} {
				g, b := gamma, beta
				if !affine {
					g, b = nil, nil
				}
				name := fmt.Sprintf("c=%d rows=%d affine=%v", c, rows, affine)

				y1, yb := guarded(n, 1, rng, false)
				h1, hb := guarded(n, 2, rng, false)
				y2, h2 := make([]float32, n), make([]float32, n)
				y3, h3 := make([]float32, n), make([]float32, n)
				NormalizeRowsReLU(y1, h1, x, mean, invstd, g, b, c)
				normRowsReLUGeneric(y2, h2, x, mean, invstd, g, b, c)
				normRowsGeneric(y3, h3, x, mean, invstd, g, b, c)
				z := append([]float32(nil), y3...) // ReLU's input
				reluGeneric(y3, y3)
				sameOrNaN32(t, name+" NormalizeRowsReLU y", y1, y2)
				sameOrNaN32(t, name+" NormalizeRowsReLU xhat", h1, h2)
				sameOrNaN32(t, name+" reference y against NormalizeRows+ReluTo", y2, y3)
				sameOrNaN32(t, name+" reference xhat against NormalizeRows", h2, h3)
				checkGuards(t, "NormalizeRowsReLU y", n, 1, yb)
				checkGuards(t, "NormalizeRowsReLU xhat", n, 2, hb)

				// The separate ops: dz in a cleared buffer, then the plain loops.
				dz := make([]float32, n)
				reluGradAddGeneric(dz, dy, z)
				sdy1, sdyx1 := append([]float32(nil), k...), append([]float32(nil), mean...)
				sdy2, sdyx2 := append([]float32(nil), k...), append([]float32(nil), mean...)
				sdy3, sdyx3 := append([]float32(nil), k...), append([]float32(nil), mean...)
				BNBackwardSumsReLU(sdy1, sdyx1, dy, h2, g, b, c)
				bnBwdSumsReLUFrom(sdy2, sdyx2, dy, h2, g, b, c, 0)
				bnBwdSumsGeneric(sdy3, sdyx3, dz, h2, c)
				sameOrNaN32(t, name+" BNBackwardSumsReLU sdy", sdy1, sdy2)
				sameOrNaN32(t, name+" BNBackwardSumsReLU sdyx", sdyx1, sdyx2)
				sameOrNaN32(t, name+" reference sdy against ReluGradAddTo+BNBackwardSums", sdy2, sdy3)
				sameOrNaN32(t, name+" reference sdyx against ReluGradAddTo+BNBackwardSums", sdyx2, sdyx3)

				for _, add := range []bool{true, false} {
					what := fmt.Sprintf("%s add=%v BNBackwardInputReLU", name, add)
					dx1, dxb := guarded(n, 3, rng, false)
					dx2 := append([]float32(nil), dx1...)
					dx3 := append([]float32(nil), dx1...)
					if !add {
						dx1[0] = float32(math.NaN()) // set, so nothing of dx may show
						clear(dx3)
					}
					BNBackwardInputReLU(dx1, dy, h2, k, sdy2, sdyx2, g, b, c, add)
					bnBwdInputReLUFrom(dx2, dy, h2, k, sdy2, sdyx2, g, b, c, 0, add)
					bnBwdInputGeneric(dx3, dz, h2, k, sdy2, sdyx2, c)
					sameOrNaN32(t, what, dx1, dx2)
					sameOrNaN32(t, what+" reference against ReluGradAddTo+BNBackwardInput", dx2, dx3)
					checkGuards(t, what, n, 3, dxb)
				}
			}
		}
	}
}

// TestBNReLULoopsFloat64 checks the float64 loops against the separate
// ones on a small case worked by hand.
func TestBNReLULoopsFloat64(t *testing.T) {
	x := []float64{1, -2, 3, 4} // 2×2
	mean, invstd := []float64{2, 1}, []float64{1, 0.5}
	y, h := make([]float64, 4), make([]float64, 4)
	NormalizeRowsReLU(y, h, x, mean, invstd, nil, nil, 2)
	// x̂ = [-1 -1.5; 1 1.5]
	if want := []float64{0, 0, 1, 1.5}; fmt.Sprint(y) != fmt.Sprint(want) {
		t.Errorf("NormalizeRowsReLU: y = %v, want %v", y, want)
	}
	sdy, sdyx := make([]float64, 2), make([]float64, 2)
	BNBackwardSumsReLU(sdy, sdyx, []float64{5, 6, 7, 8}, h, nil, nil, 2)
	if fmt.Sprint(sdy) != "[7 8]" || fmt.Sprint(sdyx) != "[7 12]" {
		t.Errorf("BNBackwardSumsReLU: sdy %v sdyx %v, want [7 8] [7 12]", sdy, sdyx)
	}
}

// sameOrNaN32 is same32 with any NaN equal to any NaN: which NaN an add
// of two NaNs gives depends on the operands' order, which Go leaves to
// the compiler.
func sameOrNaN32(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		g, w := got[i], want[i]
		if !sameBits(g, w) && !(g != g && w != w) {
			t.Fatalf("%s: [%d] got %v, want %v as the reference computes it", what, i, g, w)
		}
	}
}
