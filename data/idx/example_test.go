package idx_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/myelin-go/myelin/data/idx"
)

func Example() {
	// Two 2×2 images of uint8 pixels.
	in := &idx.Array{Type: idx.Uint8, Dims: []int{2, 2, 2}, Data: []byte{0, 64, 128, 255, 1, 2, 3, 4}}
	var buf bytes.Buffer
	if err := idx.Write(&buf, in); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("% x\n", buf.Bytes()[:4])

	a, err := idx.Read(&buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Type, a.Dims, a.Len())
	fmt.Println(a.Float32s())

	// Malformed input is reported, never trusted.
	_, err = idx.Read(bytes.NewReader([]byte{0, 0, 0x08, 1, 0, 0, 0, 5, 1, 2}))
	fmt.Println(err)
	// Output:
	// 00 00 08 03
	// uint8 [2 2 2] 8
	// [0 64 128 255 1 2 3 4]
	// idx: offset 8: payload: want 5 bytes for dims [5] of uint8, got 2 bytes before end of input (truncated)
}
