package main

import (
	"fmt"
	"strings"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

// dataset is a train/test pair as tensors.
type dataset struct {
	name        string
	train, test *mnist.Set // train is nil when only the test set was asked for
	fromDir     bool       // read from --data-dir: name is the directory, not a dataset's name
}

// info returns the record of ds that a model file keeps.
func (ds *dataset) info() *model.DatasetInfo {
	s := ds.test
	d := &model.DatasetInfo{Name: ds.name, InputShape: []int{s.Rows, s.Cols}, Classes: s.Classes}
	if ds.train != nil {
		d.Classes = max(d.Classes, ds.train.Classes)
	}
	if !ds.fromDir {
		d.ClassNames = mnist.ClassNames(ds.name)
		if len(d.ClassNames) != d.Classes {
			d.ClassNames = nil
		}
	}
	return d
}

// warnDataset writes one line to stderr when m was trained on data unlike
// ds. A directory's name says nothing about its data, so for --data-dir only
// the shape and classes are compared.
func warnDataset(e *env, path string, m *model.Sequential, ds *dataset) {
	d := ds.info()
	if ds.fromDir {
		d.Name = ""
	}
	if diff := m.Dataset.Differs(d); diff != "" {
		fmt.Fprintf(e.stderr, "myelin: warning: %s was trained on %s; this data is %s\n", path, m.Dataset.Name, diff)
	}
}

// loadData resolves --data and --data-dir; name is case-insensitive, like
// every name the command line takes. With testOnly it reads only the test
// files (evaluate and predict), so a directory with only t10k-* works.
func loadData(name, dir string, testOnly bool) (*dataset, error) {
	load := func(name, dir string) (*dataset, error) {
		if testOnly {
			te, err := mnist.LoadTestDir(dir)
			return &dataset{name: name, test: te}, err
		}
		tr, te, err := mnist.LoadDir(dir)
		return &dataset{name: name, train: tr, test: te}, err
	}
	if dir != "" {
		ds, err := load(dir, dir)
		if ds != nil {
			ds.fromDir = true
		}
		return ds, err
	}
	switch strings.ToLower(name) {
	case "", "mnist":
		if testOnly {
			te, err := mnist.LoadTest()
			return &dataset{name: "mnist", test: te}, err
		}
		tr, te, err := mnist.Load()
		return &dataset{name: "mnist", train: tr, test: te}, err
	case "fashion-mnist":
		d, err := mnist.FashionDir()
		if err != nil {
			return nil, err
		}
		return load("fashion-mnist", d)
	}
	return nil, usagef("unknown --data %q (want mnist or fashion-mnist, or give --data-dir)", name)
}

// modelX returns a set's images as uint8 pixels over 255 (no copy, each
// batch converted by the model), each of the model's input shape in when
// that holds one image's pixels ((784,), (28, 28, 1), ...), else flattened
// (n, features), for the model to refuse with its own error.
func modelX(s *mnist.Set, in tensor.Shape) (*tensor.Tensor, error) {
	if len(in) > 0 && in.Len() == s.Features() {
		return s.X(in...)
	}
	return s.X()
}

// xy returns a set's images as modelX does for the model's input shape in,
// and labels one-hot (n, classes), or as class indices (n,) when sparse.
func xy(s *mnist.Set, in tensor.Shape, classes int, sparse bool) (x, y *tensor.Tensor, err error) {
	if s.Classes > classes {
		return nil, nil, fmt.Errorf("the data has %d classes but the model outputs %d", s.Classes, classes)
	}
	if x, err = modelX(s, in); err != nil {
		return nil, nil, err
	}
	if sparse {
		return x, tensor.FromFloat32(s.SparseLabels(), s.N), nil
	}
	oh := make([]float32, s.N*classes)
	for i, l := range s.Labels {
		oh[i*classes+int(l)] = 1
	}
	return x, tensor.FromFloat32(oh, s.N, classes), nil
}
