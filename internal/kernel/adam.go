package kernel

import "math"

// AdamStep applies one Adam update to w in place, updating the moments m
// and v, in the form package optimizers uses. For each i, in float32
// arithmetic in this order (no fused multiply-adds, so the assembly and this
// loop agree bit for bit):
//
//	gi   := g[i]*s
//	m[i]  = flush(m[i] + (gi−m[i])*c1)
//	v[i]  = flush(v[i] + (gi*gi−v[i])*c2)
//	w[i] -= a*m[i] / (sqrt(v[i])*r + eps)
//
// where flush sets magnitudes below 2⁻¹²⁶ to zero (subnormal arithmetic is
// many times slower). It panics unless w, g, m and v have the same length.
func AdamStep(w, g, m, v []float32, a, r, eps, c1, c2, s float32) {
	if len(g) != len(w) || len(m) != len(w) || len(v) != len(w) {
		panic("kernel: AdamStep: lengths differ")
	}
	n := adamStepImpl(w, g, m, v, a, r, eps, c1, c2, s)
	adamStepGeneric(w[n:], g[n:], m[n:], v[n:], a, r, eps, c1, c2, s)
}

// adamStepImpl updates a prefix of the slices and returns its length.
var adamStepImpl = func(w, g, m, v []float32, a, r, eps, c1, c2, s float32) int { return 0 }

const minNormal32 = 0x1p-126

func flush32(x float32) float32 {
	if x < minNormal32 && x > -minNormal32 {
		return 0
	}
	return x
}

func adamStepGeneric(w, g, m, v []float32, a, r, eps, c1, c2, s float32) {
	for i := range w {
		gi := g[i] * s
		mi := flush32(m[i] + (gi-m[i])*c1)
		vi := flush32(v[i] + (gi*gi-v[i])*c2)
		m[i], v[i] = mi, vi
		w[i] -= a * mi / (sqrt32(vi)*r + eps)
	}
}

// sqrt32 is the correctly rounded float32 square root (the float64 root
// of a float32 rounds to the same value), as VSQRTPS computes it.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
