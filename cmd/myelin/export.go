package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/myelin-go/myelin/internal/atomicfile"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/onnx"
)

var exportCmd = &command{
	name:  "export",
	usage: "myelin export --model FILE [--out FILE] [--opset N] [--fold-bn]",
	short: "write a saved model as an ONNX file",
	long: `Export writes a saved model as an ONNX model that ONNX Runtime and other
ONNX clients can run. The graph takes "input", a batch of float32 (float64
for a float64 model) shaped like the model's input (batch, features) or
(batch, height, width, channels), and returns "output", the probabilities
that "myelin predict" prints; its initializers carry the model file's
tensor names. Dense, Conv2D, the pooling layers, Flatten, Reshape,
Rescaling, Activation, BatchNormalization and Dropout layers are written
(convolutions run channels first inside the graph, between two
Transposes); any other layer is an error naming it.

--fold-bn folds each batch normalization into a neighbouring Dense or
Conv2D layer (the one before it when that layer is linear, else a Dense
after it), which leaves fewer operators and the same predictions up to
float rounding; one with nothing to fold into stays an operator.

Example:

	myelin export --model model.safetensors --out model.onnx --fold-bn`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
		path := fs.String("model", "", "the model `file` to export (required)")
		out := fs.String("out", "model.onnx", "write the ONNX model to `file`")
		opset := fs.Int("opset", onnx.DefaultOpset, "ONNX operator set `version`, 13 to 17")
		fold := fs.Bool("fold-bn", false, "fold batch normalization into Dense and Conv2D layers")
		return func(ctx context.Context, e *env) error {
			if len(e.args) > 0 {
				return usagef("unexpected arguments %q", e.args)
			}
			if *path == "" {
				return usagef("--model is required")
			}
			if *out == "" {
				return usagef("--out must name a file")
			}
			ir, err := onnx.IRVersion(*opset)
			if err != nil {
				return usagef("--opset %d: the opsets written are 13 to 17", *opset)
			}
			m, err := model.Load(*path)
			if err != nil {
				return err
			}
			// Marshal first, so that a model that cannot be exported leaves
			// no file, then write atomically: an old file at --out survives
			// a failed write.
			b, err := onnx.Marshal(m, onnx.Options{Opset: *opset, FoldBN: *fold})
			if err != nil {
				return err
			}
			// atomicfile's errors name the file.
			if err := atomicfile.WriteFile(*out, 0o644, func(w io.Writer) error {
				_, err := w.Write(b)
				return err
			}); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "wrote %s: ONNX opset %d (IR version %d), %d bytes\n", *out, *opset, ir, len(b))
			return nil
		}
	},
}
