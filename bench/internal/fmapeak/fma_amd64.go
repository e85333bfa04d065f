//go:build amd64 && !noasm

package fmapeak

import (
	"os"

	"golang.org/x/sys/cpu"
)

func init() {
	if l := asmLoops(); len(l) > 0 && os.Getenv("MYELIN_NOASM") != "1" {
		inUse = l[len(l)-1]
	}
}

// asmLoops lists the assembly loops this CPU can run, widest last.
func asmLoops() []loop {
	var l []loop
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		l = append(l, loop{"avx2", 8, fmaAVX2})
	}
	if cpu.X86.HasAVX512F {
		l = append(l, loop{"avx512", 16, fmaAVX512})
	}
	return l
}

// fmaAVX512 is fmaGeneric with 12 ZMM accumulators of 16 lanes.
//
//go:noescape
func fmaAVX512(iters int) float32

// fmaAVX2 is fmaGeneric with 12 YMM accumulators of 8 lanes.
//
//go:noescape
func fmaAVX2(iters int) float32
