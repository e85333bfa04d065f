// Package mnist loads the MNIST handwritten-digit dataset, which is embedded
// in the package, and any dataset laid out like it in a directory of IDX
// files, such as Fashion-MNIST.
//
// The embedded files are the four original gzip-compressed IDX files of
// Yann LeCun, Corinna Cortes and Christopher J.C. Burges
// (http://yann.lecun.com/exdb/mnist/); see the NOTICE file at the root of
// the module for their provenance, checksums and terms.
//
// Malformed IDX files give errors matching idx.ErrFormat; files that are
// valid IDX but do not form a dataset (wrong element type or rank, empty
// images, image and label counts that disagree, train and test images of
// different sizes, labels outside a known number of classes) give a
// *FormatError matching ErrFormat. Every error names the file.
package mnist

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/myelin-go/myelin/data/idx"
	"github.com/myelin-go/myelin/tensor"
)

//go:embed files/*.gz
var files embed.FS

// The base names of the four files of an MNIST-like dataset.
const (
	TrainImages = "train-images-idx3-ubyte"
	TrainLabels = "train-labels-idx1-ubyte"
	TestImages  = "t10k-images-idx3-ubyte"
	TestLabels  = "t10k-labels-idx1-ubyte"
)

// fashionDir is where Debian's dataset-fashion-mnist package installs
// Fashion-MNIST; a variable so that tests can point it elsewhere.
var fashionDir = "/usr/share/datasets/fashion-mnist"

// Set is one split (training or test) of an image-classification dataset.
// It holds the pixels as the files store them, one byte each; X gives them
// to a model as values in [0, 1] without copying them.
type Set struct {
	Pixels  []uint8 // N × Rows × Cols bytes, row-major, 0 to 255 as in the IDX file
	Labels  []uint8 // N labels in [0, Classes)
	N       int     // number of samples
	Rows    int     // image height
	Cols    int     // image width
	Classes int     // number of classes: the largest label of the dataset (train and test) plus one
}

// ErrFormat is matched (with errors.Is) by the errors that report IDX files
// which do not form a dataset.
var ErrFormat = errors.New("mnist: invalid dataset")

// FormatError reports an IDX file that is valid on its own but does not fit
// the dataset. It matches ErrFormat.
type FormatError struct {
	Path  string // the offending file
	Field string // what is wrong: "images", "labels", "count", "image size"
	Want  string // what the dataset requires
	Got   string // what the file holds
}

// Error names the file, the field, and what was wanted and found.
func (e *FormatError) Error() string {
	return fmt.Sprintf("mnist: %s: %s: want %s, got %s", e.Path, e.Field, e.Want, e.Got)
}

// Unwrap returns ErrFormat.
func (e *FormatError) Unwrap() error { return ErrFormat }

// Features returns the number of pixels per image, Rows*Cols.
func (s *Set) Features() int {
	if s == nil {
		return 0
	}
	return s.Rows * s.Cols
}

// size returns how many whole samples s really holds: N, or less for a
// hand-built Set whose slices are shorter than N says.
func (s *Set) size() int {
	if s == nil {
		return 0
	}
	f := s.Features()
	if f < 0 || s.Rows < 0 || s.Cols < 0 {
		return 0 // no whole sample fits a negative size
	}
	n := max(0, min(s.N, len(s.Labels)))
	if f > 0 {
		n = min(n, len(s.Pixels)/f)
	}
	return n
}

// X returns the images as a uint8 tensor over Pixels (not copied) whose
// values are the pixels divided by 255, in [0, 1] (Keras's
// x.astype("float32") / 255), which model converts a batch at a time.
// Each sample has the shape sample: by default (Rows·Cols,), the flattened
// images a dense model takes; (28, 28, 1), say, for a convolutional one.
// It fails when sample does not hold Rows·Cols pixels.
func (s *Set) X(sample ...int) (*tensor.Tensor, error) {
	if s == nil {
		return nil, errors.New("mnist: X of a nil Set")
	}
	f := max(s.Features(), 0)
	if len(sample) == 0 {
		sample = []int{f}
	}
	size := 1
	for _, d := range sample {
		if d < 0 || d > 0 && size > f/d { // negative, or more than an image (and no overflow)
			size = -1
			break
		}
		size *= d
	}
	if size != f {
		return nil, fmt.Errorf("mnist: X: samples of shape %v do not hold images of %d×%d = %d pixels", sample, s.Rows, s.Cols, f)
	}
	n := s.size()
	return tensor.FromUint8(s.Pixels[:n*f], 255, append([]int{n}, sample...)...), nil
}

