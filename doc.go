// Package myelin is a deep-learning library for Go: tensors, reverse-mode
// automatic differentiation, layers (Dense, BatchNormalization, Dropout),
// optimizers, losses, metrics and a Keras-like Sequential model.
//
// Package map (the dependency arrow points down the list):
//
//	tensor            dense row-major float32/float64 arrays, ShapeError
//	internal/kernel   the loops: plain Go reference plus amd64 assembly
//	autodiff          Var, Tape, Backward: reverse-mode differentiation
//	nn                differentiable functions: MatMul, BatchNorm, SoftmaxCrossEntropy, ...
//	layers            Dense, BatchNormalization, Activation, Dropout; initializers
//	optimizers        SGD, Adam, RMSprop, gradient clipping
//	losses, metrics   Keras's losses and accuracies
//	model             Sequential: Compile, Fit, Evaluate, Predict, Summary, Save, Load
//	data, data/idx, data/mnist   datasets, the IDX format, MNIST embedded
//	safetensors       the safetensors file format
//	cmd/myelin        the command-line tool
package myelin
