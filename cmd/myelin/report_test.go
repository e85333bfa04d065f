package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/data/idx"
	"github.com/myelin-go/myelin/data/mnist"
)

// writeSmallMNIST writes the first ntrain and ntest MNIST samples as the
// four IDX files of a --data-dir.
func writeSmallMNIST(t *testing.T, dir string, ntrain, ntest int) {
	t.Helper()
	train, test, err := mnist.Load()
	if err != nil {
		t.Fatal(err)
	}
	write := func(s *mnist.Set, images, labels string) {
		for name, a := range map[string]*idx.Array{
			images: {Type: idx.Uint8, Dims: []int{s.N, s.Rows, s.Cols}, Data: s.Pixels},
			labels: {Type: idx.Uint8, Dims: []int{s.N}, Data: s.Labels},
		} {
			var b bytes.Buffer
			if err := idx.Write(&b, a); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(train.Slice(0, ntrain), mnist.TrainImages, mnist.TrainLabels)
	write(test.Slice(0, ntest), mnist.TestImages, mnist.TestLabels)
}

func runMyelin(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	if code := run(context.Background(), args, &o, &e); code != 0 {
		t.Fatalf("myelin %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, o.String(), e.String())
	}
	return o.String(), e.String()
}

func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func TestTrainReport(t *testing.T) {
	data := t.TempDir()
	writeSmallMNIST(t, data, 600, 100)
	for _, tc := range []struct {
		name string
		args []string
		bn   bool
	}{
		{"founding", nil, true},
		{"no-batchnorm", []string{"--no-batchnorm"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "report")
			args := append([]string{"train", "--data-dir", data, "--epochs", "2", "--batch-size", "20",
				"--validation-split", "0.25", "--out", "", "--verbose", "0", "--report", dir}, tc.args...)
			stdout, _ := runMyelin(t, args...)
			if want := "Wrote the report to " + filepath.Join(dir, "index.html") + "\n"; !strings.Contains(stdout, want) {
				t.Errorf("stdout %q lacks %q", stdout, want)
			}

			// metrics.csv: a row per epoch with the training and validation metrics.
			rows := readCSVFile(t, filepath.Join(dir, "metrics.csv"))
			if got, want := strings.Join(rows[0], ","), "epoch,loss,accuracy,val_loss,val_accuracy"; got != want {
				t.Errorf("metrics.csv header %q, want %q", got, want)
			}
			if len(rows) != 3 || rows[1][0] != "1" || rows[2][0] != "2" {
				t.Errorf("metrics.csv: %q, want epochs 1 and 2", rows)
			}
			for _, row := range rows[1:] {
				for _, cell := range row[1:] {
					if v, err := strconv.ParseFloat(cell, 64); err != nil || math.IsNaN(v) {
						t.Errorf("metrics.csv cell %q is not a number", cell)
					}
				}
			}
			// 450 training samples / 20 = 23 steps per epoch, recorded every 10.
			steps := readCSVFile(t, filepath.Join(dir, "steps.csv"))
			if len(steps) != 1+4 || steps[0][0] != "step" || steps[1][0] != "10" {
				t.Errorf("steps.csv: %q, want steps 10, 20, 33, 43", steps)
			}

			health := readCSVFile(t, filepath.Join(dir, "health.csv"))
			layers := map[string]int{}
			for _, row := range health[1:] {
				layers[row[2]]++
			}
			wantLayers := 3 // Dense × 3
			if tc.bn {
				wantLayers = 5 // and BN × 2 (gamma and beta are trainable)
			}
			if len(layers) != wantLayers {
				t.Errorf("health.csv layers %v, want %d layers", layers, wantLayers)
			}

			wantPNG := []string{"loss", "accuracy", "loss-steps", "accuracy-steps", "gradient-norm", "update-ratio", "weight-norm", "dead-relu", "activation-percentiles"}
			if tc.bn {
				wantPNG = append(wantPNG, "bn-mean-drift", "bn-var-drift", "bn-gap", "bn-gamma")
			}
			pngs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
			if len(pngs) != len(wantPNG) {
				t.Errorf("%d PNG files %q, want %d", len(pngs), pngs, len(wantPNG))
			}
			for _, name := range wantPNG {
				b, err := os.ReadFile(filepath.Join(dir, name+".png"))
				if err != nil {
					t.Error(err)
					continue
				}
				if _, err := png.Decode(bytes.NewReader(b)); err != nil {
					t.Errorf("%s.png: %v", name, err)
				}
				if _, err := os.Stat(filepath.Join(dir, name+".svg")); err != nil {
					t.Error(err)
				}
			}
			// 46 steps: percentiles every 10 steps from step 0, for units 0-2 of
			// the last hidden Dense layer, 15th ≤ 50th ≤ 85th.
			pct := readCSVFile(t, filepath.Join(dir, "percentiles.csv"))
			if len(pct) != 1+5*3 || strings.Join(pct[0], ",") != "step,unit,p15,p50,p85" || pct[1][0] != "0" || pct[len(pct)-1][0] != "40" {
				t.Errorf("percentiles.csv: %q, want steps 0…40 for 3 units", pct)
			}
			for _, row := range pct[1:] {
				var v [3]float64
				for i := range v {
					v[i], _ = strconv.ParseFloat(row[2+i], 64)
				}
				if !(v[0] <= v[1] && v[1] <= v[2]) {
					t.Errorf("percentiles.csv row %q is not ordered", row)
				}
			}
			_, err := os.Stat(filepath.Join(dir, "batchnorm.csv"))
			if tc.bn != (err == nil) {
				t.Errorf("batchnorm.csv: %v, want it only with batch normalization", err)
			}

			page, err := os.ReadFile(filepath.Join(dir, "index.html"))
			if err != nil {
				t.Fatal(err)
			}
			if n := bytes.Count(page, []byte(`<img src="data:image/png;base64,`)); n != len(wantPNG) {
				t.Errorf("index.html embeds %d PNGs, want %d", n, len(wantPNG))
			}
			for _, s := range []string{"--validation-split", "0.25", "Gradient health", "health.csv", "test accuracy"} {
				if !bytes.Contains(page, []byte(s)) {
					t.Errorf("index.html lacks %q", s)
				}
			}
		})
	}
}

// With --json the report's path goes to standard error, so that standard
// output stays one JSON object.
func TestTrainReportJSON(t *testing.T) {
	data := t.TempDir()
	writeSmallMNIST(t, data, 200, 50)
	dir := filepath.Join(t.TempDir(), "r")
	stdout, stderr := runMyelin(t, "train", "--data-dir", data, "--epochs", "1", "--batch-size", "20", "--out", "", "--json", "--report", dir)
	var v map[string]any
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	if !strings.Contains(stderr, "Wrote the report to") {
		t.Errorf("stderr %q lacks the report's path", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		t.Error(err)
	}
}

// A nil report (no --report) adds no callbacks and writes nothing.
func TestNilTrainReport(t *testing.T) {
	r := newTrainReport("", nil, nil, 0, nil, 1)
	if r != nil || len(r.callbacks()) != 0 {
		t.Fatalf("newTrainReport(\"\"): got %v, want nil with no callbacks", r)
	}
	if err := r.write(nil, nil, nil, nil, nil, 0); err != nil {
		t.Error(err)
	}
}
