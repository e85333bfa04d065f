package onnx

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// founding returns the founding model, built for 784 features:
// Dense(64, relu) → BN → Dense(64, relu) → BN → Dense(10, softmax).
func founding(t testing.TB) *model.Sequential {
	t.Helper()
	m := model.NewSequential(
		layers.NewDense(64, nn.ActReLU),
		layers.NewBatchNormalization(),
		layers.NewDense(64, nn.ActReLU),
		layers.NewBatchNormalization(),
		layers.NewDense(10, nn.ActSoftmax),
	)
	build(t, m, 784)
	return m
}

func build(t testing.TB, m *model.Sequential, in ...int) *model.Sequential {
	t.Helper()
	if err := m.Build(in...); err != nil {
		t.Fatal(err)
	}
	return m
}

// randomizeBN gives every BatchNormalization of m statistics and
// parameters far from their initial ones (negative gammas included), as
// training would, so that a wrong formula or fold shows in the outputs;
// freshly built, mean 0, variance 1, γ 1 and β 0 hide most mistakes.
func randomizeBN(m *model.Sequential, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 7))
	set := func(t *tensor.Tensor, f func() float64) {
		if t == nil {
			return
		}
		for i := range t.Len() {
			t.SetIndex(i, f())
		}
	}
	for _, l := range m.Layers {
		bn, ok := l.(*layers.BatchNormalization)
		if !ok {
			continue
		}
		set(bn.MovingMean, func() float64 { return r.NormFloat64() })
		set(bn.MovingVariance, func() float64 { return 0.05 + 2*r.Float64() })
		if bn.Gamma != nil {
			set(bn.Gamma.Value, func() float64 { return 2*r.Float64() - 0.5 })
		}
		if bn.Beta != nil {
			set(bn.Beta.Value, func() float64 { return r.NormFloat64() })
		}
	}
}

// randomInput returns n samples of m's input shape, uniform in [0, 1) like
// scaled pixels.
func randomInput(m *model.Sequential, n int, seed uint64) *tensor.Tensor {
	r := rand.New(rand.NewPCG(seed, 11))
	shape := append(tensor.Shape{n}, m.InputShape()...)
	x := tensor.New(m.DType, shape...)
	for i := range x.Len() {
		x.SetIndex(i, r.Float64())
	}
	return x
}

// predict returns m's outputs for x.
func predict(t testing.TB, m *model.Sequential, x *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	y, err := m.Predict(context.Background(), x, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// exportDecode exports m and decodes the file back.
func exportDecode(t testing.TB, m *model.Sequential, o Options) (*dModel, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := Export(&buf, m, o); err != nil {
		t.Fatalf("Export: %v", err)
	}
	d, err := decodeModel(buf.Bytes(), true)
	if err != nil {
		t.Fatalf("decoding the exported model: %v", err)
	}
	return d, buf.Bytes()
}

// values returns t's elements as float64.
func values(t *tensor.Tensor) []float64 {
	return t.As(tensor.Float64).Float64s()
}

// ops lists the graph's operators in order.
func ops(g dGraph) []string {
	var s []string
	for _, n := range g.nodes {
		s = append(s, n.op)
	}
	return s
}
