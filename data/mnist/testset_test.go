package mnist

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestLoadTestMatchesLoad checks that the test set alone is the one Load
// returns with the training set.
func TestLoadTestMatchesLoad(t *testing.T) {
	_, want, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadTest()
	if err != nil {
		t.Fatalf("LoadTest: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoadTest: got N %d, %d classes, %d×%d; want Load's test set: N %d, %d classes, %d×%d (or pixels or labels differ)",
			got.N, got.Classes, got.Rows, got.Cols, want.N, want.Classes, want.Rows, want.Cols)
	}
}

func TestLoadTestDir(t *testing.T) {
	dir := tinyDir(t)
	// Without the training files: only t10k-* are read.
	for _, base := range []string{TrainImages + ".gz", TrainLabels} {
		if err := os.Remove(filepath.Join(dir, base)); err != nil {
			t.Fatal(err)
		}
	}
	test, err := LoadTestDir(dir)
	if err != nil {
		t.Fatalf("LoadTestDir: %v", err)
	}
	if test.N != 2 || test.Rows != 2 || test.Cols != 3 {
		t.Errorf("got N %d, %d×%d; want 2, 2×3", test.N, test.Rows, test.Cols)
	}
	// Classes comes from the test labels alone: 3 and 0.
	if test.Classes != 4 {
		t.Errorf("Classes: got %d, want 4", test.Classes)
	}
	if got, want := test.Labels, []uint8{3, 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("labels: got %v, want %v", got, want)
	}
	if _, _, err := LoadDir(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadDir without training files: got %v, want an error matching fs.ErrNotExist", err)
	}
}

func TestLoadTestDirErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadTestDir(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty directory: got %v, want an error matching fs.ErrNotExist", err)
	}
	writeIDX(t, dir, TestImages, images(2, 2, 3, 0))
	writeIDX(t, dir, TestLabels, labels(1, 2, 0))
	var fe *FormatError
	if _, err := LoadTestDir(dir); !errors.As(err, &fe) || fe.Field != "count" {
		t.Errorf("3 labels for 2 images: got %v, want a *FormatError about the count", err)
	}
}
