package mnist

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/data/idx"
	"github.com/myelin-go/myelin/tensor"
)

func histogram(s *Set) []int {
	h := make([]int, s.Classes)
	for _, l := range s.Labels {
		h[l]++
	}
	return h
}

func TestLoad(t *testing.T) {
	train, test, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := []struct {
		name string
		s    *Set
		n    int
		hist []int // the well-known class counts of MNIST
	}{
		{"train", train, 60000, []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}},
		{"test", test, 10000, []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}},
	}
	for _, tt := range tests {
		s := tt.s
		if s.N != tt.n || len(s.Labels) != tt.n {
			t.Errorf("%s: got N %d, %d labels; want %d", tt.name, s.N, len(s.Labels), tt.n)
		}
		if s.Rows != 28 || s.Cols != 28 || s.Features() != 784 {
			t.Errorf("%s: got %d×%d (%d features), want 28×28 (784)", tt.name, s.Rows, s.Cols, s.Features())
		}
		if s.Classes != 10 {
			t.Errorf("%s: got %d classes, want 10", tt.name, s.Classes)
		}
		if len(s.Pixels) != tt.n*784 || cap(s.Pixels) != len(s.Pixels) {
			t.Errorf("%s: got %d pixels (capacity %d), want %d", tt.name, len(s.Pixels), cap(s.Pixels), tt.n*784)
		}
		h := histogram(s)
		if !reflect.DeepEqual(h, tt.hist) {
			t.Errorf("%s: label histogram: got %v, want %v", tt.name, h, tt.hist)
		}
		sum := 0
		for _, c := range h {
			sum += c
		}
		if sum != tt.n {
			t.Errorf("%s: histogram sums to %d, want %d", tt.name, sum, tt.n)
		}
		lo, hi := s.Pixels[0], s.Pixels[0]
		for _, p := range s.Pixels {
			lo, hi = min(lo, p), max(hi, p)
		}
		if lo != 0 || hi != 255 {
			t.Errorf("%s: pixel range: got [%v, %v], want [0, 255]", tt.name, lo, hi)
		}
	}
	if got := train.Labels[0]; got != 5 {
		t.Errorf("first training label: got %d, want 5", got)
	}
	if got := test.Labels[0]; got != 7 {
		t.Errorf("first test label: got %d, want 7", got)
	}
}

