package kernel

import (
	"fmt"
	"math"
	"testing"
)

// TestUint8ToFloat32 checks the backend in use against the Go definition
// bit for bit: every byte value, for several divisors, at lengths around
// the vector widths and misaligned offsets, writing nothing past dst.
func TestUint8ToFloat32(t *testing.T) {
	for _, div := range []float32{255, 1, 127.5, 3, 0.1, 65535} {
		for _, n := range append(elemLengths, 256, 256+7, 512+33) {
			for _, off := range []int{0, 1, 3} {
				src := make([]uint8, off+n)[off:]
				for i := range src {
					src[i] = uint8(i*37 + off) // every byte value once n ≥ 256
				}
				backing := make([]float32, off+n+guard)
				for i := range backing {
					backing[i] = sentinel
				}
				dst := backing[off : off+n]
				Uint8ToFloat32(dst, src, div)
				for i, q := range src {
					if want := float32(q) / div; !sameBits(dst[i], want) {
						t.Fatalf("div=%g n=%d off=%d: %d/div got %v (%#x), want %v (%#x)", div, n, off, q, dst[i], math.Float32bits(dst[i]), want, math.Float32bits(want))
					}
				}
				checkGuards(t, fmt.Sprintf("Uint8ToFloat32 div=%g", div), n, off, backing)

				d64 := make([]float64, n)
				Uint8ToFloat64(d64, src, div)
				for i, q := range src {
					if want := float64(float32(q) / div); math.Float64bits(d64[i]) != math.Float64bits(want) {
						t.Fatalf("Uint8ToFloat64 div=%g n=%d: %d/div got %v, want %v", div, n, q, d64[i], want)
					}
				}
			}
		}
	}
}

// TestUint8ToFloat32Bytes256 divides every byte by 255, as image loaders
// do, against the quotient computed in float64 and rounded to float32
// (the same value: float64 holds more than twice float32's precision, so
// the double rounding is harmless), and checks that multiplying by 1/255
// would give other bits for 126 of the bytes, which is why the kernel
// divides.
func TestUint8ToFloat32Bytes256(t *testing.T) {
	src := make([]uint8, 256)
	for i := range src {
		src[i] = uint8(i)
	}
	dst := make([]float32, 256)
	Uint8ToFloat32(dst, src, 255)
	inv := float32(1) / 255
	differ := 0
	for i, v := range dst {
		if want := float32(float64(i) / 255); !sameBits(v, want) {
			t.Errorf("%d/255: got %v, want %v", i, v, want)
		}
		if float32(i)*inv != v {
			differ++
		}
	}
	if differ != 126 {
		t.Errorf("multiplying by 1/255 differs from dividing for %d bytes, want 126", differ)
	}
}

func TestUint8ToFloatPanics(t *testing.T) {
	for name, fn := range map[string]func(){
		"Uint8ToFloat32": func() { Uint8ToFloat32(make([]float32, 2), make([]uint8, 3), 255) },
		"Uint8ToFloat64": func() { Uint8ToFloat64(make([]float64, 3), make([]uint8, 2), 255) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with mismatched lengths: got no panic, want one", name)
				}
			}()
			fn()
		}()
	}
}

// BenchmarkUint8ToFloat32 converts a batch of 32 MNIST images (32×784
// bytes), as the batch gather does, with the dispatched and the Go loop.
func BenchmarkUint8ToFloat32(b *testing.B) {
	const n = 32 * 784
	src := make([]uint8, n)
	for i := range src {
		src[i] = uint8(i * 7)
	}
	dst := make([]float32, n)
	for _, v := range []struct {
		name string
		fn   func([]float32, []uint8, float32)
	}{{"dispatch", Uint8ToFloat32}, {"generic", uint8ToFloat32Generic}} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(n)
			for b.Loop() {
				v.fn(dst, src, 255)
			}
		})
	}
}
