package onnx

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// The tests here run the exported files in real ONNX clients: ONNX
// Runtime (npm's onnxruntime-node, driven by testdata/ort_run.js) and the
// onnx package's checker (Debian's python3-onnx). Each skips, naming what
// to install, when its client is missing, except where .ci/run sets
// MYELIN_REQUIRE_ONNXRUNTIME=1 or MYELIN_REQUIRE_ONNX_CHECKER=1: there a
// missing client fails the test.

// clientTimeout bounds each run of a client; one that hangs fails the
// test with what it was running.
const clientTimeout = 5 * time.Minute

// need skips t with msg, or fails it when env is set to 1.
func need(t *testing.T, env, msg string) {
	t.Helper()
	if os.Getenv(env) == "1" {
		t.Fatalf("%s (%s=1: required here)", msg, env)
	}
	t.Skip(msg)
}

// runClient runs name args with a deadline and returns its stdout, failing
// t with the command and its stderr on any error.
func runClient(t *testing.T, env []string, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			t.Fatalf("%s %q: no result within %s", name, args, clientTimeout)
		}
		t.Fatalf("%s %q: %v\n%s", name, args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// ortModules returns the node_modules directory holding onnxruntime-node:
// $MYELIN_ORT_NODE_MODULES, or testdata/ort/node_modules where .ci/run
// installs it.
func ortModules(t *testing.T) string {
	const env = "MYELIN_REQUIRE_ONNXRUNTIME"
	if _, err := exec.LookPath("node"); err != nil {
		need(t, env, "node is not on PATH: install Node.js to run the ONNX Runtime test")
	}
	dir := os.Getenv("MYELIN_ORT_NODE_MODULES")
	if dir == "" {
		dir = filepath.Join("testdata", "ort", "node_modules")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "onnxruntime-node", "package.json")); err != nil {
		need(t, env, "onnxruntime-node is not installed: run (cd onnx/testdata/ort && npm install --ignore-scripts), or set MYELIN_ORT_NODE_MODULES to a node_modules directory holding it")
	}
	return dir
}

