package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseIDX(t *testing.T) {
	good := []byte{0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6}
	dims, data, err := parseIDX("good", good)
	if err != nil {
		t.Fatalf("parseIDX: %v", err)
	}
	if !slices.Equal(dims, []int{2, 3}) || !slices.Equal(data, []byte{1, 2, 3, 4, 5, 6}) {
		t.Errorf("got dims %v data %v, want [2 3] [1 2 3 4 5 6]", dims, data)
	}
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"short", []byte{0, 0}, "too short"},
		{"float", []byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0}, "magic"},
		{"cut header", []byte{0, 0, 8, 2, 0, 0, 0, 2}, "cut short"},
		{"missing data", good[:len(good)-1], "want 6"},
	} {
		if _, _, err := parseIDX(c.name, c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// writeIDX writes a gzipped IDX file of unsigned bytes.
func writeIDX(t *testing.T, path string, dims []int, data []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	hdr := []byte{0, 0, 8, byte(len(dims))}
	for _, d := range dims {
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(d))
	}
	zw.Write(hdr)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunOutput runs the program on a small made-up MNIST and checks the
// fields bench/compare reads.
func TestRunOutput(t *testing.T) {
	dir := t.TempDir()
	const n = 40
	img, lab := make([]byte, n*features), make([]byte, n)
	for i := range img {
		img[i] = byte(i * 7)
	}
	for i := range lab {
		lab[i] = byte(i % classes)
	}
	writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte.gz"), []int{n, 28, 28}, img)
	writeIDX(t, filepath.Join(dir, "train-labels-idx1-ubyte.gz"), []int{n}, lab)
	var out strings.Builder
	if err := run([]string{"--data", dir, "--batch", "8", "--steps", "7", "--warmup", "2"}, &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	var r struct {
		Peer          string
		Batch, Steps  int
		SamplesPerSec float64 `json:"samples_per_sec"`
		TrainSeconds  float64 `json:"train_seconds"`
	}
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if r.Peer != "gorgonia" || r.Batch != 8 || r.Steps != 7 {
		t.Errorf("got peer %q batch %d steps %d, want gorgonia 8 7", r.Peer, r.Batch, r.Steps)
	}
	if want := 7 * 8 / r.TrainSeconds; !(r.SamplesPerSec > 0) || math.Abs(r.SamplesPerSec-want) > 1e-6*want {
		t.Errorf("samples_per_sec %v, want steps×batch/train_seconds = %v", r.SamplesPerSec, want)
	}
	if err := run([]string{"--data", dir, "--batch", "41"}, io.Discard); err == nil || !strings.Contains(err.Error(), "more than the 40") {
		t.Errorf("batch larger than the data: got error %v, want one naming the 40 images", err)
	}
}
