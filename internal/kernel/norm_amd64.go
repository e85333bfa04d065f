//go:build amd64 && !noasm

package kernel

import (
	"os"

	"golang.org/x/sys/cpu"
)

func init() {
	if os.Getenv("MYELIN_NOASM") == "1" || !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return
	}
	sumSqBlocks = sumSqAVX2
	updateBlocks = updateSumsAVX2
}

// sumSqAVX2 is sumSqBlocksGeneric: lanes 4q..4q+3 of acc in Yq.
//
//go:noescape
func sumSqAVX2(x []float32, acc *[sumSqBlock]float64)

// updateSumsAVX2 is updateBlocksGeneric.
//
//go:noescape
func updateSumsAVX2(w, prev []float32, acc *[3 * updateBlock]float64)
