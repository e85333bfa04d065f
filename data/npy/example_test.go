package npy_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/myelin-go/myelin/data/npy"
)

func Example() {
	var buf bytes.Buffer
	if err := npy.Write(&buf, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}); err != nil {
		log.Fatal(err)
	}
	a, err := npy.Read(&buf)
	if err != nil {
		log.Fatal(err)
	}
	x, err := a.Float32s()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Shape, a.DType, a.FortranOrder, x)

	// The header is parsed, never evaluated.
	bad := "\x93NUMPY\x01\x00\x20\x00{'descr': __import__('os'), }  \n"
	_, err = npy.Read(bytes.NewReader([]byte(bad)))
	fmt.Println(err)
	// Output:
	// [2 3] <f4 false [1 2 3 4 5 6]
	// npy: offset 20: descr: want a string, got "__import__('os'), } "
}
