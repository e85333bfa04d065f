//go:build !amd64 || noasm

package kernel

// Without assembly every implementation stays the plain Go one.
