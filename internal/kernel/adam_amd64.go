//go:build amd64 && !noasm

package kernel

import (
	"os"

	"golang.org/x/sys/cpu"
)

func init() {
	if cpu.X86.HasAVX2 && os.Getenv("MYELIN_NOASM") != "1" {
		adamStepImpl = adamStepAsm
	}
}

func adamStepAsm(w, g, m, v []float32, a, r, eps, c1, c2, s float32) int {
	n := len(w) &^ 7
	if n > 0 {
		adamStepAVX2(w[:n], g, m, v, a, r, eps, c1, c2, s)
	}
	return n
}

// adamStepAVX2 is adamStepGeneric, 8 lanes at a time; len(w) must be a
// multiple of 8 and the other slices at least as long.
//
//go:noescape
func adamStepAVX2(w, g, m, v []float32, a, r, eps, c1, c2, s float32)
