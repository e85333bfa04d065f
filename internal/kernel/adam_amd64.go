//go:build amd64 && !noasm

package kernel

// adamAsm is adamGeneric: whole vectors of 16 (AVX-512) or 8 in
// assembly, the tail and
// any step with a clip value (which the assembly does not do) in Go.
func adamAsm(w, g, m, v []float32, a, r, eps, c1, c2, s, cv float32) {
	n := 0
	if cv <= 0 {
		n = len(w) &^ 7
	}
	if n16 := n &^ 15; n16 > 0 && hasAVX512 {
		adamStepAVX512(w[:n16], g, m, v, a, r, eps, c1, c2, s)
		w, g, m, v, n = w[n16:], g[n16:], m[n16:], v[n16:], n-n16
	}
	if n > 0 {
		adamStepAVX2(w[:n], g, m, v, a, r, eps, c1, c2, s)
	}
	adamGeneric(w[n:], g[n:], m[n:], v[n:], nil, a, r, eps, c1, c2, s, cv)
}

// adamStepAVX2 is adamGeneric with cv = 0, 8 lanes at a time; len(w) must
// be a multiple of 8 and the other slices at least as long.
//
//go:noescape
func adamStepAVX2(w, g, m, v []float32, a, r, eps, c1, c2, s float32)

// adamStepAVX512 is adamStepAVX2 on 16 lanes; len(w) must be a multiple
// of 16.
//
//go:noescape
func adamStepAVX512(w, g, m, v []float32, a, r, eps, c1, c2, s float32)
