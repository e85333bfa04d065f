package kernel

// ConvDirect sets y, a Rows()×f matrix, to the convolution of x by the
// kernel w (Cols()×f, as Im2col's matrix multiplies it) followed by e,
// reading each window in place where the backend has a direct kernel for
// g and f, and reports whether it did. Its bits are those of Im2col,
// Sgemm (alpha 1, beta 0) and ApplyEpilogue; where it returns false it
// has written nothing, and the caller runs those three.
func ConvDirect(y, x []float32, g *Window, w []float32, f int, e *Epilogue) bool {
	checkConvDirect("ConvDirect", y, g.Rows()*f, x, g, w, f, e)
	return impl.convDirectAsm && convDirectAsm(y, x, g, w, f, e)
}

// ConvDirectMaxPool2 is ConvDirect followed by MaxPool with a 2×2 window
// of stride 2 and no padding: y is (N, OH/2, OW/2, f). It computes a band
// of the convolution's rows at a time into a buffer that stays in the
// first-level cache and pools it from there, so the convolution's output
// never reaches memory. It reports false, having written nothing, where
// ConvDirect would, or where OH or OW is below 2.
func ConvDirectMaxPool2(y, x []float32, g *Window, w []float32, f int, e *Epilogue) bool {
	checkConvDirect("ConvDirectMaxPool2", y, g.N*(g.OH/2)*(g.OW/2)*f, x, g, w, f, e)
	return impl.convDirectAsm && g.OH >= 2 && g.OW >= 2 && convDirectPool2Asm(y, x, g, w, f, e)
}

// checkConvDirect panics, naming op, unless y holds ny values and x, w
// and e fit g and f.
func checkConvDirect(op string, y []float32, ny int, x []float32, g *Window, w []float32, f int, e *Epilogue) {
	if f <= 0 || len(y) < ny || len(x) < g.N*g.H*g.W*g.C || len(w) < g.Cols()*f {
		panic("kernel: " + op + ": slices too short for the window")
	}
	e.check(op, f, g.Rows()*f)
}
