//go:build amd64 && !noasm

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestPackBTAVX checks the transposing packer against packBTGeneric bit
// for bit, padding included, for every panel width the kernels use and
// sizes around the 8×8 blocks.
func TestPackBTAVX(t *testing.T) {
	if !cpu.X86.HasAVX {
		t.Skip("no AVX")
	}
	rng := rand.New(rand.NewPCG(17, 18))
	for _, nr := range []int{16, 32, 64} {
		for _, kc := range []int{1, 7, 8, 9, 16, 63, 64, 257} {
			for _, w := range []int{1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 64} {
				if w > nr {
					continue
				}
				ldb := kc + rng.IntN(5)
				b := randSlice((w-1)*ldb+kc, rng)
				got := make([]float32, kc*nr)
				want := make([]float32, kc*nr)
				for i := range got {
					got[i], want[i] = sentinel, sentinel
				}
				packBTAVX(got, b, ldb, kc, w, nr)
				packBTGeneric(want, b, ldb, kc, w, nr)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("packBTAVX nr=%d kc=%d w=%d ldb=%d: d[%d] got %v, want %v", nr, kc, w, ldb, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// BenchmarkPackBT compares the transposed-B packers on one 32-wide panel.
func BenchmarkPackBT(b *testing.B) {
	rng := rand.New(rand.NewPCG(19, 20))
	const kc, w, nr, ldb = 256, 32, 32, 784
	src := randSlice((w-1)*ldb+kc, rng)
	d := make([]float32, kc*nr)
	packers := []struct {
		name string
		fn   func(d, b []float32, ldb, kc, w, nr int)
	}{{"generic", packBTGeneric}, {"avx", packBTAVX}}
	for _, p := range packers {
		b.Run(fmt.Sprintf("%s/kc=%d", p.name, kc), func(b *testing.B) {
			b.SetBytes(4 * kc * w)
			for b.Loop() {
				p.fn(d, src, ldb, kc, w, nr)
			}
		})
	}
}
