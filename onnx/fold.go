package onnx

import (
	"math"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Folding BatchNormalization into Dense (Options.FoldBN).
//
// At inference a BatchNormalization is an affine map of each feature j:
//
//	BN(y)_j = γ_j·(y_j − μ_j)/√(σ²_j + ε) + β_j = s_j·y_j + t_j,
//	s_j = γ_j/√(σ²_j + ε),  t_j = β_j − μ_j·s_j,
//
// and a Dense before its activation is affine too, z = x·W + b. Two
// compositions stay a Dense:
//
//   - BN after a Dense whose activation is linear (Dense → BN):
//     s∘(x·W + b) + t = x·(W·diag(s)) + (b∘s + t): column j of W and
//     b_j are scaled by s_j, then t_j is added to the bias.
//   - BN before a Dense (BN → Dense, whatever that Dense's activation):
//     (s∘y + t)·W + b = y·(diag(s)·W) + (t·W + b): row i of W is scaled
//     by s_i, and the bias gains t·W, computed with W before scaling.
//
// BN after a Dense with a nonlinear activation (the founding model's
// Dense(relu) → BN) cannot go into that Dense, since relu(z)·s ≠ relu(z·s)
// when s < 0 and t cannot pass through relu at all; it folds forward into
// the next Dense instead. Each BN tries backward first (it then leaves the
// graph with no trace in any other layer's input) and forward second.
// Dropout and linear Activation layers are the identity at inference, so
// the search steps over them; any other layer stops it, and a BN with no
// Dense to fold into (one before a softmax Activation, or the last layer)
// stays a node. Folding runs in float64 and rounds once to the model's
// dtype, so the folded model differs from the unfolded one by about one
// rounding of each weight.
//
// The folded Dense weights go into g as substitutes: Graph.Weight then
// writes them as "dense/kernel_folded" and "dense/bias_folded" (a Dense
// without bias gains one). foldBN returns the indices of the folded BNs.
func foldBN(g *Graph, ls []layers.Layer) map[int]bool {
	folded := map[int]bool{}
	// passes reports whether layer i is the identity at inference (or a BN
	// already folded away), so a fold may look past it.
	passes := func(i int) bool {
		switch l := ls[i].(type) {
		case *layers.Dropout:
			return true
		case *layers.Activation:
			return l.Activation == nn.Linear
		}
		return folded[i]
	}
	for i, l := range ls {
		bn, ok := l.(*layers.BatchNormalization)
		if !ok || bn.MovingMean == nil {
			continue
		}
		s, t := bnAffine(bn)
		p := i - 1
		for p >= 0 && passes(p) {
			p--
		}
		if p >= 0 {
			if d, ok := ls[p].(*layers.Dense); ok && d.Activation == nn.Linear && d.Kernel != nil {
				foldAfter(g, d, s, t)
				folded[i] = true
				continue
			}
		}
		q := i + 1
		for q < len(ls) && passes(q) {
			q++
		}
		if q < len(ls) {
			if d, ok := ls[q].(*layers.Dense); ok && d.Kernel != nil {
				foldBefore(g, d, s, t)
				folded[i] = true
			}
		}
	}
	return folded
}

// bnAffine returns s and t of the BN's inference map s∘y + t, in float64.
func bnAffine(bn *layers.BatchNormalization) (s, t []float64) {
	mean := bn.MovingMean.As(tensor.Float64).Float64s()
	variance := bn.MovingVariance.As(tensor.Float64).Float64s()
	n := len(mean)
	s, t = make([]float64, n), make([]float64, n)
	for j := range n {
		gamma, beta := 1.0, 0.0
		if bn.Gamma != nil {
			gamma = at(bn.Gamma.Value, j)
		}
		if bn.Beta != nil {
			beta = at(bn.Beta.Value, j)
		}
		s[j] = gamma / math.Sqrt(variance[j]+bn.Epsilon)
		t[j] = beta - mean[j]*s[j]
	}
	return s, t
}

func at(t *tensor.Tensor, i int) float64 {
	if d := t.Float32s(); d != nil {
		return float64(d[i])
	}
	return t.Float64s()[i]
}

// denseNow returns d's kernel (in, units) and bias (units) in float64 as
// folding has left them so far: a Dense may take a fold from each side.
func denseNow(g *Graph, d *layers.Dense) (w, b []float64, in, units int) {
	kt := d.Kernel.Value
	if f, ok := g.subst[d.Name()+"/kernel"]; ok {
		kt = f
	}
	in, units = kt.Dim(0), kt.Dim(1)
	w = kt.As(tensor.Float64).Clone().Float64s()
	b = make([]float64, units)
	if f, ok := g.subst[d.Name()+"/bias"]; ok {
		copy(b, f.Float64s())
	} else if d.Bias != nil {
		copy(b, d.Bias.Value.As(tensor.Float64).Float64s())
	}
	return w, b, in, units
}

// foldAfter folds s∘z + t, applied to d's output z, into d.
func foldAfter(g *Graph, d *layers.Dense, s, t []float64) {
	w, b, in, units := denseNow(g, d)
	for r := range in {
		row := w[r*units : (r+1)*units]
		for j := range row {
			row[j] *= s[j]
		}
	}
	for j := range b {
		b[j] = b[j]*s[j] + t[j]
	}
	setDense(g, d, w, b, in, units)
}

// foldBefore folds s∘y + t, applied to d's input y, into d.
func foldBefore(g *Graph, d *layers.Dense, s, t []float64) {
	w, b, in, units := denseNow(g, d)
	for r := range in {
		row := w[r*units : (r+1)*units]
		for j, v := range row {
			b[j] += t[r] * v
			row[j] = v * s[r]
		}
	}
	setDense(g, d, w, b, in, units)
}

// setDense records d's folded weights, kept in float64 until written.
func setDense(g *Graph, d *layers.Dense, w, b []float64, in, units int) {
	g.subst[d.Name()+"/kernel"] = tensor.FromFloat64(w, in, units)
	g.subst[d.Name()+"/bias"] = tensor.FromFloat64(b, units)
}