// trained returns m compiled and fitted for 300 steps of 32 MNIST images
// (seeded, so the same every run), so that its BN statistics and weights
// are a trained model's.
func trained(t *testing.T, m *model.Sequential, train *mnist.Set) *model.Sequential {
	t.Helper()
	if err := m.CompileNames("adam", "categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	s := train.Slice(0, 300*32)
	x, err := s.X()
	if err != nil {
		t.Fatal(err)
	}
	y := tensor.FromFloat32(s.OneHot(), s.N, 10)
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 1, BatchSize: 32, Verbose: 0}); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestONNXRuntime runs exported models in ONNX Runtime on the 10,000 MNIST
// test images and compares with Predict: every probability within 1e-5,
// every predicted class the same.
func TestONNXRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two models and runs ONNX Runtime on 10,000 images: skipped with -short")
	}
	modules := ortModules(t)
	train, test, err := mnist.Load()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	xPath := filepath.Join(dir, "x.f32")
	x, err := test.X()
	if err != nil {
		t.Fatal(err)
	}
	xs := x.As(tensor.Float32).Float32s() // the pixels over 255, as Predict sees them
	raw := make([]byte, 0, 4*len(xs))
	for _, v := range xs {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	if err := os.WriteFile(xPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	found := trained(t, founding(t), train)
	acts := model.NewSequential(
		layers.NewDense(32, nn.ActSigmoid), layers.NewBatchNormalization(),
		layers.NewDense(32, nn.ActTanh), layers.NewActivation(nn.ActReLU), layers.NewDropout(0.1),
		layers.NewDense(32, nn.Linear), layers.NewBatchNormalization(), layers.NewActivation(nn.ActTanh),
		layers.NewDense(10, nn.ActReLU), layers.NewDense(10, nn.Linear), layers.NewActivation(nn.ActSoftmax),
	)
	acts = trained(t, build(t, acts, 784), train)
	for _, tc := range []struct {
		name string
		m    *model.Sequential
		o    Options
	}{
		{"founding", found, Options{}},
		{"founding/fold-bn", found, Options{FoldBN: true}},
		{"founding/opset17", found, Options{Opset: 17}},
		{"activations", acts, Options{}},
		{"activations/fold-bn", acts, Options{FoldBN: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Export(&buf, tc.m, tc.o); err != nil {
				t.Fatal(err)
			}
			mPath, yPath := filepath.Join(dir, "model.onnx"), filepath.Join(dir, "y.f32")
			if err := os.WriteFile(mPath, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			runClient(t, []string{"NODE_PATH=" + modules}, "node", filepath.Join("testdata", "ort_run.js"),
				mPath, xPath, strconv.Itoa(test.N), strconv.Itoa(test.Features()), yPath)
			b, err := os.ReadFile(yPath)
			if err != nil {
				t.Fatal(err)
			}
			want := predict(t, tc.m, x).Float32s()
			if len(b) != 4*len(want) {
				t.Fatalf("ONNX Runtime wrote %d bytes, want %d float32s", len(b), len(want))
			}
			got := make([]float32, len(want))
			for i := range got {
				got[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
			worst, at := 0.0, 0
			for i := range got {
				if d := math.Abs(float64(got[i] - want[i])); d > worst || d != d {
					worst, at = d, i
				}
			}
			if !(worst <= 1e-5) {
				t.Errorf("image %d class %d: ONNX Runtime %g, Predict %g: |Δp| %g > 1e-5", at/10, at%10, got[at], want[at], worst)
			}
			agree := 0
			for i := range test.N {
				if argmax(got[10*i:10*i+10]) == argmax(want[10*i:10*i+10]) {
					agree++
				}
			}
			if agree != test.N {
				t.Errorf("ONNX Runtime and Predict agree on %d of %d classes, want all", agree, test.N)
			}
			t.Logf("max |Δp| %.3g, %d/%d classes agree", worst, agree, test.N)
		})
	}
}

func argmax(p []float32) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

// TestONNXChecker runs onnx.checker.check_model(full_check=True) on every
// example model and convolutional model, folded and not, at each opset
// Export writes.
func TestONNXChecker(t *testing.T) {
	const env = "MYELIN_REQUIRE_ONNX_CHECKER"
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		need(t, env, "no "+python+": install Debian's python3-onnx (apt-get install python3-onnx) to run the ONNX checker test")
	}
	if err := exec.Command(python, "-c", "import onnx.checker").Run(); err != nil {
		need(t, env, python+" cannot import onnx: install Debian's python3-onnx (apt-get install python3-onnx)")
	}
	dir := t.TempDir()
	args := []string{filepath.Join("testdata", "check_model.py")}
	for _, e := range append(exampleModels(t), cnnModels(t)...) {
		for opset := 13; opset <= 17; opset++ {
			for _, fold := range []bool{false, true} {
				var buf bytes.Buffer
				if err := Export(&buf, e.m, Options{Opset: opset, FoldBN: fold}); err != nil {
					t.Fatal(err)
				}
				p := filepath.Join(dir, strings.ReplaceAll(e.name, "/", "_")+"-"+strconv.Itoa(opset)+"-"+strconv.FormatBool(fold)+".onnx")
				if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, p)
			}
		}
	}
	out := runClient(t, nil, python, args...)
	if n := bytes.Count(out, []byte("ok ")); n != len(args)-1 {
		t.Errorf("the checker passed %d of %d files:\n%s", n, len(args)-1, out)
	}

	// The checker can fail: a Relu reading a value nothing defines.
	g := newGraph(tensor.Float32, 13)
	if _, err := g.Node("Relu", "bad/Relu", []string{"undefined"}); err != nil {
		t.Fatal(err)
	}
	v := Value{Name: "input", Shape: tensor.Shape{3}}
	bad := filepath.Join(dir, "bad.onnx")
	if err := os.WriteFile(bad, encode(header{ir: 7, opset: 13, producerVersion: "test", name: "bad"}, g, v, g.finish(v)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(python, args[0], bad).CombinedOutput(); err == nil || !bytes.Contains(out, []byte("undefined")) {
		t.Errorf("got %v from the checker on a graph reading the undefined value \"undefined\", want a failure naming it:\n%s", err, out)
	}
}