// writeIDX writes a as name in dir, gzip-compressed when name ends in .gz.
func writeIDX(t *testing.T, dir, name string, a *idx.Array) {
	t.Helper()
	var buf bytes.Buffer
	if err := idx.Write(&buf, a); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if strings.HasSuffix(name, ".gz") {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(b)
		zw.Close()
		b = z.Bytes()
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func images(n, rows, cols int, first byte) *idx.Array {
	data := make([]byte, n*rows*cols)
	for i := range data {
		data[i] = first + byte(i)
	}
	return &idx.Array{Type: idx.Uint8, Dims: []int{n, rows, cols}, Data: data}
}

func labels(l ...byte) *idx.Array {
	return &idx.Array{Type: idx.Uint8, Dims: []int{len(l)}, Data: l}
}

// tinyDir writes a small valid dataset: 3 training and 2 test images of
// 2×3 pixels, mixing plain and gzip files.
func tinyDir(t *testing.T) string {
	dir := t.TempDir()
	writeIDX(t, dir, TrainImages+".gz", images(3, 2, 3, 250))
	writeIDX(t, dir, TrainLabels, labels(0, 2, 1))
	writeIDX(t, dir, TestImages, images(2, 2, 3, 0))
	writeIDX(t, dir, TestLabels+".gz", labels(3, 0))
	return dir
}

func TestLoadDir(t *testing.T) {
	train, test, err := LoadDir(tinyDir(t))
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	if train.N != 3 || test.N != 2 || train.Rows != 2 || train.Cols != 3 {
		t.Fatalf("got N %d/%d, %d×%d; want 3/2, 2×3", train.N, test.N, train.Rows, train.Cols)
	}
	// Classes is the largest label of both splits plus one.
	if train.Classes != 4 || test.Classes != 4 {
		t.Errorf("Classes: got %d/%d, want 4/4", train.Classes, test.Classes)
	}
	if got, want := train.Pixels[:7], []uint8{250, 251, 252, 253, 254, 255, 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("train pixels: got %v, want %v", got, want)
	}
	x, err := train.X()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := x.As(tensor.Float32).Float32s()[:7], []float32{250.0 / 255, 251.0 / 255, 252.0 / 255, 253.0 / 255, 254.0 / 255, 1, 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("train X: got %v, want %v", got, want)
	}
	if got, want := test.Labels, []uint8{3, 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("test labels: got %v, want %v", got, want)
	}
}

func TestLoadDirErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    string     // file to replace in a valid dataset
		a       *idx.Array // its new content; nil removes it
		raw     []byte     // or raw bytes
		target  error
		mention string
	}{
		{"missing file", TestLabels + ".gz", nil, nil, fs.ErrNotExist, TestLabels},
		{"corrupt idx", TrainLabels, nil, []byte{0, 0, 0x08, 1, 0, 0, 0, 9, 1}, idx.ErrFormat, TrainLabels},
		{"corrupt gzip", TrainImages + ".gz", nil, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1}, idx.ErrFormat, TrainImages},
		{"int8 images", TrainImages + ".gz", &idx.Array{Type: idx.Int8, Dims: []int{3, 2, 3}, Data: make([]byte, 18)}, nil, ErrFormat, TrainImages},
		{"2-dim images", TestImages, &idx.Array{Type: idx.Uint8, Dims: []int{2, 6}, Data: make([]byte, 12)}, nil, ErrFormat, TestImages},
		{"2-dim labels", TrainLabels, &idx.Array{Type: idx.Uint8, Dims: []int{3, 1}, Data: make([]byte, 3)}, nil, ErrFormat, TrainLabels},
		{"float labels", TrainLabels, &idx.Array{Type: idx.Float32, Dims: []int{3}, Data: make([]byte, 12)}, nil, ErrFormat, TrainLabels},
		{"count mismatch", TrainLabels, labels(0, 1), nil, ErrFormat, TrainLabels},
		{"image size mismatch", TestImages, images(2, 3, 2, 0), nil, ErrFormat, TestImages},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tinyDir(t)
			p := filepath.Join(dir, tt.file)
			switch {
			case tt.a != nil:
				writeIDX(t, dir, tt.file, tt.a)
			case tt.raw != nil:
				os.WriteFile(p, tt.raw, 0o644)
			default:
				os.Remove(p)
			}
			train, test, err := LoadDir(dir)
			if err == nil {
				t.Fatalf("got %+v, %+v, want an error", train, test)
			}
			if !errors.Is(err, tt.target) {
				t.Errorf("got %v, want an error matching %v", err, tt.target)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("got %q, want it to name %s", err, tt.mention)
			}
			if !strings.HasPrefix(err.Error(), "mnist: ") {
				t.Errorf("got %q, want prefix %q", err, "mnist: ")
			}
		})
	}
}

func TestSetMethods(t *testing.T) {
	s := &Set{
		Pixels:  []uint8{0, 10, 100, 110, 200, 210, 30, 31},
		Labels:  []uint8{2, 0, 1, 2},
		N:       4,
		Rows:    1,
		Cols:    2,
		Classes: 3,
	}
	if got, want := s.OneHot(), []float32{0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("OneHot: got %v, want %v", got, want)
	}
	if got, want := s.SparseLabels(), []float32{2, 0, 1, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("SparseLabels: got %v, want %v", got, want)
	}
	tests := []struct {
		i, j   int
		labels []uint8
		pixels []uint8
	}{
		{1, 3, []uint8{0, 1}, []uint8{100, 110, 200, 210}},
		{0, 4, []uint8{2, 0, 1, 2}, s.Pixels},
		{2, 2, []uint8{}, []uint8{}},
		{-5, 1, []uint8{2}, []uint8{0, 10}},
		{3, 99, []uint8{2}, []uint8{30, 31}},
		{3, 1, []uint8{}, []uint8{}},
		{9, 10, []uint8{}, []uint8{}},
	}
	for _, tt := range tests {
		got := s.Slice(tt.i, tt.j)
		if got.N != len(tt.labels) || !reflect.DeepEqual(got.Labels, tt.labels) || !reflect.DeepEqual(got.Pixels, tt.pixels) {
			t.Errorf("Slice(%d, %d): got N %d %v %v, want N %d %v %v", tt.i, tt.j, got.N, got.Labels, got.Pixels, len(tt.labels), tt.labels, tt.pixels)
		}
		if got.Rows != 1 || got.Cols != 2 || got.Classes != 3 {
			t.Errorf("Slice(%d, %d): got %d×%d, %d classes; want 1×2, 3", tt.i, tt.j, got.Rows, got.Cols, got.Classes)
		}
	}
	// The slice shares memory, but appending to it does not clobber s.
	sub := s.Slice(0, 2)
	sub.Pixels[0] = 42
	if s.Pixels[0] != 42 {
		t.Errorf("Slice does not share memory: got %v, want 42", s.Pixels[0])
	}
	_ = append(sub.Labels, 9)
	if s.Labels[2] != 1 {
		t.Errorf("append to a slice overwrote the parent: got label %d, want 1", s.Labels[2])
	}
	// A hand-built Set with short slices or bad labels does not panic.
	bad := &Set{Pixels: []uint8{1}, Labels: []uint8{7, 0}, N: 5, Rows: 1, Cols: 1, Classes: 2}
	if got, want := bad.OneHot(), []float32{0, 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("OneHot of a bad Set: got %v, want %v", got, want)
	}
	if got := bad.Slice(0, 5).N; got != 1 {
		t.Errorf("Slice of a bad Set: got N %d, want 1", got)
	}
	if x, err := bad.X(); err != nil || !x.Shape().Equal(tensor.Shape{1, 1}) {
		t.Errorf("X of a bad Set: got %v, %v; want shape (1, 1), the whole samples", x, err)
	}
}

