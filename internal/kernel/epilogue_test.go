package kernel

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestEpilogue checks ApplyEpilogue of the backend in use against its
// reference bit for bit, and the reference against the separate passes
// it fuses (AddRowTo, then NormalizeRows, then ReluTo), for every
// combination of its steps, with zeros of both signs, NaNs and
// infinities in x, in place and not.
func TestEpilogue(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, c := range []int{1, 7, 15, 16, 17, 32, 48, 64, 65} {
		for _, rows := range []int{1, 3, 10} {
			n := rows * c
			x, _ := guarded(n, 1, rng, true)
			bias, _ := guarded(c, 0, rng, true)
			mean, _ := guarded(c, 0, rng, false)
			invstd, _ := guarded(c, 0, rng, false)
			gamma, _ := guarded(c, 0, rng, false)
			beta, _ := guarded(c, 0, rng, false)
			for combo := range 32 {
				e := Epilogue{ReLU: combo&1 != 0}
				if combo&2 != 0 {
					e.Bias = bias
				}
				if combo&4 != 0 {
					e.Mean, e.InvStd = mean, invstd
					if combo&8 != 0 {
						e.Gamma = gamma
					}
					if combo&16 != 0 {
						e.Beta = beta
					}
				} else if combo&24 != 0 {
					continue
				}
				name := fmt.Sprintf("c=%d rows=%d bias=%v norm=%v gamma=%v beta=%v relu=%v", c, rows,
					e.Bias != nil, e.Mean != nil, e.Gamma != nil, e.Beta != nil, e.ReLU)

				y1, yb := guarded(n, 2, rng, false)
				ApplyEpilogue(y1, x, c, &e)
				checkGuards(t, name+" ApplyEpilogue", n, 2, yb)
				y2 := make([]float32, n)
				epilogueGeneric(y2, x, c, &e)
				sameOrNaN32(t, name+" ApplyEpilogue", y1, y2)

				in := append([]float32(nil), x...) // in place
				ApplyEpilogue(in, in, c, &e)
				sameOrNaN32(t, name+" ApplyEpilogue in place", in, y2)

				y3 := append([]float32(nil), x...) // the separate passes
				if e.Bias != nil {
					addRowsGeneric(y3, y3, e.Bias, c)
				}
				if e.Mean != nil {
					h := make([]float32, n)
					normRowsGeneric(y3, h, y3, e.Mean, e.InvStd, e.Gamma, e.Beta, c)
				}
				if e.ReLU {
					reluGeneric(y3, y3)
				}
				sameOrNaN32(t, name+" reference against the separate passes", y2, y3)
			}
		}
	}
}

// TestEpilogueChecksLengths: short slices are refused with the op's name.
func TestEpilogueChecksLengths(t *testing.T) {
	for _, tc := range []struct {
		name string
		y, x []float32
		e    Epilogue
	}{
		{"short y", make([]float32, 3), make([]float32, 4), Epilogue{}},
		{"short bias", make([]float32, 4), make([]float32, 4), Epilogue{Bias: make([]float32, 1)}},
		{"short invstd", make([]float32, 4), make([]float32, 4), Epilogue{Mean: make([]float32, 2), InvStd: make([]float32, 1)}},
		{"ragged rows", make([]float32, 5), make([]float32, 5), Epilogue{}},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", tc.name)
				} else if s := fmt.Sprint(r); !strings.HasPrefix(s, "kernel: ApplyEpilogue") {
					t.Errorf("%s: panic %q does not name ApplyEpilogue", tc.name, s)
				}
			}()
			ApplyEpilogue(tc.y, tc.x, 2, &tc.e)
		}()
	}
}

// BenchmarkEpilogue times the CNN's first batch norm and ReLU at
// inference over one image's worth of its first convolution's output
// (26·26 pixels, 32 channels), fused against the separate passes.
func BenchmarkEpilogue(b *testing.B) {
	const c = 32
	n := 1 * 26 * 26 * c
	rng := rand.New(rand.NewPCG(1, 2))
	x, _ := guarded(n, 0, rng, false)
	y := make([]float32, n)
	p := func() []float32 { s, _ := guarded(c, 0, rng, false); return s }
	e := Epilogue{Bias: p(), Mean: p(), InvStd: p(), Gamma: p(), Beta: p(), ReLU: true}
	b.Run("fused", func(b *testing.B) {
		for b.Loop() {
			ApplyEpilogue(y, x, c, &e)
		}
	})
	b.Run("separate", func(b *testing.B) {
		for b.Loop() {
			AddRowTo(y, x, e.Bias, c)
			NormalizeRowsReLU(y, y, y, e.Mean, e.InvStd, e.Gamma, e.Beta, c)
		}
	})
}