// OneHot returns the labels one-hot encoded: N × Classes, row-major, with a
// 1 in column Labels[i] of row i. A label outside [0, Classes) (possible
// only in a hand-built Set) gives an all-zero row.
func (s *Set) OneHot() []float32 {
	if s == nil {
		return []float32{}
	}
	n, c := s.size(), max(s.Classes, 0)
	out := make([]float32, n*c)
	for i, l := range s.Labels[:n] {
		if int(l) < c {
			out[i*c+int(l)] = 1
		}
	}
	return out
}

// SparseLabels returns the N labels as float32 class indices, the form
// sparse categorical losses take.
func (s *Set) SparseLabels() []float32 {
	if s == nil {
		return []float32{}
	}
	n := s.size()
	out := make([]float32, n)
	for i, l := range s.Labels[:n] {
		out[i] = float32(l)
	}
	return out
}

// Slice returns samples [i, j) of s as a Set that shares s's memory.
// Indices are clamped to [0, N], and j < i gives an empty Set, so Slice
// never panics. The returned slices have no spare capacity: appending to
// them copies rather than overwriting s's later samples.
func (s *Set) Slice(i, j int) *Set {
	if s == nil {
		return &Set{Pixels: []uint8{}, Labels: []uint8{}}
	}
	n := s.size()
	i = min(max(i, 0), n)
	j = min(max(j, i), n)
	f := max(s.Features(), 0)
	return &Set{
		Pixels:  s.Pixels[i*f : j*f : j*f],
		Labels:  s.Labels[i:j:j],
		N:       j - i,
		Rows:    s.Rows,
		Cols:    s.Cols,
		Classes: s.Classes,
	}
}

// Load decodes the embedded MNIST dataset: 60,000 training and 10,000 test
// images of 28×28 pixels in 10 classes. Every call decodes afresh and
// returns Sets the caller owns, about 55 MB of pixel bytes.
func Load() (train, test *Set, err error) {
	return load(10, readEmbedded)
}

// LoadDir loads an MNIST-like dataset from dir, which must hold the four
// files train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each optionally
// gzip-compressed with a .gz suffix (the uncompressed file is used when both
// exist). Images must be uint8 with 3 dimensions of which the last two
// are not zero, labels uint8 with 1. Classes is inferred from the labels;
// LoadDirClasses checks them against a known number instead.
func LoadDir(dir string) (train, test *Set, err error) {
	return LoadDirClasses(dir, 0)
}

// LoadDirClasses is LoadDir for a dataset of a known number of classes:
// every label must lie in [0, classes), and both Sets get Classes =
// classes. A label outside gives a *FormatError naming the file, the
// label's index and its value. classes 0 means unknown, as in LoadDir.
func LoadDirClasses(dir string, classes int) (train, test *Set, err error) {
	if classes < 0 || classes > 256 {
		return nil, nil, fmt.Errorf("mnist: LoadDirClasses: classes %d, want 0 (infer) or 1 to 256 (uint8 labels)", classes)
	}
	return load(classes, dirReader(dir))
}

// A reader reads the IDX file named base (TrainImages and the like) and
// returns it with the name errors give it; load and loadTest read
// through one.
type reader func(base string) (*idx.Array, string, error)

// readEmbedded reads base from the embedded MNIST files.
func readEmbedded(base string) (*idx.Array, string, error) {
	name := "files/" + base + ".gz"
	a, err := idx.ReadFS(files, name)
	if err != nil {
		return nil, name, fmt.Errorf("mnist: embedded file: %w", err)
	}
	return a, "embedded " + name, nil
}

// dirReader returns the reader of base or base.gz in dir.
func dirReader(dir string) reader {
	return func(base string) (*idx.Array, string, error) {
		path, err := find(dir, base)
		if err != nil {
			return nil, path, err
		}
		a, err := idx.ReadFile(path)
		if err != nil {
			return nil, path, fmt.Errorf("mnist: %w", err)
		}
		return a, path, nil
	}
}

// find returns the path of base or base.gz in dir.
func find(dir, base string) (string, error) {
	p := filepath.Join(dir, base)
	for _, c := range []string{p, p + ".gz"} {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c, nil
		}
	}
	return p, fmt.Errorf("mnist: %s: neither %s nor %s.gz: %w", dir, base, base, fs.ErrNotExist)
}

