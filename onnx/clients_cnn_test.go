package onnx

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

// ortRun runs the ONNX model b in ONNX Runtime on x (fed as float32) and
// returns its output.
func ortRun(t *testing.T, modules string, b []byte, x *tensor.Tensor) []float32 {
	t.Helper()
	dir := t.TempDir()
	mPath, xPath, yPath := filepath.Join(dir, "model.onnx"), filepath.Join(dir, "x.f32"), filepath.Join(dir, "y.f32")
	xs := x.As(tensor.Float32).Float32s() // a uint8 x's values, not its nil float slice
	raw := make([]byte, 0, 4*len(xs))
	for _, v := range xs {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	if err := os.WriteFile(xPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var dims []string
	for _, d := range x.Shape()[1:] {
		dims = append(dims, strconv.Itoa(d))
	}
	runClient(t, []string{"NODE_PATH=" + modules}, "node", filepath.Join("testdata", "ort_run.js"),
		mPath, xPath, strconv.Itoa(x.Dim(0)), strings.Join(dims, ","), yPath)
	y, err := os.ReadFile(yPath)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, len(y)/4)
	for i := range got {
		got[i] = math.Float32frombits(binary.LittleEndian.Uint32(y[4*i:]))
	}
	return got
}

// TestONNXRuntimeCNN runs examples/cnn.json, trained for 40 seeded steps
// of 32 MNIST images, in ONNX Runtime on the 10,000 MNIST test images,
// folded and not, at opsets 13 and 17: every probability within 1e-5 of
// Predict's, every class the same. Then each small convolutional model
// of cnnModels on random images, within 1e-5.
func TestONNXRuntimeCNN(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a CNN and runs ONNX Runtime on 10,000 images: skipped with -short")
	}
	modules := ortModules(t)
	train, test, err := mnist.Load()
	if err != nil {
		t.Fatal(err)
	}
	cnn, err := model.ReadArchitecture("../examples/cnn.json")
	if err != nil {
		t.Fatal(err)
	}
	s := train.Slice(0, 40*32)
	sx, err := s.X()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cnn.Fit(context.Background(), sx,
		tensor.FromFloat32(s.OneHot(), s.N, 10), model.FitOptions{Epochs: 1, BatchSize: 32, Verbose: 0}); err != nil {
		t.Fatal(err)
	}
	x, err := test.X()
	if err != nil {
		t.Fatal(err)
	}
	want := predict(t, cnn, x).Float32s()
	// A model that predicts one class everywhere would agree with ONNX
	// Runtime trivially: the training must have taught it something. (40
	// steps leave the BN moving statistics mostly at their initial values,
	// so inference accuracy is modest; about 50% here.)
	right := 0
	for i := range test.N {
		if argmax(want[10*i:10*i+10]) == int(test.Labels[i]) {
			right++
		}
	}
	if right < test.N*3/10 {
		t.Fatalf("the CNN classifies %d of %d test images after 40 steps, want at least 30%% (a constant class gets at most 11.35%%)", right, test.N)
	}
	t.Logf("the CNN classifies %d of %d test images", right, test.N)
	for _, o := range []Options{{}, {FoldBN: true}, {Opset: 17}, {Opset: 17, FoldBN: true}} {
		var buf bytes.Buffer
		if err := Export(&buf, cnn, o); err != nil {
			t.Fatal(err)
		}
		got := ortRun(t, modules, buf.Bytes(), x)
		if len(got) != len(want) {
			t.Fatalf("%+v: ONNX Runtime gave %d values, want %d", o, len(got), len(want))
		}
		worst, at := 0.0, 0
		for i := range got {
			if d := math.Abs(float64(got[i] - want[i])); d > worst || d != d {
				worst, at = d, i
			}
		}
		if !(worst <= 1e-5) {
			t.Errorf("%+v: image %d class %d: ONNX Runtime %g, Predict %g: |Δp| %g > 1e-5", o, at/10, at%10, got[at], want[at], worst)
		}
		agree := 0
		for i := range test.N {
			if argmax(got[10*i:10*i+10]) == argmax(want[10*i:10*i+10]) {
				agree++
			}
		}
		if agree != test.N {
			t.Errorf("%+v: ONNX Runtime and Predict agree on %d of %d classes, want all", o, agree, test.N)
		}
		t.Logf("%+v: max |Δp| %.3g, %d/%d classes agree", o, worst, agree, test.N)
	}

	for _, e := range cnnModels(t) {
		if e.name == "examples/cnn.json" || e.m.DType != tensor.Float32 {
			continue // above, trained; ort_run.js feeds float32
		}
		for _, o := range []Options{{}, {FoldBN: true, Opset: 17}} {
			var buf bytes.Buffer
			if err := Export(&buf, e.m, o); err != nil {
				t.Fatal(err)
			}
			x := randomInput(e.m, 7, 5)
			want := values(predict(t, e.m, x))
			got := ortRun(t, modules, buf.Bytes(), x)
			if len(got) != len(want) {
				t.Fatalf("%s %+v: ONNX Runtime gave %d values, want %d", e.name, o, len(got), len(want))
			}
			g := make([]float64, len(got))
			for i, v := range got {
				g[i] = float64(v)
			}
			if i, diff := maxDiff(g, want); diff > 1e-5 {
				t.Errorf("%s %+v: output %d: ONNX Runtime %g, Predict %g (|Δ| %g > 1e-5)", e.name, o, i, g[i], want[i], diff)
			}
		}
	}
}
