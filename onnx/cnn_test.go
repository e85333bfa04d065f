package onnx

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// cnnModels are small convolutional models, one or more per exporter, at
// odd sizes so that "same" padding has an odd pixel to place: valid and
// same, stride 2, dilation 2, pools with and without their own strides,
// Reshape to and from images, Rescaling, BN before and after a Conv.
func cnnModels(t testing.TB) []example {
	conv := func(f, k int, act nn.Activation, pad nn.Padding, stride, dil int) *layers.Conv2D {
		c := layers.NewConv2D(f, layers.Size2{k, k}, act)
		c.Padding, c.Strides, c.DilationRate = pad, layers.Size2{stride, stride}, layers.Size2{dil, dil}
		return c
	}
	maxPool := func(k, s int, pad nn.Padding) *layers.MaxPooling2D {
		p := layers.NewMaxPooling2D(layers.Size2{k, k})
		p.Strides, p.Padding = layers.Size2{s, s}, pad
		return p
	}
	avgPool := func(k, s int, pad nn.Padding) *layers.AveragePooling2D {
		p := layers.NewAveragePooling2D(layers.Size2{k, k})
		p.Strides, p.Padding = layers.Size2{s, s}, pad
		return p
	}
	noBias := conv(3, 2, nn.Linear, nn.Same, 2, 1)
	noBias.UseBias = false
	exs := []example{
		{"conv-valid", build(t, model.NewSequential(conv(4, 3, nn.ActReLU, nn.Valid, 1, 1)), 7, 9, 2), true},
		{"conv-same-stride2", build(t, model.NewSequential(conv(3, 3, nn.ActTanh, nn.Same, 2, 1)), 7, 8, 3), true},
		{"conv-same-dilation2", build(t, model.NewSequential(conv(2, 3, nn.ActSigmoid, nn.Same, 1, 2)), 9, 6, 2), true},
		{"conv-valid-stride2-dilation2", build(t, model.NewSequential(conv(5, 2, nn.Linear, nn.Valid, 2, 2), layers.NewFlatten()), 11, 10, 1), true},
		{"conv-softmax", build(t, model.NewSequential(conv(4, 1, nn.ActSoftmax, nn.Valid, 1, 1)), 3, 5, 2), true},
		{"maxpool", build(t, model.NewSequential(maxPool(3, 2, nn.Same), maxPool(2, 1, nn.Valid), maxPool(2, 0, nn.Valid)), 9, 11, 2), true},
		{"avgpool", build(t, model.NewSequential(avgPool(3, 2, nn.Same), avgPool(2, 1, nn.Valid), avgPool(2, 0, nn.Same)), 9, 11, 2), true},
		{"global-avgpool", build(t, model.NewSequential(conv(6, 3, nn.Linear, nn.Same, 1, 1), layers.NewGlobalAveragePooling2D(),
			layers.NewDense(3, nn.ActSoftmax)), 5, 7, 3), true},
		{"reshape", build(t, model.NewSequential(layers.NewRescaling(1.0/255, -0.5), layers.NewReshape(5, -1, 2),
			conv(3, 2, nn.ActReLU, nn.Valid, 1, 1), layers.NewReshape(-1, 3), layers.NewReshape(5, 4, 3), maxPool(2, 0, nn.Valid)), 60), true},
		{"bn-fold", build(t, model.NewSequential(layers.NewBatchNormalization(), noBias, layers.NewBatchNormalization(),
			layers.NewActivation(nn.ActReLU), layers.NewDropout(0.2), layers.NewRescaling(2, 1),
			conv(4, 3, nn.ActReLU, nn.Same, 1, 1), layers.NewBatchNormalization(), avgPool(2, 0, nn.Valid), layers.NewFlatten(),
			layers.NewBatchNormalization(), layers.NewDense(5, nn.ActSoftmax)), 9, 7, 2), false},
	}
	depthwise := func(k, mult int, act nn.Activation, pad nn.Padding, stride, dil int) *layers.DepthwiseConv2D {
		d := layers.NewDepthwiseConv2D(layers.Size2{k, k}, act)
		d.DepthMultiplier, d.Padding, d.Strides, d.DilationRate = mult, pad, layers.Size2{stride, stride}, layers.Size2{dil, dil}
		return d
	}
	dwNoBias := depthwise(3, 1, nn.Linear, nn.Valid, 1, 1)
	dwNoBias.UseBias = false
	exs = append(exs,
		example{"depthwise-same-mult2", build(t, model.NewSequential(depthwise(3, 2, nn.ActReLU, nn.Same, 1, 1),
			layers.NewBatchNormalization(), layers.NewActivation(nn.ActReLU), depthwise(2, 1, nn.Linear, nn.Valid, 2, 1)), 7, 8, 3), false},
		example{"depthwise-stride2-dilation2", build(t, model.NewSequential(depthwise(3, 3, nn.ActTanh, nn.Same, 2, 2), dwNoBias,
			conv(2, 1, nn.ActSoftmax, nn.Valid, 1, 1)), 11, 9, 2), true})
	f64 := model.NewSequential(conv(3, 3, nn.Linear, nn.Same, 2, 1), layers.NewBatchNormalization(),
		layers.NewActivation(nn.ActReLU), avgPool(2, 0, nn.Same), layers.NewFlatten(), layers.NewDense(2, nn.ActSoftmax))
	f64.DType = tensor.Float64
	exs = append(exs, example{"float64", build(t, f64, 5, 5, 2), true})
	cnn, err := model.ReadArchitecture("../examples/cnn.json")
	if err != nil {
		t.Fatal(err)
	}
	exs = append(exs, example{"examples/cnn.json", cnn, true})
	for i, e := range exs {
		randomizeBN(e.m, uint64(100+i))
	}
	return exs
}

