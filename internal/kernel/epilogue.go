package kernel

// Epilogue is the per-column work that follows a product at inference:
// a convolution's or dense layer's bias, then batch normalization with
// fixed statistics, then a ReLU, in one pass over the product's output.
// Each value v of column j becomes
//
//	v += Bias[j]                             (when Bias is not nil)
//	v = (v − Mean[j]) · InvStd[j]            (when Mean is not nil)
//	v = affine(v, Gamma, Beta, j)            (when Mean is not nil)
//	v = 0 where v < 0                        (when ReLU; NaN and −0 pass)
//
// with the roundings, in this order, of AddRowTo, NormalizeRows (or
// NormalizeRowsReLU) and ReluTo run one after the other, so the fused and
// separate passes give the same bits.
type Epilogue struct {
	Bias         []float32 // nil: no bias
	Mean, InvStd []float32 // nil Mean: no normalization
	Gamma, Beta  []float32 // nil: a scale of 1, a shift of 0 (both skipped)
	ReLU         bool
}

// at applies e to v in column j.
func (e *Epilogue) at(v float32, j int) float32 {
	if e.Bias != nil {
		v += e.Bias[j]
	}
	if e.Mean != nil {
		v = (v - e.Mean[j]) * e.InvStd[j]
		v = affine(v, e.Gamma, e.Beta, j)
	}
	if e.ReLU && v < 0 {
		v = 0
	}
	return v
}

// check panics unless e's slices have c values each.
func (e *Epilogue) check(op string, c, n int, mats ...int) {
	mean, invstd := c, c
	if e.Mean != nil {
		mean, invstd = len(e.Mean), len(e.InvStd)
	}
	checkCols(op, c, n, mats, lenOr(e.Bias, c), mean, invstd, lenOr(e.Gamma, c), lenOr(e.Beta, c))
}

// ApplyEpilogue sets y to e applied to x, both rows of c values (y may be
// x).
func ApplyEpilogue(y, x []float32, c int, e *Epilogue) {
	e.check("ApplyEpilogue", c, len(x), len(y))
	if impl.epilogueAsm {
		epilogueAsm(y[:len(x)], x, c, e)
		return
	}
	epilogueGeneric(y[:len(x)], x, c, e)
}

// epilogueGeneric is the reference ApplyEpilogue.
func epilogueGeneric(y, x []float32, c int, e *Epilogue) {
	epilogueFrom(y, x, c, e, 0)
}

// epilogueFrom is epilogueGeneric on columns j0 and up of each row.
func epilogueFrom(y, x []float32, c int, e *Epilogue, j0 int) {
	for i := 0; i < len(x); i += c {
		yr, xr := y[i:i+c], x[i:i+c]
		for j := j0; j < c; j++ {
			yr[j] = e.at(xr[j], j)
		}
	}
}