// FashionDir returns the directory where Debian's dataset-fashion-mnist
// package installs Fashion-MNIST (Zalando Research, MIT licence), for use
// with LoadDir. It returns an error wrapping fs.ErrNotExist, with an install
// hint, when the files are not there.
func FashionDir() (string, error) {
	for _, base := range []string{TrainImages, TrainLabels, TestImages, TestLabels} {
		if _, err := find(fashionDir, base); err != nil {
			return "", fmt.Errorf("mnist: Fashion-MNIST not found: no %s or %s.gz in %s (install it with `apt-get install dataset-fashion-mnist` on Debian or Ubuntu, or download it from https://github.com/zalandoresearch/fashion-mnist and use LoadDir): %w",
				base, base, fashionDir, fs.ErrNotExist)
		}
	}
	return fashionDir, nil
}

// load reads the four files through read, which returns the array, the
// name to use in errors, and an error that already begins with "mnist: ",
// and assembles the two sets. classes > 0 is the known number of classes;
// 0 infers it from the labels.
func load(classes int, read reader) (train, test *Set, err error) {
	bases := [4]string{TrainImages, TrainLabels, TestImages, TestLabels}
	var (
		arrays [4]*idx.Array
		names  [4]string
		errs   [4]error
		wg     sync.WaitGroup
	)
	for k, base := range bases {
		wg.Go(func() {
			arrays[k], names[k], errs[k] = read(base)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	var sets [2]*Set
	for k := range sets {
		wg.Go(func() {
			sets[k], errs[k] = newSet(arrays[2*k], arrays[2*k+1], names[2*k], names[2*k+1])
		})
	}
	wg.Wait()
	for _, err := range errs[:2] {
		if err != nil {
			return nil, nil, err
		}
	}
	train, test = sets[0], sets[1]
	if test.Rows != train.Rows || test.Cols != train.Cols {
		return nil, nil, &FormatError{Path: names[2], Field: "image size",
			Want: fmt.Sprintf("%d×%d like the training images", train.Rows, train.Cols),
			Got:  fmt.Sprintf("%d×%d", test.Rows, test.Cols)}
	}
	if classes > 0 {
		for k, s := range sets {
			for i, l := range s.Labels {
				if int(l) >= classes {
					return nil, nil, &FormatError{Path: names[2*k+1], Field: "labels",
						Want: fmt.Sprintf("labels in [0, %d)", classes),
						Got:  fmt.Sprintf("label %d at index %d", l, i)}
				}
			}
		}
	} else {
		for _, s := range sets {
			for _, l := range s.Labels {
				classes = max(classes, int(l)+1)
			}
		}
	}
	train.Classes, test.Classes = classes, classes
	return train, test, nil
}

// newSet checks that images and labels form one split and makes a Set of
// them, which keeps their Data: the bytes are not copied.
func newSet(images, labels *idx.Array, imagesName, labelsName string) (*Set, error) {
	if images.Type != idx.Uint8 || len(images.Dims) != 3 {
		return nil, &FormatError{Path: imagesName, Field: "images",
			Want: "uint8 with 3 dimensions (N×rows×cols)",
			Got:  fmt.Sprintf("%v with dimensions %v", images.Type, images.Dims)}
	}
	if labels.Type != idx.Uint8 || len(labels.Dims) != 1 {
		return nil, &FormatError{Path: labelsName, Field: "labels",
			Want: "uint8 with 1 dimension (N)",
			Got:  fmt.Sprintf("%v with dimensions %v", labels.Type, labels.Dims)}
	}
	if images.Dims[1] == 0 || images.Dims[2] == 0 {
		return nil, &FormatError{Path: imagesName, Field: "image size",
			Want: "at least 1×1 pixels", Got: fmt.Sprintf("%d×%d", images.Dims[1], images.Dims[2])}
	}
	n := images.Dims[0]
	if labels.Dims[0] != n {
		return nil, &FormatError{Path: labelsName, Field: "count",
			Want: fmt.Sprintf("%d labels, one per image of %s", n, imagesName),
			Got:  fmt.Sprintf("%d labels", labels.Dims[0])}
	}
	return &Set{
		Pixels: images.Data,
		Labels: labels.Data,
		N:      n,
		Rows:   images.Dims[1],
		Cols:   images.Dims[2],
	}, nil
}
