// Package onnx writes a myelin model as an ONNX model (onnx.ai), so that
// ONNX Runtime and other ONNX clients can run it, and reads such a model
// back (Import). It stands alone like package safetensors: the protobuf is
// encoded and decoded by hand with the standard library, and nothing here
// is needed to train or run a model in myelin.
//
// Export writes the model's inference graph. The graph's input is
// "input", shaped ("batch", features...) with a symbolic batch dimension,
// exactly what Predict takes (images channels last, NHWC), and its output
// is "output", the model's Predict result (probabilities after a
// softmax). Elements are float32 (or float64 for a float64 model). Each
// layer becomes ONNX operators through the exporter registered for its
// type (Register):
//
//	Dense                   Gemm (x·kernel + bias), then its activation
//	Activation              Relu, Sigmoid, Tanh or Softmax (axis −1); linear adds nothing
//	BatchNormalization      BatchNormalization in inference form: moving mean and
//	                        variance, epsilon; scale 1 without Scale, bias 0 without Center
//	Dropout                 nothing: inference passes its input through
//	Conv2D                  Conv with explicit pads, its OIHW weight a Transpose of the
//	                        file's HWIO kernel, then its activation
//	DepthwiseConv2D         Conv with one group per input channel, its weight a Reshape
//	                        and Transpose of the file's (h, w, c, multiplier) kernel
//	MaxPooling2D            MaxPool with explicit pads
//	AveragePooling2D        AveragePool with explicit pads, count_include_pad 0
//	GlobalAveragePooling2D  GlobalAveragePool, then Flatten
//	Flatten                 Flatten (axis 1) of the channels-last image
//	Reshape                 Reshape to (0, target...), the shape an int64 initializer
//	Rescaling               Mul by "layer/scale", then Add "layer/offset"
//
// ONNX's Conv and pools take images channels first (NCHW): layout.go
// places one Transpose into that order before the first of a run of
// spatial layers and one back before whatever reads the order (Flatten,
// Reshape, Dense, a softmax, the output). Keras's "same" padding, the odd
// pixel after, is written as the pads it is, never as auto_pad.
//
// A layer type without an exporter, or a setting an exporter cannot write,
// is an error naming the layer (*LayerError), never a different model.
//
// Initializers carry the model file's tensor names (dense/kernel,
// batch_normalization/moving_mean, ...) and its values bit for bit.
// Tensors that are not in the file get names of their own: the scale and
// bias of a BatchNormalization without Scale or Center are
// "layer/unit_gamma" and "layer/zero_beta", a Reshape's shape is
// "layer/shape", a Rescaling's constants "layer/scale" and
// "layer/offset", and weights changed by folding end in "_folded". A
// Conv2D kernel stays the file's (height, width, in, out) tensor, also
// when folded, and the node "layer/kernel_oihw" transposes it for Conv.
//
// With Options.FoldBN, each BatchNormalization that can be folded into a
// neighbouring Dense, or into the Conv2D before it when that Conv2D's
// activation is linear, disappears from the graph; fold.go derives where.
//
// Opsets 13 to 17 can be written, 13 by default; the IR version follows
// the opset as ONNX's versioning table pairs them (13 and 14 with IR 7,
// 15 to 17 with IR 8).
//
// Import reads the operators back, as a chain: the dense ones and
// PyTorch's form of them (Gemm with transB), and convolutional graphs in
// Export's form (NHWC input, transposes around the NCHW part) and in
// PyTorch's (NCHW input, OIHW kernels, a Flatten of an NCHW tensor), whose
// imported model takes the same images as NHWC (import_cnn.go). See Import
// for the mapping.
package onnx

import (
	"errors"
	"fmt"
	"io"

	"github.com/myelin-go/myelin/model"
)

// DefaultOpset is the opset Export writes when Options.Opset is 0. ONNX
// Runtime has run opset 13 since version 1.7.
const DefaultOpset = 13

