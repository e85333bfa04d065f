package kernel

import "testing"

// TestPrefetchChangesNothing: Prefetch reads no value into Go and writes
// none, for every length and alignment, empty and nil slices included.
func TestPrefetchChangesNothing(t *testing.T) {
	b := make([]byte, 300)
	for i := range b {
		b[i] = byte(i)
	}
	for lo := 0; lo < 70; lo++ {
		for n := 0; lo+n <= len(b); n += 13 {
			Prefetch(b[lo : lo+n])
		}
	}
	for i, v := range b {
		if v != byte(i) {
			t.Fatalf("b[%d] = %d after Prefetch, want %d", i, v, byte(i))
		}
	}
	Prefetch([]float32(nil))
	f := []float64{1, 2, 3}
	Prefetch(f[1:])
	if f[0] != 1 || f[1] != 2 || f[2] != 3 {
		t.Fatalf("float64s changed: %v", f)
	}
}
