package kernel

import (
	"math"
	"unsafe"
)

// AdamStep applies one Adam update to w in place, updating the moments m
// and v, in the form package optimizers uses: see adamGeneric for the loop
// and its order of operations, which every backend keeps bit for bit. vh,
// when not nil, is AMSGrad's running maximum of v, used in the root in
// place of v. It panics unless the slices have the same length.
func AdamStep(w, g, m, v, vh []float32, a, r, eps, c1, c2, s, cv float32) {
	checkAdam(len(w), len(g), len(m), len(v), vh)
	if vh != nil {
		adamGeneric(w, g, m, v, vh, a, r, eps, c1, c2, s, cv)
		return
	}
	impl.adam(w, g, m, v, a, r, eps, c1, c2, s, cv)
}

// AdamStep64 is AdamStep for float64. It is plain Go and exists for
// float64 training and gradient checks, not for speed.
func AdamStep64(w, g, m, v, vh []float64, a, r, eps, c1, c2, s, cv float64) {
	checkAdam(len(w), len(g), len(m), len(v), vh)
	adamGeneric(w, g, m, v, vh, a, r, eps, c1, c2, s, cv)
}

func checkAdam[T Float](w, g, m, v int, vh []T) {
	if g != w || m != w || v != w || (vh != nil && len(vh) != w) {
		panic("kernel: AdamStep: lengths differ")
	}
}

// adamPlain is adamGeneric without AMSGrad, the backend's signature.
func adamPlain(w, g, m, v []float32, a, r, eps, c1, c2, s, cv float32) {
	adamGeneric(w, g, m, v, nil, a, r, eps, c1, c2, s, cv)
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
//	if vh != nil {
//		vh[i] = max(vh[i], v[i])  // AMSGrad: the root takes vh[i]
//	}
//	w[i] -= a*m[i] / (sqrt(v[i])*r + eps)
//
// s is the gradient's scale from norm clipping (1 without), cv the clip
// value (0 for none), c1 = 1−β1, c2 = 1−β2; a, r and eps give both
// Keras's and PyTorch's forms (see optimizers.Adam). flush sets
// magnitudes below T's smallest normal number (2⁻¹²⁶ in float32, 2⁻¹⁰²²
// in float64) to zero: a moment that decays without gradient would
// otherwise reach the subnormal range, where arithmetic is many times
// slower. sqrt is correctly rounded.
func adamGeneric[T Float](w, g, m, v, vh []T, a, r, eps, c1, c2, s, cv T) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i := range w {
		gi := g[i] * s
		if cv > 0 {
			gi = min(max(gi, -cv), cv)
		}
		mi := flush(m[i] + (gi-m[i])*c1)
		vi := flush(v[i] + (gi*gi-v[i])*c2)
		m[i], v[i] = mi, vi
		if vh != nil {
			vi = max(vh[i], vi)
			vh[i] = vi
		}
		w[i] -= a * mi / (sqrt(vi)*r + eps)
	}
}

// flush returns 0 for magnitudes below T's smallest normal number, as
// VANDPS with the comparison mask does in the assembly (float32 only).
func flush[T Float](x T) T {
	tiny := T(0x1p-126)
	if unsafe.Sizeof(x) == 8 {
		tiny = T(0x1p-1022) // a constant per instantiation
	}
	if x < tiny && x > -tiny {
		return 0
	}
	return x
}

// sqrt is the correctly rounded square root in T (the float64 root of a
// float32 rounds to the same value), as VSQRTPS computes it.
func sqrt[T Float](x T) T { return T(math.Sqrt(float64(x))) }
