//go:build !amd64 || noasm

package kernel

// archBackend is generic: there is no assembly for this build.
func archBackend() backend { return generic }
