package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Run with e.g.
//
//	go test -run '^$' -bench . -benchtime 200ms -cpu 1,2 ./nn
//
// Shapes are the founding model's (784→64→64→10, batch 32 and 128). The
// fwd+bwd cases time a forward pass, tp.BackwardFrom and tp.Reset, since a
// backward pass needs its own forward; the backward alone is the
// difference. Once warm every case should allocate nothing.

func randn(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.Float32s() {
		t.Float32s()[i] = float32(rng.NormFloat64())
	}
	return t
}

// passes are the two timings every op is benchmarked in.
var passes = []struct {
	name     string
	backward bool
}{{"fwd", false}, {"fwd+bwd", true}}

func BenchmarkDense(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		in, out int
		act     nn.Activation
		dx      bool // the input needs a gradient (every layer but the first)
	}{
		{784, 64, nn.ActReLU, false},
		{64, 64, nn.ActReLU, true},
		{64, 10, nn.ActSoftmax, true},
	} {
		for _, batch := range []int{32, 128} {
			w := autodiff.NewParam(randn(rng, c.in, c.out), "kernel")
			bias := autodiff.NewParam(randn(rng, c.out), "bias")
			x := randn(rng, batch, c.in)
			g := randn(rng, batch, c.out)
			for _, ps := range passes {
				b.Run(fmt.Sprintf("%d→%d/%v/batch=%d/%s", c.in, c.out, c.act, batch, ps.name), func(b *testing.B) {
					tp := autodiff.NewTape()
					flops := 2 * batch * c.in * c.out
					if ps.backward {
						flops *= 2 // weight gradient
						if c.dx {
							flops += 2 * batch * c.in * c.out
						}
					}
					b.ReportAllocs()
					for b.Loop() {
						tp.Reset()
						xv := tp.Const(x)
						if c.dx {
							xv = tp.Variable(x)
						}
						y := nn.Dense(tp, xv, w, bias, c.act)
						if ps.backward {
							tp.BackwardFrom(y, g)
						}
					}
					b.ReportMetric(float64(flops)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

func BenchmarkBatchNorm(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, batch := range []int{32, 128} {
		const n = 64
		x := randn(rng, batch, n)
		g := randn(rng, batch, n)
		gamma := autodiff.NewParam(tensor.Ones(tensor.Float32, n), "gamma")
		beta := autodiff.NewParam(tensor.Zeros(tensor.Float32, n), "beta")
		mean, variance := tensor.Zeros(tensor.Float32, n), tensor.Ones(tensor.Float32, n)
		for _, ps := range passes {
			b.Run(fmt.Sprintf("train/batch=%d/%s", batch, ps.name), func(b *testing.B) {
				tp := autodiff.NewTape()
				b.SetBytes(int64(4 * batch * n)) // x read once per pass
				b.ReportAllocs()
				for b.Loop() {
					tp.Reset()
					y, _, _ := nn.BatchNorm(tp, tp.Variable(x), gamma, beta, 1e-3)
					if ps.backward {
						tp.BackwardFrom(y, g)
					}
				}
			})
			b.Run(fmt.Sprintf("inference/batch=%d/%s", batch, ps.name), func(b *testing.B) {
				tp := autodiff.NewTape()
				b.SetBytes(int64(4 * batch * n))
				b.ReportAllocs()
				for b.Loop() {
					tp.Reset()
					y := nn.Normalize(tp, tp.Variable(x), mean, variance, gamma, beta, 1e-3)
					if ps.backward {
						tp.BackwardFrom(y, g)
					}
				}
			})
		}
	}
}

func BenchmarkSoftmaxCrossEntropy(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, batch := range []int{32, 128, 1000} {
		const classes = 10
		logits := randn(rng, batch, classes)
		onehot := tensor.New(tensor.Float32, batch, classes)
		sparse := tensor.New(tensor.Float32, batch)
		for i := 0; i < batch; i++ {
			c := rng.IntN(classes)
			onehot.Float32s()[i*classes+c] = 1
			sparse.Float32s()[i] = float32(c)
		}
		for _, target := range []struct {
			name   string
			t      *tensor.Tensor
			sparse bool
		}{{"onehot", onehot, false}, {"sparse", sparse, true}} {
			for _, ps := range passes {
				b.Run(fmt.Sprintf("%s/batch=%d/%s", target.name, batch, ps.name), func(b *testing.B) {
					tp := autodiff.NewTape()
					b.SetBytes(int64(4 * batch * classes))
					b.ReportAllocs()
					for b.Loop() {
						tp.Reset()
						loss := nn.SoftmaxCrossEntropy(tp, tp.Variable(logits), target.t, target.sparse)
						if ps.backward {
							tp.Backward(loss)
						}
					}
				})
			}
		}
	}
}

func BenchmarkSoftmax(b *testing.B) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, batch := range []int{32, 1000} {
		x := randn(rng, batch, 10)
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			tp := autodiff.NewTape()
			b.SetBytes(int64(4 * batch * 10))
			b.ReportAllocs()
			for b.Loop() {
				tp.Reset()
				nn.Softmax(tp, tp.Const(x))
			}
		})
	}
}
