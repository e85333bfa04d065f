//go:build !amd64 || noasm

package fmapeak

// asmLoops is empty: without assembly the Go loop is the only one.
func asmLoops() []loop { return nil }
