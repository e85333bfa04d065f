package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdamStepMatchesGeneric checks the backend in use against the
// reference bit for bit, at lengths around the vector width, with
// subnormal-range moments, with and without a clip value, and that it
// writes nothing past the slices.
func TestAdamStepMatchesGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, cv := range []float32{0, 5e-3} {
		for n := 0; n <= 67; n++ {
			mk := func(scale float64) []float32 {
				x := make([]float32, n+guard)
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
			AdamStep(w[:n], g[:n], m[:n], v[:n], nil, 1e-3, 1, 1e-7, 0.1, 0.001, 0.5, cv)
			adamGeneric(w2[:n], g[:n], m2[:n], v2[:n], nil, 1e-3, 1, 1e-7, 0.1, 0.001, 0.5, cv)
			for i := range w { // the guard band past n must match too: untouched
				if !sameBits(w[i], w2[i]) || !sameBits(m[i], m2[i]) || !sameBits(v[i], v2[i]) {
					t.Fatalf("cv=%g n=%d i=%d: got w,m,v = %g,%g,%g, want %g,%g,%g", cv, n, i, w[i], m[i], v[i], w2[i], m2[i], v2[i])
				}
				if i < n && m[i] != 0 && math.Abs(float64(m[i])) < 0x1p-126 {
					t.Fatalf("cv=%g n=%d i=%d: m = %g is subnormal", cv, n, i, m[i])
				}
			}
		}
	}
}

// TestAdamStepByHand checks one step worked out by hand: from m = v = 0
// the first Keras-form step moves w by lr·sign(g), and a clip value
// bounds the gradient the moments see.
func TestAdamStepByHand(t *testing.T) {
	const lr, b1, b2 = 0.1, 0.9, 0.999
	a := float32(lr * math.Sqrt(1-b2) / (1 - b1)) // lr_t at t = 1
	w, m, v := []float32{1}, []float32{0}, []float32{0}
	AdamStep(w, []float32{0.5}, m, v, nil, a, 1, 0, 1-b1, 1-b2, 1, 0)
	if got, want := w[0], float32(0.9); math.Abs(float64(got-want)) > 1e-6 {
		t.Errorf("first step from 1 with g=0.5, lr=0.1: got w=%v, want %v", got, want)
	}
	w64, m64, v64 := []float64{1}, []float64{0}, []float64{0}
	AdamStep64(w64, []float64{4}, m64, v64, nil, 1, 1, 0, 0.5, 0.5, 1, 2)
	if m64[0] != 1 || v64[0] != 2 { // g clipped to 2: m = 2·0.5, v = 4·0.5
		t.Errorf("float64 step with g=4 clipped to 2: got m=%v v=%v, want 1 and 2", m64[0], v64[0])
	}
}

func TestAdamStepPanics(t *testing.T) {
	s2, s3 := make([]float32, 2), make([]float32, 3)
	defer func() {
		if recover() == nil {
			t.Error("AdamStep with a short v: got no panic, want one")
		}
	}()
	AdamStep(s2, s2, s2, s3[:1], nil, 1, 1, 1, 1, 1, 1, 0)
}

func BenchmarkAdamStep(b *testing.B) {
	n := 55306 // the founding model's trainable parameters
	w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		g[i] = float32(i%7) * 1e-3
	}
	b.Run("dispatch", func(b *testing.B) {
		b.SetBytes(int64(n * 16))
		for b.Loop() {
			AdamStep(w, g, m, v, nil, 1e-3, 1, 1e-7, 0.1, 0.001, 1, 0)
		}
	})
	b.Run("generic", func(b *testing.B) {
		b.SetBytes(int64(n * 16))
		for b.Loop() {
			adamGeneric(w, g, m, v, nil, 1e-3, 1, 1e-7, 0.1, 0.001, 1, 0)
		}
	})
}
