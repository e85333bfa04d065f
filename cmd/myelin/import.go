package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/myelin-go/myelin/onnx"
)

var importCmd = &command{
	name:  "import",
	usage: "myelin import --onnx FILE [--out FILE]",
	short: "read an ONNX model into a model file",
	long: `Import reads an ONNX model made of the operators "myelin export" writes
(Gemm, Relu, Sigmoid, Tanh, Softmax over the last axis, BatchNormalization
in inference form) as a chain, and saves it as a myelin model file for
evaluate, predict and summary. PyTorch's Gemm form (transB 1, weights
(out, in)) is read too. Weights keep their bits: a model exported without
--fold-bn imports with the same weights and layers, less its Dropout and
linear Activation layers, which leave nothing in an ONNX graph. Any other
operator is an error naming the node.

Example:

	myelin import --onnx model.onnx --out imported.safetensors`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
		path := fs.String("onnx", "", "the ONNX `file` to read (required)")
		out := fs.String("out", "model.safetensors", "save the model to `file`")
		return func(ctx context.Context, e *env) error {
			if len(e.args) > 0 {
				return usagef("unexpected arguments %q", e.args)
			}
			if *path == "" {
				return usagef("--onnx is required")
			}
			if *out == "" {
				return usagef("--out must name a file")
			}
			f, err := os.Open(*path)
			if err != nil {
				return err
			}
			defer f.Close()
			m, err := onnx.Import(f)
			if err != nil {
				return fmt.Errorf("%s: %w", *path, err)
			}
			if err := m.Save(*out); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "wrote %s: %d layers from %s\n", *out, len(m.Layers), *path)
			return nil
		}
	},
}
