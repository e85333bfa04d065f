package onnx

import "github.com/myelin-go/myelin/layers"

func init() { Register("Dropout", exportDropout) }

// exportDropout adds nothing: at inference Dropout passes its input
// through, and an exported model only infers.
func exportDropout(_ *Graph, _ layers.Layer, x Value) (Value, error) { return x, nil }
