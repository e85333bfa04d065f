package model_test

import (
	"log"
	"os"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
)

// The convolutional network of examples/cnn.json, in Go: MNIST's flat
// 784-pixel rows reshaped to 28×28×1 images (channels last), two
// convolution, batch-normalization, ReLU and max-pooling stages, then a
// softmax classifier. `myelin train --arch examples/cnn.json` trains it.
//
// Train it for a few hundred steps at least before evaluating: with
// Keras's momentum 0.99 the moving statistics keep 0.99^steps of their
// initial values (variance 1), far from the first convolution's outputs
// (variance near 0.002 on MNIST), so inference lags training until they
// have moved (one MNIST epoch at batch 64 is 938 steps).
func ExampleSequential_cnn() {
	m := model.NewSequential(
		layers.NewReshape(28, 28, 1),
		layers.NewConv2D(32, layers.Size2{3, 3}, nn.Linear),
		layers.NewBatchNormalization(),
		layers.NewActivation(nn.ActReLU),
		layers.NewMaxPooling2D(layers.Size2{2, 2}),
		layers.NewConv2D(64, layers.Size2{3, 3}, nn.Linear),
		layers.NewBatchNormalization(),
		layers.NewActivation(nn.ActReLU),
		layers.NewMaxPooling2D(layers.Size2{2, 2}),
		layers.NewFlatten(),
		layers.NewDense(10, nn.ActSoftmax),
	)
	m.Name = "cnn"
	// Adam at 0.002, decayed to 0 by a cosine over the run, as the file
	// says: myelin train adds the schedule; Fit takes it as a callback
	// (callbacks.LearningRateSchedule with schedules.CosineDecay).
	if err := m.CompileFrom(model.CompileConfig{Optimizer: "adam", LearningRate: 0.002, LRSchedule: "cosine",
		Loss: "categorical_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
		log.Fatal(err)
	}
	if err := m.Build(784); err != nil { // MNIST's flat rows
		log.Fatal(err)
	}
	m.Summary(os.Stdout)
	// Output:
	// Model: "cnn"
	// ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
	// ┃ Layer (type)                               ┃ Output Shape           ┃       Param # ┃
	// ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
	// │ reshape (Reshape)                          │ (None, 28, 28, 1)      │             0 │
	// ├────────────────────────────────────────────┼────────────────────────┼───────────────┤
	// │ conv2d (Conv2D)                            │ (None, 26, 26, 32)     │           320 │
	// ├────────────────────────────────────────────┼────────────────────────┼───────────────┤
	// │ batch_normalization (BatchNormalization)   │ (None, 26, 26, 32)     │           128 │
	// ├────────────────────────────────────────────┼────────────────────────┼───────────────┤
	// │ activation (Activation)                    │ (None, 26, 26, 32)     │             0 │
	// ├────────────────────────────────────────────┼────────────────────────┼───────────────┤
	// │ max_pooling2d (MaxPooling2D)               │ (None, 13, 13, 32)     │             0 │
	// ├────────────────────────────────────────────┼────────────────────────┼───────────────┤
	// │ conv2d_1 (Conv2D)                          │ (None, 11, 11, 64)     │        18,496 │
	// ├────────────────────────────────────────────┼────────────────────────┼───────────────┤
	// │ batch_normalization_1 (BatchNormalization) │ (None, 11, 11, 64)     │           256 │
	// ├────────────────────────────────────────────┼────────────────────────┼───────────────┤
	// │ activation_1 (Activation)                  │ (None, 11, 11, 64)     │             0 │
	// ├────────────────────────────────────────────┼────────────────────────┼───────────────┤
	// │ max_pooling2d_1 (MaxPooling2D)             │ (None, 5, 5, 64)       │             0 │
	// ├────────────────────────────────────────────┼────────────────────────┼───────────────┤
	// │ flatten (Flatten)                          │ (None, 1600)           │             0 │
	// ├────────────────────────────────────────────┼────────────────────────┼───────────────┤
	// │ dense (Dense)                              │ (None, 10)             │        16,010 │
	// └────────────────────────────────────────────┴────────────────────────┴───────────────┘
	//  Total params: 35,210 (137.54 KB)
	//  Trainable params: 35,018 (136.79 KB)
	//  Non-trainable params: 192 (768 B)
}
