package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdamStepMatchesGeneric checks the assembly against the Go loop bit
// for bit, at lengths around the vector width, with subnormal-range moments.
func TestAdamStepMatchesGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 67; n++ {
		mk := func(scale float64) []float32 {
			x := make([]float32, n+2) // +2: guard band
			for i := range x {
				x[i] = float32(rng.NormFloat64() * scale)
			}
			return x
		}
		w, g, m, v := mk(1), mk(1e-2), mk(1e-3), mk(1e-6)
		for i := 0; i < n; i += 3 {
			m[i] = 3e-38 // decays into the subnormal range
			g[i] = 0
		}
		for i := range v {
			v[i] = float32(math.Abs(float64(v[i])))
		}
		w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
		AdamStep(w[:n], g[:n], m[:n], v[:n], 1e-3, 1, 1e-7, 0.1, 0.001, 1)
		adamStepGeneric(w2[:n], g[:n], m2[:n], v2[:n], 1e-3, 1, 1e-7, 0.1, 0.001, 1)
		for i := range w {
			if math.Float32bits(w[i]) != math.Float32bits(w2[i]) || m[i] != m2[i] || v[i] != v2[i] {
				t.Fatalf("n=%d i=%d: got w,m,v = %g,%g,%g, want %g,%g,%g", n, i, w[i], m[i], v[i], w2[i], m2[i], v2[i])
			}
			if i < n && m[i] != 0 && math.Abs(float64(m[i])) < minNormal32 {
				t.Fatalf("n=%d i=%d: m = %g is subnormal", n, i, m[i])
			}
		}
	}
}

func BenchmarkAdamStep(b *testing.B) {
	n := 55306 // the founding model's trainable parameters
	w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		g[i] = float32(i%7) * 1e-3
	}
	b.Run("asm", func(b *testing.B) {
		b.SetBytes(int64(n * 16))
		for b.Loop() {
			AdamStep(w, g, m, v, 1e-3, 1, 1e-7, 0.1, 0.001, 1)
		}
	})
	b.Run("go", func(b *testing.B) {
		b.SetBytes(int64(n * 16))
		for b.Loop() {
			adamStepGeneric(w, g, m, v, 1e-3, 1, 1e-7, 0.1, 0.001, 1)
		}
	})
}
