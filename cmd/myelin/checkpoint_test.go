package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/data/idx"
	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/internal/atomicfile"
	"github.com/myelin-go/myelin/model"
)

// ckDataDir writes ntrain training and ntest test samples of MNIST,
// shrunk to 7×7 pixels (the mean of each 4×4 block), as the four IDX files
// of a --data-dir: a dataset whose founding model trains and checkpoints in
// a few milliseconds a step.
func ckDataDir(t testing.TB, ntrain, ntest int) string {
	t.Helper()
	train, test, err := mnist.Load()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(s *mnist.Set, images, labels string) {
		px := make([]byte, s.N*49)
		for n := range s.N {
			for r := range 7 {
				for c := range 7 {
					var sum float64
					for i := range 4 {
						for j := range 4 {
							sum += float64(float32(s.Pixels[n*784+(4*r+i)*28+4*c+j]) / 255) // the value a model sees
						}
					}
					px[n*49+r*7+c] = byte(math.Round(sum / 16 * 255))
				}
			}
		}
		for name, a := range map[string]*idx.Array{
			images: {Type: idx.Uint8, Dims: []int{s.N, 7, 7}, Data: px},
			labels: {Type: idx.Uint8, Dims: []int{s.N}, Data: s.Labels[:s.N]},
		} {
			f, err := os.Create(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := idx.Write(f, a); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(train.Slice(0, ntrain), mnist.TrainImages, mnist.TrainLabels)
	write(test.Slice(0, ntest), mnist.TestImages, mnist.TestLabels)
	return dir
}

// ckRun runs myelin in-process and returns its exit status and output.
func ckRun(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(ctx, args, &o, &e)
	return code, o.String(), e.String()
}

type trainResult struct {
	Epochs   int                  `json:"epochs"`
	TestLoss float64              `json:"test_loss"`
	History  map[string][]float64 `json:"history"`
}

func parseTrain(t *testing.T, stdout string) trainResult {
	t.Helper()
	var r trainResult
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("train --json output: %v\n%s", err, stdout)
	}
	return r
}

// TestTrainResumeCLI trains 3 epochs straight, and the same run stopped
// after 2 epochs and, separately, cancelled mid-epoch, each resumed with
// --resume: the saved models must be byte for byte the same file, and the
// histories equal.
func TestTrainResumeCLI(t *testing.T) {
	data := ckDataDir(t, 600, 100)
	tmp := t.TempDir()
	common := []string{"train", "--data-dir", data, "--batch-size", "50", "--validation-split", "0.1", "--verbose", "0", "--json"}
	args := func(extra ...string) []string { return append(append([]string(nil), common...), extra...) }

	code, out, errOut := ckRun(context.Background(), args("--epochs", "3", "--out", filepath.Join(tmp, "ref.safetensors"))...)
	if code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, errOut)
	}
	ref := parseTrain(t, out)
	refModel, err := os.ReadFile(filepath.Join(tmp, "ref.safetensors"))
	if err != nil {
		t.Fatal(err)
	}

	// Stopped at an epoch end, then resumed with more epochs.
	dir := filepath.Join(tmp, "ck1")
	if code, _, errOut := ckRun(context.Background(), args("--epochs", "2", "--out", "", "--checkpoint-dir", dir)...); code != 0 {
		t.Fatalf("first part: exit %d\n%s", code, errOut)
	}
	code, out, errOut = ckRun(context.Background(), "train", "--resume", dir, "--epochs", "3", "--json", "--verbose", "0", "--out", filepath.Join(tmp, "a.safetensors"))
	if code != 0 {
		t.Fatalf("resumed run: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "Resuming from "+filepath.Join(dir, model.CheckpointName(22))) {
		t.Errorf("stderr %q does not say where it resumed from", errOut)
	}
	checkSame(t, "after resuming at an epoch end", parseTrain(t, out), ref, filepath.Join(tmp, "a.safetensors"), refModel)

	// Cancelled part way through an epoch: in the middle of writing its
	// first checkpoint (step 4 of 11), so Fit stops at the next step.
	dir = filepath.Join(tmp, "ck2")
	ctx, cancel := context.WithCancel(context.Background())
	atomicfile.TestHookWritten = func(path, _ string) {
		if strings.HasPrefix(filepath.Base(path), "ckpt-") {
			cancel()
		}
	}
	t.Cleanup(func() { atomicfile.TestHookWritten = nil })
	code, _, errOut = ckRun(ctx, args("--epochs", "3", "--out", "", "--checkpoint-dir", dir, "--checkpoint-every", "4")...)
	cancel()
	atomicfile.TestHookWritten = nil
	if code != 1 || !strings.Contains(errOut, "interrupted") || !strings.Contains(errOut, "to continue: myelin train --resume "+dir) {
		t.Fatalf("cancelled run: exit %d, stderr %q; want 1 and how to continue", code, errOut)
	}
	code, out, errOut = ckRun(context.Background(), "train", "--resume", dir, "--json", "--verbose", "0", "--out", filepath.Join(tmp, "b.safetensors"))
	if code != 0 {
		t.Fatalf("resumed run: exit %d\n%s", code, errOut)
	}
	t.Logf("resumed: %s", strings.TrimSpace(errOut))
	checkSame(t, "after resuming a cancelled run", parseTrain(t, out), ref, filepath.Join(tmp, "b.safetensors"), refModel)
}

func checkSame(t *testing.T, what string, got, want trainResult, modelPath string, wantModel []byte) {
	t.Helper()
	if !reflect.DeepEqual(got.History, want.History) || got.Epochs != want.Epochs {
		t.Errorf("%s: history %v, want %v", what, got.History, want.History)
	}
	if got.TestLoss != want.TestLoss {
		t.Errorf("%s: test loss %v, want %v", what, got.TestLoss, want.TestLoss)
	}
	b, err := os.ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, wantModel) {
		t.Errorf("%s: the saved model differs from the uninterrupted run's", what)
	}
}

