//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
)

// peakRSS returns the peak resident set of a finished process (or of the
// largest child it waited for, when larger) in MiB, from wait4's rusage;
// NaN where the system gives none.
func peakRSS(ps *os.ProcessState) float64 {
	if ps == nil {
		return nan
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return nan
	}
	if runtime.GOOS == "darwin" { // bytes there, KiB elsewhere
		return float64(ru.Maxrss) / (1 << 20)
	}
	return float64(ru.Maxrss) / 1024
}