// irVersions pairs each opset this package writes with its IR version
// (ONNX's docs/Versioning.md: ONNX 1.8 is IR 7 / opset 13, 1.9 is 7/14,
// 1.10 is 8/15, 1.11 is 8/16, 1.12 is 8/17).
var irVersions = map[int]int{13: 7, 14: 7, 15: 8, 16: 8, 17: 8}

// IRVersion returns the IR version written with opset, or an error for an
// opset this package does not write.
func IRVersion(opset int) (int, error) {
	ir, ok := irVersions[opset]
	if !ok {
		return 0, fmt.Errorf("onnx: opset %d not supported (want 13 to 17)", opset)
	}
	return ir, nil
}

// Options changes what Export writes; the zero value writes opset 13
// without folding.
type Options struct {
	// Opset is the ONNX operator set version, 13 to 17; 0 means 13.
	Opset int
	// FoldBN folds BatchNormalization layers into neighbouring Dense
	// layers, and into a linear Conv2D before them, where the graph allows
	// (see fold.go); the rest stay nodes.
	FoldBN bool
	// ProducerVersion is written as producer_version; empty means the
	// version of the myelin module this program was built with.
	ProducerVersion string
}

// ErrUnsupported is wrapped by a LayerError for a layer type that has no
// registered exporter.
var ErrUnsupported = errors.New("no ONNX exporter for this layer type")

// LayerError reports a layer that cannot be exported.
type LayerError struct {
	Index int    // the layer's position in the model, from 0
	Name  string // the layer's name, e.g. "dense_1"
	Type  string // the layer's type, e.g. "Dense"
	Err   error  // why
}

// Error names the layer by position, name and type, then says why.
func (e *LayerError) Error() string {
	return fmt.Sprintf("onnx: layer %d %q (%s): %v", e.Index, e.Name, e.Type, e.Err)
}

// Unwrap returns Err, so that errors.Is(err, ErrUnsupported) works.
func (e *LayerError) Unwrap() error { return e.Err }

// Export writes m, which must be built, to w as an ONNX model.
func Export(w io.Writer, m *model.Sequential, opts Options) error {
	b, err := Marshal(m, opts)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("onnx: writing the model: %w", err)
	}
	return nil
}

// Marshal returns m, which must be built, as the bytes of an ONNX model.
func Marshal(m *model.Sequential, opts Options) ([]byte, error) {
	if m == nil || !m.Built() {
		return nil, fmt.Errorf("onnx: %w", model.ErrNotBuilt)
	}
	opset := opts.Opset
	if opset == 0 {
		opset = DefaultOpset
	}
	ir, err := IRVersion(opset)
	if err != nil {
		return nil, err
	}
	g := newGraph(m.DType, opset)
	folded := map[int]bool{}
	if opts.FoldBN {
		folded = foldBN(g, m.Layers)
	}
	in := Value{Name: "input", Shape: m.InputShape().Clone()}
	x := in
	for i, l := range m.Layers {
		if folded[i] {
			continue
		}
		exp := lookup(l.Type())
		if exp == nil {
			return nil, &LayerError{Index: i, Name: l.Name(), Type: l.Type(), Err: ErrUnsupported}
		}
		if x.NCHW && !layoutAware[l.Type()] {
			if x, err = toNHWC(g, l.Name(), x); err != nil {
				return nil, &LayerError{Index: i, Name: l.Name(), Type: l.Type(), Err: err}
			}
		}
		if x, err = exp(g, l, x); err != nil {
			return nil, &LayerError{Index: i, Name: l.Name(), Type: l.Type(), Err: err}
		}
	}
	if x, err = toNHWC(g, "output", x); err != nil {
		return nil, err
	}
	if !x.Shape.Equal(m.OutputShape()) {
		return nil, fmt.Errorf("onnx: the exported graph ends in shape %s, the model in %s", x.Shape, m.OutputShape())
	}
	out := g.finish(x)
	pv := opts.ProducerVersion
	if pv == "" {
		pv = Version()
	}
	return encode(header{ir: ir, opset: opset, producerVersion: pv, name: m.Name}, g, in, out), nil
}
