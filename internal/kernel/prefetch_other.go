//go:build !amd64 || noasm

package kernel

import "unsafe"

func prefetchLines(p unsafe.Pointer, n uintptr) {}
