//go:build !amd64 || noasm

package kernel

// Without the assembly, impl.epilogueAsm and impl.convDirectAsm are false
// and these are never called.

func epilogueAsm(y, x []float32, c int, e *Epilogue) { epilogueGeneric(y, x, c, e) }

func convDirectAsm(y, x []float32, g *Window, w []float32, f int, e *Epilogue) bool { return false }

func convDirectPool2Asm(y, x []float32, g *Window, w []float32, f int, e *Epilogue) bool {
	return false
}