func TestFashion(t *testing.T) {
	dir, err := FashionDir()
	if err != nil {
		t.Skip(err)
	}
	train, test, err := LoadDir(dir)
	if err != nil {
		t.Fatalf("LoadDir(%s): %v", dir, err)
	}
	tests := []struct {
		name     string
		s        *Set
		n, class int // Fashion-MNIST is balanced
	}{
		{"train", train, 60000, 6000},
		{"test", test, 10000, 1000},
	}
	for _, tt := range tests {
		if tt.s.N != tt.n || tt.s.Rows != 28 || tt.s.Cols != 28 || tt.s.Classes != 10 {
			t.Errorf("%s: got N %d, %d×%d, %d classes; want %d, 28×28, 10", tt.name, tt.s.N, tt.s.Rows, tt.s.Cols, tt.s.Classes, tt.n)
		}
		for c, got := range histogram(tt.s) {
			if got != tt.class {
				t.Errorf("%s: class %d: got %d samples, want %d", tt.name, c, got, tt.class)
			}
		}
	}
}

func TestFashionDirMissing(t *testing.T) {
	old := fashionDir
	defer func() { fashionDir = old }()
	fashionDir = t.TempDir()
	_, err := FashionDir()
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist") {
		t.Errorf("got %q, want an install hint", err)
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLoadDirClasses(t *testing.T) {
	dir := tinyDir(t) // training labels 0, 2, 1; test labels 3, 0
	train, test, err := LoadDirClasses(dir, 5)
	if err != nil {
		t.Fatalf("LoadDirClasses(5): %v", err)
	}
	if train.Classes != 5 || test.Classes != 5 {
		t.Errorf("Classes: got %d/%d, want 5/5", train.Classes, test.Classes)
	}
	_, _, err = LoadDirClasses(dir, 3)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Field != "labels" || !strings.Contains(fe.Path, TestLabels) ||
		fe.Want != "labels in [0, 3)" || fe.Got != "label 3 at index 0" {
		t.Fatalf("LoadDirClasses(3): got %v (%+v), want label 3 at index 0 of %s out of [0, 3)", err, fe, TestLabels)
	}
	writeIDX(t, dir, TrainLabels, labels(0, 1, 7))
	_, _, err = LoadDirClasses(dir, 4)
	if !errors.As(err, &fe) || !strings.Contains(fe.Path, TrainLabels) || fe.Got != "label 7 at index 2" {
		t.Fatalf("training label 7: got %v", err)
	}
	for _, c := range []int{-1, 257} {
		if _, _, err := LoadDirClasses(dir, c); err == nil || !strings.Contains(err.Error(), "classes") {
			t.Errorf("LoadDirClasses(%d): got %v, want an error about classes", c, err)
		}
	}
}

func TestEmptyImages(t *testing.T) {
	for _, dims := range [][2]int{{0, 3}, {2, 0}} {
		dir := tinyDir(t)
		writeIDX(t, dir, TrainImages+".gz", images(3, dims[0], dims[1], 0))
		_, _, err := LoadDir(dir)
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Field != "image size" || !strings.Contains(fe.Path, TrainImages) {
			t.Errorf("%d×%d images: got %v, want an image size error naming %s", dims[0], dims[1], err, TrainImages)
		}
	}
}

// FuzzLoad assembles a dataset from four arbitrary IDX inputs, as LoadDir
// does from files: it must return two consistent Sets or an error, never
// panic. The seed corpus is in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	enc := func(a *idx.Array) []byte {
		var buf bytes.Buffer
		if err := idx.Write(&buf, a); err != nil {
			f.Fatal(err)
		}
		return buf.Bytes()
	}
	f.Add(enc(images(3, 2, 3, 250)), enc(labels(0, 2, 1)), enc(images(2, 2, 3, 0)), enc(labels(3, 0)), 0)
	f.Add(enc(images(1, 1, 1, 0)), enc(labels(9)), enc(images(1, 1, 1, 0)), enc(labels(0)), 10)
	f.Add(enc(images(2, 2, 2, 0)), enc(labels(0)), enc(images(2, 2, 2, 0)), enc(labels(0, 1)), 2)
	f.Fuzz(func(t *testing.T, ti, tl, vi, vl []byte, classes int) {
		if classes < 0 || classes > 256 {
			classes = 0
		}
		files := map[string][]byte{TrainImages: ti, TrainLabels: tl, TestImages: vi, TestLabels: vl}
		train, test, err := load(classes, func(base string) (*idx.Array, string, error) {
			a, err := idx.Read(bytes.NewReader(files[base]))
			if err != nil {
				return nil, base, fmt.Errorf("mnist: %w", err)
			}
			return a, base, nil
		})
		if err != nil {
			if train != nil || test != nil {
				t.Fatalf("Sets and the error %v", err)
			}
			return
		}
		for _, s := range []*Set{train, test} {
			if len(s.Pixels) != s.N*s.Features() || len(s.Labels) != s.N || s.Features() == 0 {
				t.Fatalf("inconsistent Set: N %d, %d×%d, %d pixels, %d labels", s.N, s.Rows, s.Cols, len(s.Pixels), len(s.Labels))
			}
			if x, err := s.X(); err != nil || x.Len() != len(s.Pixels) {
				t.Fatalf("X: %v, %v", x, err)
			}
			for i, l := range s.Labels {
				if int(l) >= s.Classes {
					t.Fatalf("label %d at index %d, Classes %d", l, i, s.Classes)
				}
			}
			if oh := s.OneHot(); len(oh) != s.N*s.Classes {
				t.Fatalf("OneHot: %d values, want %d", len(oh), s.N*s.Classes)
			}
		}
	})
}

