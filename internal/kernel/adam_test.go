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
	benchAdam(b, "dispatch", func(w, g, m, v []float32) {
		AdamStep(w, g, m, v, nil, 1e-3, 1, 1e-7, 0.1, 0.001, 1, 0)
	})
	benchAdam(b, "generic", func(w, g, m, v []float32) {
		adamGeneric(w, g, m, v, nil, 1e-3, 1, 1e-7, 0.1, 0.001, 1, 0)
	})
}

// BenchmarkAdamStepShort times one call on 32 elements (a bias, a
// shard's piece of a range): the call's own cost, set-up and all.
func BenchmarkAdamStepShort(b *testing.B) {
	w, g, m, v := make([]float32, 32), make([]float32, 32), make([]float32, 32), make([]float32, 32)
	for i := range g {
		g[i] = float32(i%7) * 1e-3
	}
	for b.Loop() {
		AdamStep(w, g, m, v, nil, 1e-3, 1, 1e-7, 0.1, 0.001, 1, 0)
	}
}

// benchAdam times step over the founding model's trainable parameters,
// as name, and with one element in 256 with a zero gradient and moments
// decaying through the smallest normals, as name/underflowing: training
// leaves a rarely-lit pixel's weights so, and their vectors underflow
// (about what the founding model's Adam state holds after two epochs at
// batch 32).
func benchAdam(b *testing.B, name string, step func(w, g, m, v []float32)) {
	n := 55306
	w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		g[i] = float32(i%7) * 1e-3
	}
	b.Run(name, func(b *testing.B) {
		b.SetBytes(int64(n * 16))
		for b.Loop() {
			step(w, g, m, v)
		}
	})
	b.Run(name+"/underflowing", func(b *testing.B) {
		b.SetBytes(int64(n * 16))
		for b.Loop() {
			for i := 0; i < n; i += 256 {
				g[i], m[i], v[i] = 0, 2e-36, 1e-36
			}
			step(w, g, m, v)
		}
	})
}

// wildFloat32 returns a float32 from every range Adam's arithmetic can
// meet: zeros of both signs, subnormals, the smallest normals, ordinary
// and huge magnitudes, infinities and NaNs.
func wildFloat32(rng *rand.Rand) float32 {
	sign := float32(1)
	if rng.IntN(2) == 0 {
		sign = -1
	}
	switch rng.IntN(12) {
	case 0:
		return sign * 0
	case 1:
		return math.Float32frombits(rng.Uint32N(0x00800000)) * sign // subnormal
	case 2:
		return sign * float32(0x1p-126*(1+rng.Float64())) // smallest normals
	case 3:
		return sign * float32(math.Ldexp(1+rng.Float64(), -126+rng.IntN(40))) // decaying into them
	case 4:
		return sign * float32(math.Ldexp(1+rng.Float64(), 60+rng.IntN(67))) // huge
	case 5:
		return float32(math.Inf(int(sign)))
	case 6:
		return math.Float32frombits(0x7fc00000 | rng.Uint32N(0x400000)) // quiet NaNs
	default:
		return sign * float32(math.Ldexp(1+rng.Float64(), -40+rng.IntN(45)))
	}
}

// TestAdamVia64MatchesGeneric: the float64 route rounds every operation
// as float32 arithmetic does, on inputs from every range, in Go and in
// the backend's assembly. Where two NaNs meet, which one survives is not
// compared: Go's compiler may swap the operands of a float32 sum, so the
// reference itself does not fix it.
func TestAdamVia64MatchesGeneric(t *testing.T) {
	testAdamWild(t, "via64", adamVia64)
	testAdamWild(t, "AdamStep", func(w, g, m, v []float32, a, r, eps, c1, c2, s float32) {
		AdamStep(w, g, m, v, nil, a, r, eps, c1, c2, s, 0)
	})
}

