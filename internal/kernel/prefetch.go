package kernel

import "unsafe"

// Prefetch asks the CPU to bring s into its caches without waiting for
// it: a training step prefetches the next batch's rows, which lie
// scattered over a dataset far larger than the caches, so that gathering
// them later reads cache instead of memory. It changes no value; on CPUs
// without the assembly it does nothing.
func Prefetch[T any](s []T) {
	if len(s) == 0 {
		return
	}
	var z T
	prefetchLines(unsafe.Pointer(&s[0]), uintptr(len(s))*unsafe.Sizeof(z))
}
