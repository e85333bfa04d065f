package main

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

const (
	features = 784
	classes  = 10
	hidden   = 64
)

// mlp is the founding model in Gorgonia, with Keras's settings where
// Gorgonia has them: Dense 64 relu → BatchNorm → Dense 64 relu → BatchNorm
// → Dense 10, softmax cross-entropy on the logits, glorot_uniform weights,
// zero biases, BN ε 1e-3 and momentum 0.01 (Gorgonia uses PyTorch's
// convention: Keras's 0.99), Adam with lr 1e-3 and ε 1e-7, float32.
//
// Gorgonia's graph has a fixed batch size, so the last partial batch of
// an epoch is dropped (Keras and the other peers keep it).
type mlp struct {
	g      *G.ExprGraph
	x, y   *G.Node
	cost   *G.Node
	params G.Nodes
	bns    []*G.BatchNormOp
	vm     G.VM
	solver G.Solver

	xt, yt *tensor.Dense // the batch, bound to x and y
	loss   G.Value
}

// newMLP builds the training graph for batches of batch rows.
func newMLP(batch int) (*mlp, error) {
	m := &mlp{g: G.NewGraph()}
	m.x = G.NewMatrix(m.g, tensor.Float32, G.WithShape(batch, features), G.WithName("x"))
	m.y = G.NewMatrix(m.g, tensor.Float32, G.WithShape(batch, classes), G.WithName("y"))
	h, err := m.dense(m.x, features, hidden, "1", true)
	if err != nil {
		return nil, err
	}
	if h, err = m.batchNorm(h, "1"); err != nil {
		return nil, err
	}
	if h, err = m.dense(h, hidden, hidden, "2", true); err != nil {
		return nil, err
	}
	if h, err = m.batchNorm(h, "2"); err != nil {
		return nil, err
	}
	logits, err := m.dense(h, hidden, classes, "3", false)
	if err != nil {
		return nil, err
	}
	// Categorical cross-entropy of softmax(logits), averaged over the batch.
	logp, err := G.LogSoftMax(logits)
	if err != nil {
		return nil, err
	}
	ll, err := G.HadamardProd(logp, m.y)
	if err != nil {
		return nil, err
	}
	perSample, err := G.Sum(ll, 1)
	if err != nil {
		return nil, err
	}
	mean, err := G.Mean(perSample)
	if err != nil {
		return nil, err
	}
	if m.cost, err = G.Neg(mean); err != nil {
		return nil, err
	}
	G.Read(m.cost, &m.loss)
	if _, err := G.Grad(m.cost, m.params...); err != nil {
		return nil, fmt.Errorf("gorgonia: gradient: %v", err)
	}
	m.vm = G.NewTapeMachine(m.g, G.BindDualValues(m.params...))
	m.solver = G.NewAdamSolver(G.WithLearnRate(1e-3), G.WithEps(1e-7))
	m.xt = tensor.New(tensor.WithShape(batch, features), tensor.Of(tensor.Float32))
	m.yt = tensor.New(tensor.WithShape(batch, classes), tensor.Of(tensor.Float32))
	return m, nil
}

// dense adds x·W + b, then ReLU when relu is set.
func (m *mlp) dense(x *G.Node, in, out int, name string, relu bool) (*G.Node, error) {
	w := G.NewMatrix(m.g, tensor.Float32, G.WithShape(in, out), G.WithName("w"+name), G.WithInit(G.GlorotU(1)))
	b := G.NewMatrix(m.g, tensor.Float32, G.WithShape(1, out), G.WithName("b"+name), G.WithInit(G.Zeroes()))
	m.params = append(m.params, w, b)
	xw, err := G.Mul(x, w)
	if err != nil {
		return nil, err
	}
	z, err := G.BroadcastAdd(xw, b, nil, []byte{0})
	if err != nil {
		return nil, err
	}
	if !relu {
		return z, nil
	}
	return G.Rectify(z)
}

// batchNorm adds a batch normalization with a learnt scale (ones) and
// shift (zeros) per feature.
func (m *mlp) batchNorm(x *G.Node, name string) (*G.Node, error) {
	n := x.Shape()[1]
	scale := G.NewMatrix(m.g, tensor.Float32, G.WithShape(1, n), G.WithName("gamma"+name), G.WithInit(G.Ones()))
	shift := G.NewMatrix(m.g, tensor.Float32, G.WithShape(1, n), G.WithName("beta"+name), G.WithInit(G.Zeroes()))
	y, _, _, op, err := G.BatchNorm(x, scale, shift, 0.01, 1e-3)
	if err != nil {
		return nil, err
	}
	m.params = append(m.params, scale, shift)
	m.bns = append(m.bns, op)
	return y, nil
}

// step runs one training step on the batch already copied into m.xt and
// m.yt and returns its loss.
func (m *mlp) step() (float32, error) {
	if err := G.Let(m.x, m.xt); err != nil {
		return 0, err
	}
	if err := G.Let(m.y, m.yt); err != nil {
		return 0, err
	}
	if err := m.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("gorgonia: forward/backward: %v", err)
	}
	if err := m.solver.Step(G.NodesToValueGrads(m.params)); err != nil {
		return 0, fmt.Errorf("gorgonia: Adam step: %v", err)
	}
	m.vm.Reset()
	loss, ok := m.loss.Data().(float32)
	if !ok {
		return 0, fmt.Errorf("gorgonia: loss of type %T, want float32", m.loss.Data())
	}
	return loss, nil
}
