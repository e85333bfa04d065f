package experiment_test

import (
	"context"
	"fmt"
	"log"

	"github.com/myelin-go/myelin/experiment"
)

// The catalogue, as `myelin experiment` lists it.
func ExampleList() {
	for _, e := range experiment.List() {
		fmt.Printf("%-14s %6d steps\n", e.Name, e.DefaultSteps)
	}
	// Output:
	// fig1            10000 steps
	// lr               2000 steps
	// init             2000 steps
	// depth            2000 steps
	// regularization   3000 steps
	// batchsize        1500 steps
	// syncbn           1500 steps
	// cnn               400 steps
}

// A quick run of the depth experiment on a slice of MNIST: ten steps are
// enough to see the gradient vanish in the deep sigmoid net without batch
// normalization and not with it.
func ExampleDepth() {
	d, err := experiment.LoadMNIST()
	if err != nil {
		log.Fatal(err)
	}
	r, err := experiment.Depth(context.Background(), experiment.Options{Steps: 10, Data: d.Subset(600, 100)})
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range r.Data.(*experiment.DepthData).Nets {
		ratio := n.Start[0] / n.Start[n.Depth] // first hidden layer's gradient over the output layer's
		fmt.Printf("depth %2d, batchnorm %-5v: layer 1 gets over 10%% of the output layer's gradient: %v\n", n.Depth, n.BatchNorm, ratio > 0.1)
	}
	// Output:
	// depth  5, batchnorm false: layer 1 gets over 10% of the output layer's gradient: false
	// depth  5, batchnorm true : layer 1 gets over 10% of the output layer's gradient: true
	// depth 10, batchnorm false: layer 1 gets over 10% of the output layer's gradient: false
	// depth 10, batchnorm true : layer 1 gets over 10% of the output layer's gradient: true
	// depth 20, batchnorm false: layer 1 gets over 10% of the output layer's gradient: false
	// depth 20, batchnorm true : layer 1 gets over 10% of the output layer's gradient: true
}