// TestX: the tensor X returns wraps Pixels without a copy, divides by 255,
// takes any sample shape of Rows·Cols pixels and refuses others.
func TestX(t *testing.T) {
	s := &Set{Pixels: []uint8{0, 51, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9}, Labels: []uint8{0, 1}, N: 2, Rows: 2, Cols: 3, Classes: 2}
	x, err := s.X()
	if err != nil {
		t.Fatal(err)
	}
	if x.DType() != tensor.Uint8 || x.Divisor() != 255 || !x.Shape().Equal(tensor.Shape{2, 6}) || &x.Uint8s()[0] != &s.Pixels[0] {
		t.Fatalf("X() = %v (dtype %s, divisor %g), want (2, 6) uint8/255 over Pixels", x, x.DType(), x.Divisor())
	}
	if got, want := x.At(0, 1), float64(float32(51)/255); got != want {
		t.Errorf("X().At(0, 1) = %v, want %v", got, want)
	}
	for _, sample := range [][]int{{2, 3}, {2, 3, 1}, {6, 1}, {1, 6}} {
		x, err := s.X(sample...)
		if err != nil || !x.Shape()[1:].Equal(sample) || x.Dim(0) != 2 {
			t.Errorf("X(%v) = %v, %v", sample, x, err)
		}
	}
	for _, sample := range [][]int{{5}, {3, 3}, {-2, -3}, {6, 0}, {7}, {math.MaxInt / 2, 4, 4}} {
		if x, err := s.X(sample...); err == nil || !strings.Contains(err.Error(), "2×3 = 6") {
			t.Errorf("X(%v) = %v, %v; want an error naming the 2×3 images", sample, x, err)
		}
	}
	if x, err := s.Slice(1, 2).X(3, 2); err != nil || x.At(0, 2, 1) != float64(float32(9)/255) {
		t.Errorf("X of a Slice: %v, %v", x, err)
	}
	var nilSet *Set
	if _, err := nilSet.X(); err == nil {
		t.Error("X of a nil Set: no error")
	}
}