// TestTrainResumeErrors checks conflicting flags and missing checkpoints.
func TestTrainResumeErrors(t *testing.T) {
	data := ckDataDir(t, 200, 50)
	dir := filepath.Join(t.TempDir(), "ck")
	if code, _, errOut := ckRun(context.Background(), "train", "--data-dir", data, "--epochs", "1", "--batch-size", "40", "--verbose", "0", "--out", "", "--checkpoint-dir", dir); code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--resume", dir, "--batch-size", "32", "--lr", "0.1"}, 2, []string{"--batch-size 32 (the checkpoint has 40)", "--lr 0.1 (the checkpoint has 0.001)"}}, // the rate used, not --lr 0 for "the default"
		{[]string{"--resume", dir, "--batch-size", "40", "--epochs", "2", "--data-dir", data}, 0, nil},
		{[]string{"--resume", filepath.Join(t.TempDir(), "none")}, 1, []string{"no such file"}},
		{[]string{"--resume", t.TempDir()}, 1, []string{"no checkpoint"}},
		{[]string{"--checkpoint-dir", filepath.Join(t.TempDir(), "ck2"), "--checkpoint-every", "-1"}, 2, []string{"--checkpoint-every -1"}},
		{[]string{"--checkpoint-every", "5"}, 2, []string{"--checkpoint-every applies to checkpoints: give --checkpoint-dir DIR too"}},
		{[]string{"--keep", "5"}, 2, []string{"--keep applies to checkpoints: give --checkpoint-dir DIR too"}},
		{[]string{"--resume", dir, "--epochs", "0"}, 2, []string{"--epochs 0 must be at least 1"}},
	} {
		code, _, errOut := ckRun(context.Background(), append([]string{"train", "--verbose", "0", "--out", ""}, tc.args...)...)
		if code != tc.code {
			t.Errorf("%q: exit %d, want %d\n%s", tc.args, code, tc.code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%q: stderr %q does not contain %q", tc.args, errOut, w)
			}
		}
	}
}