// TestExportCNNMatchesPredict runs each convolutional model's export in
// the test interpreter, folded and not, at opsets 13 and 17.
func TestExportCNNMatchesPredict(t *testing.T) {
	for _, tc := range cnnModels(t) {
		for _, o := range []Options{{}, {FoldBN: true}, {Opset: 17}, {Opset: 17, FoldBN: true}} {
			t.Run(tc.name, func(t *testing.T) {
				d, _ := exportDecode(t, tc.m, o)
				x := randomInput(tc.m, 5, 3)
				if tc.name == "reshape" {
					for i, v := range values(x) { // bytes, as Rescaling expects them
						x.SetIndex(i, 255*v)
					}
				}
				want := predict(t, tc.m, x)
				got, shape, err := run(d.graph, values(x), x.Shape())
				if err != nil {
					t.Fatalf("%+v: %v", o, err)
				}
				if !tensor.Shape(shape).Equal(want.Shape()) {
					t.Fatalf("%+v: got output shape %v, want %s", o, shape, want.Shape())
				}
				if i, diff := maxDiff(got, values(want)); diff > 1e-5 {
					t.Errorf("%+v: output %d: got %g, Predict %g (|Δ| %g > 1e-5)", o, i, got[i], values(want)[i], diff)
				}
				if bns := slices.Index(ops(d.graph), "BatchNormalization") >= 0; o.FoldBN && tc.foldable && bns {
					t.Errorf("%+v: operators %v: want every BatchNormalization folded", o, ops(d.graph))
				}
			})
		}
	}
}

// TestCNNGraph checks the operators Export writes for examples/cnn.json:
// one transpose to channels first at the first convolution, one back
// before Flatten, the kernels transposed from the file's HWIO tensors,
// and with folding the BNs gone into the convolutions.
func TestCNNGraph(t *testing.T) {
	var cnn *model.Sequential
	for _, e := range cnnModels(t) {
		if e.name == "examples/cnn.json" {
			cnn = e.m
		}
	}
	for _, tc := range []struct {
		fold  bool
		ops   []string
		inits []string
	}{
		{false, []string{"Reshape", "Transpose", "Transpose", "Conv", "BatchNormalization", "Relu", "MaxPool",
			"Transpose", "Conv", "BatchNormalization", "Relu", "MaxPool", "Transpose", "Flatten", "Gemm", "Softmax"},
			[]string{"reshape/shape", "conv2d/kernel", "conv2d/bias", "batch_normalization/gamma", "batch_normalization/beta",
				"batch_normalization/moving_mean", "batch_normalization/moving_variance", "conv2d_1/kernel", "conv2d_1/bias",
				"batch_normalization_1/gamma", "batch_normalization_1/beta", "batch_normalization_1/moving_mean",
				"batch_normalization_1/moving_variance", "dense/kernel", "dense/bias"}},
		{true, []string{"Reshape", "Transpose", "Transpose", "Conv", "Relu", "MaxPool",
			"Transpose", "Conv", "Relu", "MaxPool", "Transpose", "Flatten", "Gemm", "Softmax"},
			[]string{"reshape/shape", "conv2d/kernel_folded", "conv2d/bias_folded", "conv2d_1/kernel_folded", "conv2d_1/bias_folded",
				"dense/kernel", "dense/bias"}},
	} {
		d, _ := exportDecode(t, cnn, Options{FoldBN: tc.fold})
		if got := ops(d.graph); !slices.Equal(got, tc.ops) {
			t.Errorf("fold %v: got operators %v, want %v", tc.fold, got, tc.ops)
		}
		var inits []string
		for _, in := range d.graph.inits {
			inits = append(inits, in.name)
		}
		if !slices.Equal(inits, tc.inits) {
			t.Errorf("fold %v: got initializers %v, want %v", tc.fold, inits, tc.inits)
		}
		for _, n := range d.graph.nodes {
			if n.op == "Transpose" && strings.HasSuffix(n.name, "/kernel_oihw") && !slices.Equal(n.attrs["perm"].ints, []int64{3, 2, 0, 1}) {
				t.Errorf("fold %v: %s perm %v, want HWIO → OIHW (3, 2, 0, 1)", tc.fold, n.name, n.attrs["perm"].ints)
			}
		}
	}
	// The unfolded kernel is the model file's tensor bit for bit.
	d, _ := exportDecode(t, cnn, Options{})
	f, err := cnn.File()
	if err != nil {
		t.Fatal(err)
	}
	for _, ft := range f.Tensors {
		if ft.Name != "conv2d/kernel" {
			continue
		}
		for _, in := range d.graph.inits {
			if in.name == ft.Name && !bytes.Equal(in.raw, ft.Data) {
				t.Errorf("initializer %s differs from the file's tensor", ft.Name)
			}
		}
	}
}
