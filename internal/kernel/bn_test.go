package kernel

import "testing"

// The batch-norm loops' bits are checked against the nn package's Go
// loops there (nn.TestBatchNormVectorBits); here, the wrappers' contract.
func TestBNLoopsContract(t *testing.T) {
	x := make([]float32, 3*16)
	s := make([]float64, 16)
	want := 0
	if colSumsImpl != nil {
		want = 16
	}
	if got := ColSums(s, x, 16); got != want {
		t.Fatalf("ColSums on 16 columns handled %d, want %d", got, want)
	}
	if got := ColSums(s[:7], x[:21], 7); got != 0 {
		t.Fatalf("ColSums on 7 columns handled %d, want 0", got)
	}
	if colSumsImpl == nil {
		return
	}
	for name, f := range map[string]func(){
		"short s":      func() { ColSums(s[:15], x, 16) },
		"short mean":   func() { ColSqDev(s, x, make([]float32, 8), 16) },
		"short xhat":   func() { NormalizeRows(x, x[:40], x, x, x, x, x, 16) },
		"short sdyx":   func() { BNBackwardSums(x, x[:9], x, x, 16) },
		"short output": func() { BNBackwardInput(x[:47], x, x, x, x, x, 16) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
