package model_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// The founding program: the Keras model of the founding text, in Go. It
// trains on a slice of MNIST here to keep the example fast; the CLI's
// `myelin train` runs it on all 60,000 images.
func ExampleSequential() {
	train, test, err := mnist.Load()
	if err != nil {
		log.Fatal(err)
	}
	train, test = train.Slice(0, 6000), test.Slice(0, 1000)
	x, err := train.X() // the pixels as bytes, each batch converted to pixel/255
	if err != nil {
		log.Fatal(err)
	}
	y := tensor.FromFloat32(train.OneHot(), train.N, 10)

	m := model.NewSequential(
		layers.NewDense(64, nn.ActReLU),
		layers.NewBatchNormalization(),
		layers.NewDense(64, nn.ActReLU),
		layers.NewBatchNormalization(),
		layers.NewDense(10, nn.ActSoftmax),
	)
	if err := m.CompileNames("adam", "categorical_crossentropy", "accuracy"); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if _, err := m.Fit(ctx, x, y, model.FitOptions{Epochs: 2, BatchSize: 32}); err != nil {
		log.Fatal(err)
	}
	m.Summary(os.Stdout)

	tx, err := test.X()
	if err != nil {
		log.Fatal(err)
	}
	ty := tensor.FromFloat32(test.OneHot(), test.N, 10)
	res, err := m.Evaluate(ctx, tx, ty, model.EvalOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("test accuracy above 90%:", res["accuracy"] > 0.90)
	// Output:
	// Model: "sequential"
	// ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
	// ┃ Layer (type)                               ┃ Output Shape           ┃       Param # ┃
	// ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
	// │ dense (Dense)                              │ (None, 64)             │        50,240 │
	// ├────────────────────────────────────────────┼────────────────────────┼───────────────┤
	// │ batch_normalization (BatchNormalization)   │ (None, 64)             │           256 │
	// ├────────────────────────────────────────────┼────────────────────────┼───────────────┤
	// │ dense_1 (Dense)                            │ (None, 64)             │         4,160 │
	// ├────────────────────────────────────────────┼────────────────────────┼───────────────┤
	// │ batch_normalization_1 (BatchNormalization) │ (None, 64)             │           256 │
	// ├────────────────────────────────────────────┼────────────────────────┼───────────────┤
	// │ dense_2 (Dense)                            │ (None, 10)             │           650 │
	// └────────────────────────────────────────────┴────────────────────────┴───────────────┘
	//  Total params: 55,562 (217.04 KB)
	//  Trainable params: 55,306 (216.04 KB)
	//  Non-trainable params: 256 (1.00 KB)
	// test accuracy above 90%: true
}
