package mnist_test

import (
	"fmt"
	"log"

	"github.com/myelin-go/myelin/data/mnist"
)

func Example() {
	train, test, err := mnist.Load()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(train.N, test.N, train.Rows, train.Cols, train.Classes)
	fmt.Println("first labels:", train.Labels[:5])

	batch := train.Slice(0, 32) // shares train's memory
	fmt.Println(batch.N, len(batch.Pixels), len(batch.OneHot()))

	// The pixels as a model takes them: bytes over 255, not copied.
	x, err := batch.X() // (32, 784) for a dense model
	if err != nil {
		log.Fatal(err)
	}
	images, err := batch.X(28, 28, 1) // for a convolutional one
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(x.Shape(), images.Shape(), x.DType(), x.At(0, 156))
	// Output:
	// 60000 10000 28 28 10
	// first labels: [5 0 4 1 9]
	// 32 25088 320
	// (32, 784) (32, 28, 28, 1) uint8 0.4941176474094391
}
