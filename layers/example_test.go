package layers_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// A BatchNormalization layer trains with the batch's statistics and folds
// them into its moving statistics only when the step is committed;
// inference uses the moving statistics.
func ExampleBatchNormalization() {
	bn := layers.NewBatchNormalization()
	bn.Momentum = 0.5 // Keras's convention: the share of the old moving value kept
	if _, err := bn.Build(tensor.Shape{1}, tensor.Float64, nil); err != nil {
		panic(err)
	}
	for _, w := range bn.Weights() {
		fmt.Println(w.Name, "trainable:", w.Trainable())
	}

	tp := autodiff.NewTape()
	x := tp.Const(tensor.FromFloat64([]float64{1, 2, 3, 6}, 4, 1)) // mean 3, biased variance 3.5
	bn.Forward(&layers.Pass{Tape: tp, Training: true}, x)
	bn.Commit() // Fit commits after a step whose loss and gradients are finite
	fmt.Println(bn.MovingMean.Float64s(), bn.MovingVariance.Float64s())
	// Output:
	// gamma trainable: true
	// beta trainable: true
	// moving_mean trainable: false
	// moving_variance trainable: false
	// [1.5] [2.25]
}

// Dense's kernel is glorot-uniform by default; other initializers, such as
// HeNormal, are fields set before Build.
func ExampleDense() {
	d := layers.NewDense(3, nn.Linear)
	d.KernelInitializer = layers.HeNormal
	out, err := d.Build(tensor.Shape{4}, tensor.Float32, rand.New(rand.NewPCG(1, 2)))
	fmt.Println(out, d.Kernel.Shape(), d.Bias.Shape(), err)
	// Output: (3,) (4, 3) (3,) <nil>
}

// A LayerNormalization layer normalizes each sample over its features, so
// a batch of one is fine and training and inference agree. Its gamma and
// beta are trainable, and there is no state.
func ExampleLayerNormalization() {
	ln := layers.NewLayerNormalization()
	if _, err := ln.Build(tensor.Shape{4}, tensor.Float64, nil); err != nil {
		panic(err)
	}
	for _, w := range ln.Weights() {
		fmt.Println(w.Name, w.Value.Shape(), "trainable:", w.Trainable())
	}

	tp := autodiff.NewTape()
	x := tp.Const(tensor.FromFloat64([]float64{1, 2, 3, 6}, 1, 4)) // mean 3, biased variance 3.5
	y := ln.Forward(&layers.Pass{Tape: tp, Training: true}, x)
	for _, v := range y.Value.Float64s() {
		fmt.Printf("%.4f ", v) // (x − 3)/√(3.5 + 0.001)
	}
	fmt.Println()
	// Output:
	// gamma (4,) trainable: true
	// beta (4,) trainable: true
	// -1.0689 -0.5344 0.0000 1.6033
}

// DepthwiseConv2D convolves each input channel with its own
// DepthMultiplier filters: its kernel is (kh, kw, channels, multiplier),
// as Keras stores it, and the output has channels·multiplier channels.
func ExampleDepthwiseConv2D() {
	d := layers.NewDepthwiseConv2D(layers.Size2{3, 3}, nn.ActReLU)
	d.DepthMultiplier, d.Padding = 2, nn.Same
	out, err := d.Build(tensor.Shape{28, 28, 3}, tensor.Float32, rand.New(rand.NewPCG(1, 2)))
	fmt.Println(out, d.DepthwiseKernel.Shape(), d.Bias.Shape(), err)
	for _, w := range d.Weights() {
		fmt.Println(w.Name)
	}
	// Output:
	// (28, 28, 6) (3, 3, 3, 2) (6,) <nil>
	// depthwise_kernel
	// bias
}
