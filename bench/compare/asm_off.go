//go:build !amd64 || noasm

package main

// asmBuilt: internal/kernel was built without assembly.
const asmBuilt = false