func testAdamWild(t *testing.T, name string, step func(w, g, m, v []float32, a, r, eps, c1, c2, s float32)) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 1 << 16
	w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for round := range 40 {
		for i := range w {
			w[i], g[i], m[i], v[i] = wildFloat32(rng), wildFloat32(rng), wildFloat32(rng), wildFloat32(rng)
			if rng.IntN(2) == 0 {
				v[i] = float32(math.Abs(float64(v[i])))
			}
		}
		a, r, eps := wildFloat32(rng), float32(1+rng.Float64()), float32(1e-7)
		c1, c2, s := float32(0.1), float32(0.001), float32(1)
		if round%2 == 1 {
			a, r, eps = float32(rng.Float64()*1e-3), 1/float32(rng.Float64()+0.01), wildFloat32(rng)
			c1, c2, s = float32(rng.Float64()), float32(rng.Float64()*1e-3), float32(rng.Float64())
		}
		w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
		step(w, g, m, v, a, r, eps, c1, c2, s)
		adamGeneric(w2, g, m2, v2, nil, a, r, eps, c1, c2, s, 0)
		same := func(a, b float32) bool { return sameBits(a, b) || a != a && b != b }
		for i := range w {
			if !same(w[i], w2[i]) || !same(m[i], m2[i]) || !same(v[i], v2[i]) {
				t.Fatalf("%s, round %d, i=%d (g=%g, a=%g r=%g eps=%g c1=%g c2=%g s=%g): w,m,v = %#x,%#x,%#x, float32 %#x,%#x,%#x",
					name, round, i, g[i], a, r, eps, c1, c2, s, math.Float32bits(w[i]), math.Float32bits(m[i]), math.Float32bits(v[i]),
					math.Float32bits(w2[i]), math.Float32bits(m2[i]), math.Float32bits(v2[i]))
			}
		}
	}
}

// TestAdamStepSubnormalVectors: vectors whose arithmetic underflows or
// meets a subnormal (moments decaying through the smallest normals,
// subnormal gradients and weights) are scattered among ordinary ones;
// the backend, which computes with flush-to-zero and hands such vectors
// back, must still give the reference's bits everywhere, and leave the
// caller's floating-point mode as it was.
func TestAdamStepSubnormalVectors(t *testing.T) {
	testAdamSubnormals(t, func(w, g, m, v []float32) { AdamStep(w, g, m, v, nil, 1e-3, 1, 1e-7, 0.1, 0.001, 1, 0) })
}

func testAdamSubnormals(t *testing.T, step func(w, g, m, v []float32)) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{7, 8, 16, 17, 64, 200, 1000, 4099} {
		for round := range 20 {
			w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range w {
				w[i] = float32(rng.NormFloat64())
				g[i] = float32(rng.NormFloat64() * 1e-2)
				m[i] = float32(rng.NormFloat64() * 1e-3)
				v[i] = float32(rng.Float64() * 1e-6)
				switch rng.IntN(40) {
				case 0: // m·c1 and a·m underflow
					m[i], g[i] = float32(math.Ldexp(1+rng.Float64(), -126+rng.IntN(8))), 0
				case 1: // (g² - v)·c2 underflows
					v[i], g[i] = float32(math.Ldexp(1+rng.Float64(), -126+rng.IntN(10))), 0
				case 2:
					g[i] = math.Float32frombits(1 + rng.Uint32N(0x007fffff))
				case 3:
					w[i] = math.Float32frombits(1 + rng.Uint32N(0x007fffff))
				case 4: // g² underflows
					g[i] = float32(math.Ldexp(1+rng.Float64(), -70+rng.IntN(8)))
				}
			}
			w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
			step(w, g, m, v)
			adamGeneric(w2, g, m2, v2, nil, 1e-3, 1, 1e-7, 0.1, 0.001, 1, 0)
			for i := range w {
				if !sameBits(w[i], w2[i]) || !sameBits(m[i], m2[i]) || !sameBits(v[i], v2[i]) {
					t.Fatalf("n=%d round %d i=%d: got w,m,v = %g,%g,%g, want %g,%g,%g", n, round, i, w[i], m[i], v[i], w2[i], m2[i], v2[i])
				}
			}
		}
	}
	// Flush-to-zero must be off again: a product in the subnormal range
	// keeps its value.
	x, y := float32(0x1p-126), float32(0.25)
	if z := opaque32(x) * opaque32(y); z != 0x1p-128 {
		t.Errorf("after AdamStep, 2⁻¹²⁶·0.25 = %g, want 2⁻¹²⁸: the floating-point mode was not restored", z)
	}
}

//go:noinline
func opaque32(x float32) float32 { return x }
