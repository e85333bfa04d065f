package kernel

import "math"

// AdamStep applies one Adam update to w in place, updating the moments m
// and v, in the form package optimizers uses: see adamGeneric for the loop
// and its order of operations, which every backend keeps bit for bit. It
// panics unless w, g, m and v have the same length.
func AdamStep(w, g, m, v []float32, a, r, eps, c1, c2, s, cv float32) {
	checkAdam(len(w), len(g), len(m), len(v))
	impl.adam(w, g, m, v, a, r, eps, c1, c2, s, cv)
}

// AdamStep64 is AdamStep for float64. It is plain Go and exists for
// float64 training and gradient checks, not for speed.
func AdamStep64(w, g, m, v []float64, a, r, eps, c1, c2, s, cv float64) {
	checkAdam(len(w), len(g), len(m), len(v))
	adamGeneric(w, g, m, v, a, r, eps, c1, c2, s, cv)
}

func checkAdam(w, g, m, v int) {
	if g != w || m != w || v != w {
		panic("kernel: AdamStep: lengths differ")
	}
}

// adamGeneric is the reference AdamStep. For each i, in T arithmetic in
// this order (no fused multiply-adds, so the assembly and this loop agree
// bit for bit):
//
//	gi := g[i]*s
//	if cv > 0 {
//		gi = min(max(gi, -cv), cv)
//	}
//	m[i] = flush(m[i] + (gi−m[i])*c1)
//	v[i] = flush(v[i] + (gi*gi−v[i])*c2)
//	w[i] -= a*m[i] / (sqrt(v[i])*r + eps)
//
// s is the gradient's scale from norm clipping (1 without), cv the clip
// value (0 for none), c1 = 1−β1, c2 = 1−β2; a, r and eps give both
// Keras's and PyTorch's forms (see optimizers.Adam). flush sets
// magnitudes below 2⁻¹²⁶, the smallest normal float32, to zero in both
// float32 and float64: a moment that decays without gradient would
// otherwise reach the subnormal range, where arithmetic is many times
// slower. sqrt is correctly rounded.
func adamGeneric[T Float](w, g, m, v []T, a, r, eps, c1, c2, s, cv T) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i := range w {
		gi := g[i] * s
		if cv > 0 {
			gi = min(max(gi, -cv), cv)
		}
		mi := flush(m[i] + (gi-m[i])*c1)
		vi := flush(v[i] + (gi*gi-v[i])*c2)
		m[i], v[i] = mi, vi
		w[i] -= a * mi / (sqrt(vi)*r + eps)
	}
}

// minNormal32 is the smallest normal float32, 2⁻¹²⁶.
const minNormal32 = 0x1p-126

// flush returns 0 for magnitudes below minNormal32, as VANDPS with the
// comparison mask does in the assembly.
func flush[T Float](x T) T {
	if x < minNormal32 && x > -minNormal32 {
		return 0
	}
	return x
}

// sqrt is the correctly rounded square root in T (the float64 root of a
// float32 rounds to the same value), as VSQRTPS computes it.
func sqrt[T Float](x T) T { return T(math.Sqrt(float64(x))) }
