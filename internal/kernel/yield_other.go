//go:build !linux

package kernel

// osYield does nothing here; spinFor's runtime.Gosched is all there is.
func osYield() {}
