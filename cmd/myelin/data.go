package main

import (
	"fmt"
	"strings"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/tensor"
)

// dataset is a train/test pair as tensors.
type dataset struct {
	name        string
	train, test *mnist.Set // train is nil when only the test set was asked for
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
		return load(dir, dir)
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

// xy returns a set's images as (n, features) and labels one-hot (n,
// classes), or as class indices (n,) when sparse.
func xy(s *mnist.Set, classes int, sparse bool) (x, y *tensor.Tensor, err error) {
	if s.Classes > classes {
		return nil, nil, fmt.Errorf("the data has %d classes but the model outputs %d", s.Classes, classes)
	}
	x = tensor.FromFloat32(s.Images, s.N, s.Features())
	if sparse {
		return x, tensor.FromFloat32(s.SparseLabels(), s.N), nil
	}
	oh := make([]float32, s.N*classes)
	for i, l := range s.Labels {
		oh[i*classes+int(l)] = 1
	}
	return x, tensor.FromFloat32(oh, s.N, classes), nil
}
