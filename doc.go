// Package myelin is a deep-learning library for Go: tensors, reverse-mode
// automatic differentiation, layers (Dense, BatchNormalization, Dropout),
// optimizers, losses, metrics and a Keras-like Sequential model, with
// callbacks that monitor training, reports and TensorBoard logs.
//
// Package map, by level: a package imports only packages of lower levels,
// so the dependency arrows all point up this list (kernel ← tensor ←
// autodiff ← nn ← layers ← model ← callbacks/monitor/tensorboard ←
// report ← experiment ← cmd). TestImportLevels checks it.
//
//	0  internal/kernel      the loops: plain Go reference plus amd64 assembly
//	0  internal/atomicfile  crash-safe file writes (temporary, sync, rename)
//	0  internal/jsonstrict  the one strict JSON decoder
//	0  internal/protowire   protobuf wire format by hand, for onnx and tensorboard
//	0  internal/term        terminal detection
//	0  internal/golden      PyTorch-generated reference values, for tests
//	0  internal/vulngate    the CI's vulnerability gate (a command)
//	0  data/idx             the IDX file format (MNIST's)
//	0  data/csv, data/npy   CSV and NumPy .npy readers
//	0  data/imagefile       PNG, JPEG and GIF pictures to model input (BT.601 luma, area average)
//	0  optimizers/schedules learning-rate schedules: Keras's decays
//	1  tensor               dense row-major float32/float64 arrays (and read-only uint8 input data), ShapeError
//	1  safetensors          the safetensors file format
//	1  reduce               sums across shards and ranks in one fixed order (Group, Tree, Local)
//	2  autodiff             Var, Tape, Backward: reverse-mode differentiation
//	2  distributed          MPI ranks for data-parallel training (cgo with -tags mpi; a world of one without)
//	2  data/mnist           MNIST, embedded; its pixels as uint8 tensors
//	3  nn                   differentiable functions: Dense, BatchNorm, SoftmaxCrossEntropy, ...
//	3  metrics              Keras's accuracies and means
//	3  internal/gradcheck   central differences in float64, for tests
//	4  layers               Layer, Pass, Weight, the registry; Dense, BatchNormalization, Activation, Dropout
//	4  losses               Keras's losses, fused with softmax or sigmoid
//	4  optimizers           SGD, Adam, RMSprop, gradient clipping
//	5  model                Sequential: Compile, Fit, Evaluate, Predict, Summary, Save, Load, checkpoints
//	6  callbacks            Keras's callbacks: EarlyStopping, ReduceLROnPlateau, CSVLogger, ...
//	6  monitor              callbacks recording gradient health, batch-norm drift, percentiles
//	6  tensorboard          a callback writing TensorBoard event files
//	6  onnx                 ONNX export and import, with a registry of layer exporters
//	7  report               training reports: charts and an HTML page, from monitors' records
//	8  experiment           the batch-normalization experiments of Ioffe and Szegedy
//	9  cmd/myelin           the command-line tool
//	9  bench/compare        speed against peers (a command)
package myelin
