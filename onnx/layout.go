package onnx

import "github.com/myelin-go/myelin/tensor"

// Layout: myelin keeps images channels last, (batch, height, width,
// channels), and ONNX's Conv, MaxPool, AveragePool and GlobalAveragePool
// take them channels first, (batch, channels, height, width). The exported
// graph keeps myelin's input (the same NHWC or flat input Predict takes)
// and transposes as rarely as it can: a spatial layer given an NHWC value
// transposes it to NCHW once, the layers that do not care about the order
// (elementwise activations, Dropout, Rescaling, BatchNormalization, which
// ONNX runs on axis 1 anyway) pass NCHW values on as they are, and only a
// layer that reads the order (Flatten, Reshape, Dense, a softmax over the
// channels, a layer type this file does not know) or the graph's output
// transposes back. A chain Conv → BN → ReLU → MaxPool → Conv → ... →
// Flatten thus has one transpose at each end.

// layoutAware lists the layer types whose exporters accept an NCHW value;
// Marshal gives every other exporter an NHWC one.
var layoutAware = map[string]bool{
	"Conv2D":                 true,
	"DepthwiseConv2D":        true,
	"MaxPooling2D":           true,
	"AveragePooling2D":       true,
	"GlobalAveragePooling2D": true,
	"BatchNormalization":     true,
	"Activation":             true,
	"Dropout":                true,
	"Rescaling":              true,
}

// Permutations between NHWC and NCHW.
var (
	nhwcToNCHW = []int64{0, 3, 1, 2}
	nchwToNHWC = []int64{0, 2, 3, 1}
)

// toNCHW returns x channels first, adding a Transpose named
// prefix+"/to_nchw" when x is channels last. x must be an image.
func toNCHW(g *Graph, prefix string, x Value) (Value, error) {
	if x.NCHW {
		return x, nil
	}
	out, err := g.Node("Transpose", prefix+"/to_nchw", []string{x.Name}, IntsAttr("perm", nhwcToNCHW...))
	return Value{Name: out, Shape: x.Shape, NCHW: true}, err
}

// toNHWC returns x in myelin's order, adding a Transpose named
// prefix+"/to_nhwc" when x is channels first.
func toNHWC(g *Graph, prefix string, x Value) (Value, error) {
	if !x.NCHW {
		return x, nil
	}
	out, err := g.Node("Transpose", prefix+"/to_nhwc", []string{x.Name}, IntsAttr("perm", nchwToNHWC...))
	return Value{Name: out, Shape: x.Shape}, err
}

// isImage reports whether s is the feature shape of an image, (height,
// width, channels).
func isImage(s tensor.Shape) bool { return len(s) == 3 }
