package onnx

import (
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Folding BatchNormalization into Dense and Conv2D (Options.FoldBN).
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
// the next Dense instead. A Conv2D with a linear activation takes a BN
// after it as a Dense does, per output channel (examples/cnn.json's
// Conv → BN → ReLU); a BN before a Conv2D is not folded into it, since
// "same" padding adds zeros that the BN's shift t would have changed. Each BN tries backward first (it then leaves the
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
				foldAfter(g, affineOf(d.Name(), d.Kernel.Value, d.Bias), s, t)
				folded[i] = true
				continue
			}
			if c, ok := ls[p].(*layers.Conv2D); ok && c.Activation == nn.Linear && c.Kernel != nil {
				foldAfter(g, affineOf(c.Name(), c.Kernel.Value, c.Bias), s, t)
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
				foldBefore(g, affineOf(d.Name(), d.Kernel.Value, d.Bias), s, t)
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

// affine is a layer computing x·W + b before its activation whose kernel
// W has the outputs as its last axis: a Dense, (in, units), or a Conv2D,
// (kh, kw, in, filters), whose output channel j is
// Σ x·W[..., j] + b_j too, so that folding a BN after it scales W[..., j]
// and b_j exactly as for a Dense.
type affine struct {
	name   string
	kernel *tensor.Tensor
	bias   *autodiff.Var // nil without bias
}

func affineOf(name string, kernel *tensor.Tensor, bias *autodiff.Var) affine {
	return affine{name, kernel, bias}
}

// now returns a's kernel and bias in float64 as folding has left them so
// far (a Dense may take a fold from each side), and the kernel's shape;
// the kernel is (rows, units) in row-major order.
func (a affine) now(g *Graph) (w, b []float64, shape tensor.Shape, rows, units int) {
	kt := a.kernel
	if f, ok := g.subst[a.name+"/kernel"]; ok {
		kt = f
	}
	shape = kt.Shape().Clone()
	units = shape[len(shape)-1]
	rows = kt.Len() / units
	w = kt.As(tensor.Float64).Clone().Float64s()
	b = make([]float64, units)
	if f, ok := g.subst[a.name+"/bias"]; ok {
		copy(b, f.Float64s())
	} else if a.bias != nil {
		copy(b, a.bias.Value.As(tensor.Float64).Float64s())
	}
	return w, b, shape, rows, units
}

// foldAfter folds s∘z + t, applied to a's output z, into a.
func foldAfter(g *Graph, a affine, s, t []float64) {
	w, b, shape, rows, units := a.now(g)
	for r := range rows {
		row := w[r*units : (r+1)*units]
		for j := range row {
			row[j] *= s[j]
		}
	}
	for j := range b {
		b[j] = b[j]*s[j] + t[j]
	}
	a.set(g, w, b, shape)
}

// foldBefore folds s∘y + t, applied to the input y of a Dense a, into a.
func foldBefore(g *Graph, a affine, s, t []float64) {
	w, b, shape, rows, units := a.now(g)
	for r := range rows {
		row := w[r*units : (r+1)*units]
		for j, v := range row {
			b[j] += t[r] * v
			row[j] = v * s[r]
		}
	}
	a.set(g, w, b, shape)
}

// set records a's folded weights, kept in float64 until written.
func (a affine) set(g *Graph, w, b []float64, shape tensor.Shape) {
	g.subst[a.name+"/kernel"] = tensor.FromFloat64(w, shape...)
	g.subst[a.name+"/bias"] = tensor.FromFloat64(b, len(b))
}
