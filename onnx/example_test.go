package onnx_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/onnx"
)

// Export the founding model, its batch normalizations folded into the
// Dense layers after them, as an ONNX file for ONNX Runtime.
func ExampleExport() {
	m := model.NewSequential(
		layers.NewDense(64, nn.ActReLU),
		layers.NewBatchNormalization(),
		layers.NewDense(64, nn.ActReLU),
		layers.NewBatchNormalization(),
		layers.NewDense(10, nn.ActSoftmax),
	)
	if err := m.Build(784); err != nil { // or model.Load a trained model
		log.Fatal(err)
	}
	var full, folded bytes.Buffer
	if err := onnx.Export(&full, m, onnx.Options{}); err != nil {
		log.Fatal(err)
	}
	if err := onnx.Export(&folded, m, onnx.Options{FoldBN: true}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("folding drops the 4 statistics of 64 float32s of each BN:", full.Len()-folded.Len() > 2*4*64*4)
	// Output:
	// folding drops the 4 statistics of 64 float32s of each BN: true
}
