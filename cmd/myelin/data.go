package main

import (
	"fmt"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/tensor"
)

// dataset is a train/test pair as tensors.
type dataset struct {
	name        string
	train, test *mnist.Set
}

// loadData resolves --data and --data-dir.
func loadData(name, dir string) (*dataset, error) {
	if dir != "" {
		tr, te, err := mnist.LoadDir(dir)
		if err != nil {
			return nil, err
		}
		return &dataset{name: dir, train: tr, test: te}, nil
	}
	switch name {
	case "", "mnist":
		tr, te, err := mnist.Load()
		if err != nil {
			return nil, err
		}
		return &dataset{name: "mnist", train: tr, test: te}, nil
	case "fashion-mnist":
		d, err := mnist.FashionDir()
		if err != nil {
			return nil, err
		}
		tr, te, err := mnist.LoadDir(d)
		if err != nil {
			return nil, err
		}
		return &dataset{name: "fashion-mnist", train: tr, test: te}, nil
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
