//go:build amd64 && !noasm

package kernel

import "unsafe"

// prefetchLines issues a PREFETCHT0 for each 64-byte line of the n bytes
// at p.
//
//go:noescape
func prefetchLines(p unsafe.Pointer, n uintptr)
