package experiment

import (
	"context"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
)

// The founding text's "higher learning rates" claim, for the networks batch
// normalization was made for: a small convolutional network with and
// without BN after each convolution, trained by plain SGD at learning
// rates from 0.01 to 3.

const cnnSteps = 400

var cnnRates = []float64{0.01, 0.03, 0.1, 0.3, 1, 3}

// cnnNet is Conv2D(16, 3×3) → (BN) → ReLU → MaxPool 2 → Conv2D(32, 3×3)
// → (BN) → ReLU → MaxPool 2 → Flatten → Dense(10, softmax), on 28×28×1
// images given as rows of 784.
func cnnNet(bn bool, seed uint64) *model.Sequential {
	ls := []layers.Layer{layers.NewReshape(28, 28, 1)}
	for _, f := range []int{16, 32} {
		ls = append(ls, layers.NewConv2D(f, layers.Size2{3, 3}, nn.Linear))
		if bn {
			ls = append(ls, layers.NewBatchNormalization())
		}
		ls = append(ls, layers.NewActivation(nn.ActReLU), layers.NewMaxPooling2D(layers.Size2{2, 2}))
	}
	ls = append(ls, layers.NewFlatten(), layers.NewDense(10, nn.ActSoftmax))
	m := model.NewSequential(ls...)
	m.Seed = seed
	return m
}

// CNN trains a small convolutional network with and without batch
// normalization by plain SGD at learning rates from 0.01 to 3.
func CNN(ctx context.Context, opt Options) (*Result, error) {
	d, opt, err := sweepFor(ctx, opt, cnnSteps, "cnn", "learning_rate", cnnRates, func(bn bool, v float64, seed uint64) (*model.Sequential, float64) {
		return cnnNet(bn, seed), v
	})
	if err != nil {
		return nil, err
	}
	r := sweepResult(opt, d, "cnn", "learning rate",
		"cnn: learning-rate sweep of a convolutional network, with and without BN",
		[]Setting{{"init", "Glorot uniform (Keras's default)"}, {"optimizer", "plain SGD, the learning rate swept"}})
	r.Settings[0] = Setting{"network", "28×28×1 → Conv2D(16, 3×3) → (BN) → ReLU → MaxPool 2 → Conv2D(32, 3×3) → (BN) → ReLU → MaxPool 2 → Flatten → Dense(10, softmax)"}
	return r, nil
}
