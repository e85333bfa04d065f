//go:build amd64 && !noasm

package kernel

import "math"

// adamAsm is adamGeneric: whole vectors in assembly (adamVectors), and
// any step with a clip value, which the assembly does not do, in Go.
func adamAsm(w, g, m, v []float32, a, r, eps, c1, c2, s, cv float32) {
	if cv > 0 {
		adamGeneric(w, g, m, v, nil, a, r, eps, c1, c2, s, cv)
		return
	}
	adamVectors(hasAVX512, adamScreen, w, g, m, v, a, r, eps, c1, c2, s)
}

// adamScreen: the AVX-512 loop keeps subnormals out of float32 arithmetic
// (see adamStepAVX512) on Intel cores, where each subnormal operation
// costs a microcode assist. Elsewhere it computes them as they come, as
// before: its listing was measured only on Intel.
var adamScreen = cpuIntel()

// cpuIntel reports whether CPUID names the vendor GenuineIntel.
func cpuIntel() bool

// adamVectors is adamGeneric with cv = 0: vectors of 16 (wide, AVX-512,
// screen as adamScreen says) or 8 in assembly, the tail in adamVia64
// (which keeps subnormals out of float32 arithmetic).
func adamVectors(wide, screen bool, w, g, m, v []float32, a, r, eps, c1, c2, s float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	var tm, tv float32
	var on uint32
	if screen {
		tm, tv = adamTiny(a, c1, c2)
		on = 1
	}
	for len(w) >= 8 {
		k := len(w) &^ 7
		if n16 := len(w) &^ 15; n16 > 0 && wide {
			k = n16
			adamStepAVX512(w[:k], g, m, v, a, r, eps, c1, c2, s, tm, tv, on)
		} else {
			adamStepAVX2(w[:k], g, m, v, a, r, eps, c1, c2, s)
		}
		w, g, m, v = w[k:], g[k:], m[k:], v[k:]
	}
	adamVia64(w, g, m, v, a, r, eps, c1, c2, s)
}

// adamStepAVX2 is adamGeneric with cv = 0, 8 lanes at a time; len(w) must
// be a multiple of 8 and the other slices at least as long.
//
//go:noescape
func adamStepAVX2(w, g, m, v []float32, a, r, eps, c1, c2, s float32)

// adamStepAVX512 is adamStepAVX2 on 16 lanes; with screen 1 it computes
// the vectors that would meet a subnormal in float64 (those with a
// nonzero moment below tm or tv among them). len(w) must be a multiple
// of 16.
//
//go:noescape
func adamStepAVX512(w, g, m, v []float32, a, r, eps, c1, c2, s, tm, tv float32, screen uint32)

// adamTiny returns the magnitudes under which a nonzero m or v may make
// Adam's float32 arithmetic underflow with a zero gradient: m·c1 and a·m
// (m's next value, about m·(1-c1)) and v·c2, with a factor 4 to spare.
// They only decide which vectors skip the fast loop; the loop's flag
// check catches any underflow they miss.
func adamTiny(a, c1, c2 float32) (tm, tv float32) {
	const tiny = 0x1p-124 // 4·2⁻¹²⁶
	lim := func(c float64) float32 {
		if !(c > 0) || tiny/c > math.MaxFloat32 {
			return math.MaxFloat32
		}
		return float32(tiny / c)
	}
	cm := float64(c1)
	if f := math.Abs(float64(a)) * (1 - float64(c1)); f > 0 { // with c1 = 1, a·m's m is g
		cm = min(cm, f)
	}
	return lim(cm), lim(float64(c2))
}
