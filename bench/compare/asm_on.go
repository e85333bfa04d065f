//go:build amd64 && !noasm

package main

// asmBuilt: internal/kernel was built with its assembly.
const asmBuilt = true
