//go:build amd64 && !noasm

package kernel

import (
	"os"

	"golang.org/x/sys/cpu"
)

func init() {
	if os.Getenv("MYELIN_NOASM") == "1" || !cpu.X86.HasAVX2 {
		return
	}
	colSumsImpl = colSumsAVX2
	colSqDevImpl = colSqDevAVX2
	normRowsImpl = normRowsAVX2
	bnBwdSumsImpl = bnBwdSumsAVX2
	bnBwdInputImpl = bnBwdInputAVX2
}

// The assembly loops take rows ≥ 1 and c8, a positive multiple of 8 no
// larger than c; the exported wrappers check the lengths.

//go:noescape
func colSumsAVX2(s []float64, x []float32, rows, c, c8 int)

//go:noescape
func colSqDevAVX2(s []float64, x, mean []float32, rows, c, c8 int)

//go:noescape
func normRowsAVX2(y, xhat, x, mean, invstd, gamma, beta []float32, rows, c, c8 int)

//go:noescape
func bnBwdSumsAVX2(sdy, sdyx, dy, xhat []float32, rows, c, c8 int)

//go:noescape
func bnBwdInputAVX2(dx, dy, xhat, k, sdy, sdyx []float32, rows, c, c8 int)
