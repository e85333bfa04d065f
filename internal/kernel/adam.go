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

// adamVia64 is adamGeneric with cv = 0 and no vh, each float32 operation
// done in float64 and rounded to float32 at once. That gives the same bits:
// float64 holds a product of two float32s exactly, and has more than
// twice their precision, so a sum, quotient or root rounded to float64
// and then to float32 is rounded as float32 arithmetic rounds it (and a
// sum in float32's subnormal range is exact). But no subnormal float32
// enters or leaves an arithmetic instruction, where each costs Intel
// cores a microcode assist of a hundred cycles or more. On Intel cores
// the AVX-512 loop redoes the vectors that would meet one the same way,
// in assembly; this is its Go form, which takes the tail after the
// vectors.
func adamVia64(w, g, m, v []float32, a, r, eps, c1, c2, s float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	A, R, E, C1, C2, S := float64(a), float64(r), float64(eps), float64(c1), float64(c2), float64(s)
	// r32 rounds to float32 once; the conversion also keeps the compiler
	// from fusing a product into a sum.
	r32 := func(x float64) float64 { return float64(float32(x)) }
	for i := range w {
		gi := r32(float64(g[i]) * S)
		mi := float64(m[i])
		mi = flush64(r32(mi + r32(r32(gi-mi)*C1)))
		vi := float64(v[i])
		vi = flush64(r32(vi + r32(r32(r32(gi*gi)-vi)*C2)))
		m[i], v[i] = float32(mi), float32(vi)
		den := r32(r32(r32(math.Sqrt(vi))*R) + E)
		w[i] = float32(float64(w[i]) - r32(r32(A*mi)/den))
	}
}

// flush64 is flush for a float32 held in a float64, compared there so
// that a subnormal never meets a float32 instruction.
func flush64(x float64) float64 {
	if x < 0x1p-126 && x > -0x1p-126 {
		return 0
	}
	return x
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
