package onnx

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/tensor"
)

// TestImportCNNRoundTrip imports each convolutional model Export writes,
// folded and not: it computes what the model computes, and unfolded its
// weights are the file's bit for bit. The two models with a layer Import
// does not read (Rescaling) fail naming its node.
func TestImportCNNRoundTrip(t *testing.T) {
	for _, e := range cnnModels(t) {
		t.Run(e.name, func(t *testing.T) {
			for _, fold := range []bool{false, true} {
				_, b := exportDecode(t, e.m, Options{FoldBN: fold})
				m, err := Import(bytes.NewReader(b))
				if e.name == "reshape" || e.name == "bn-fold" {
					if err == nil || !strings.HasPrefix(err.Error(), `onnx: node "rescaling/Mul" (Mul)`) {
						t.Fatalf("fold %v: err = %v, want one naming the Rescaling's Mul", fold, err)
					}
					continue
				}
				if strings.HasPrefix(e.name, "depthwise") { // Import reads no grouped Conv, nor its kernel's Reshape
					if err == nil || !strings.HasPrefix(err.Error(), `onnx: node "depthwise_conv2d/`) {
						t.Fatalf("fold %v: err = %v, want one naming the depthwise layer's node", fold, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("fold %v: %v", fold, err)
				}
				sameModel(t, m, e.m, fold)
			}
		})
	}
}

// TestImportPyTorchCNN imports what PyTorch 1.13's torch.onnx.export wrote
// for Conv2d → BatchNorm2d → ReLU → MaxPool2d → Conv2d → ReLU → Flatten →
// Linear → Softmax on NCHW images (testdata/gen_pytorch_cnn.py): once with
// the batch norm folded into the convolution, as PyTorch exports by
// default, and once with it kept. The kernels are OIHW and the Flatten is
// of an NCHW tensor, so the Linear's rows are reordered; the predictions
// must be PyTorch's on the saved input.
func TestImportPyTorchCNN(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "pytorch_cnn.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct{ Input, Output [][]float64 }
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	var x, want []float64
	for i := range ref.Input {
		x, want = append(x, ref.Input[i]...), append(want, ref.Output[i]...)
	}
	for _, tc := range []struct{ file, layers string }{
		{"pytorch_cnn.onnx", "Conv2D Activation MaxPooling2D Conv2D Activation Flatten Dense"},
		{"pytorch_cnn_bn.onnx", "Conv2D BatchNormalization Activation MaxPooling2D Conv2D Activation Flatten Dense"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m, err := Import(f)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, l := range m.Layers {
				types = append(types, l.Type())
			}
			if got := strings.Join(types, " "); got != tc.layers {
				t.Errorf("got layers %s, want %s", got, tc.layers)
			}
			if got := m.InputShape(); !slices.Equal(got, []int{10, 10, 1}) {
				t.Errorf("input shape %v, want NHWC (10, 10, 1)", got)
			}
			in := tensor.FromFloat64(x, len(ref.Input), 10, 10, 1).As(tensor.Float32)
			if i, diff := maxDiff(values(predict(t, m, in)), want); diff > 1e-5 {
				t.Errorf("output %d: myelin %g, PyTorch %g (|Δ| %g > 1e-5)", i, values(predict(t, m, in))[i], want[i], diff)
			}
		})
	}
}
