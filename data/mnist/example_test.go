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
	fmt.Println(batch.N, len(batch.Images), len(batch.OneHot()))
	// Output:
	// 60000 10000 28 28 10
	// first labels: [5 0 4 1 9]
	// 32 25088 320
}
