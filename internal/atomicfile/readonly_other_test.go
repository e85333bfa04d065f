//go:build !linux

package atomicfile

import "testing"

func runReadOnlyUnprivileged(t *testing.T) {
	t.Skip("running as root; no unprivileged re-exec on this system")
}
