//go:build race

package kernel

// raceEnabled reports whether the race detector is on: tests that run the
// Go micro-kernel on large products use smaller ones then.
const raceEnabled = true
