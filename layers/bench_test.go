package layers_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// BenchmarkLayers times each layer's Forward (and, for training, the
// backward pass through it) at the founding model's shapes, through the
// Layer interface as a model calls it:
//
//	go test -run '^$' -bench Layers -benchtime 200ms ./layers
//
// The nn benchmarks time the same math without the layer around it.
func BenchmarkLayers(b *testing.B) {
	cases := []struct {
		name string
		in   int
		new  func() layers.Layer
		flop func(batch int) int // forward multiply-adds ×2; 0 when not a product
	}{
		{"Dense784→64relu", 784, func() layers.Layer { return layers.NewDense(64, nn.ActReLU) }, func(n int) int { return 2 * n * 784 * 64 }},
		{"Dense64→64relu", 64, func() layers.Layer { return layers.NewDense(64, nn.ActReLU) }, func(n int) int { return 2 * n * 64 * 64 }},
		{"Dense64→10softmax", 64, func() layers.Layer { return layers.NewDense(10, nn.ActSoftmax) }, func(n int) int { return 2 * n * 64 * 10 }},
		{"BatchNormalization64", 64, func() layers.Layer { return layers.NewBatchNormalization() }, nil},
		{"ActivationReLU64", 64, func() layers.Layer { return layers.NewActivation(nn.ActReLU) }, nil},
		{"Dropout0.5_64", 64, func() layers.Layer { return layers.NewDropout(0.5) }, nil},
	}
	modes := []struct {
		name               string
		training, backward bool
	}{{"inference", false, false}, {"train-fwd", true, false}, {"train-fwd+bwd", true, true}}
	for _, c := range cases {
		for _, batch := range []int{32, 128} {
			rng := rand.New(rand.NewPCG(5, uint64(batch)))
			l := c.new()
			if _, err := l.Build(tensor.Shape{c.in}, tensor.Float32, rng); err != nil {
				b.Fatal(err)
			}
			x := tensor.New(tensor.Float32, batch, c.in)
			for i := range x.Float32s() {
				x.Float32s()[i] = float32(rng.NormFloat64())
			}
			for _, mode := range modes {
				b.Run(fmt.Sprintf("%s/batch=%d/%s", c.name, batch, mode.name), func(b *testing.B) {
					tp := autodiff.NewTape()
					p := &layers.Pass{Tape: tp, Training: mode.training, Rand: rand.New(rand.NewPCG(6, 6))}
					b.SetBytes(int64(4 * batch * c.in))
					b.ReportAllocs()
					for b.Loop() {
						tp.Reset()
						xv := tp.Const(x)
						if mode.backward {
							xv = tp.Variable(x)
						}
						y := l.Forward(p, xv)
						if mode.backward {
							tp.BackwardFrom(y, nil)
						}
					}
					if c.flop != nil {
						f := c.flop(batch)
						if mode.backward {
							f *= 3 // weight and input gradients
						}
						b.ReportMetric(float64(f)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					}
				})
			}
		}
	}
}
