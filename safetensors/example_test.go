package safetensors_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"

	"github.com/myelin-go/myelin/safetensors"
)

func Example() {
	f := &safetensors.File{
		Metadata: map[string]string{"format": "myelin"},
		Tensors: []safetensors.Tensor{
			safetensors.F32("dense/kernel", []int{2, 2}, []float32{1, 2, 3, 4}),
			safetensors.F32("dense/bias", []int{2}, []float32{0.5, -0.5}),
		},
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, f); err != nil {
		log.Fatal(err)
	}
	fmt.Println(buf.Len(), "bytes")

	g, err := safetensors.Read(&buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(g.Metadata["format"])
	for _, t := range g.Tensors {
		v, err := t.Float32s()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(t.Name, t.DType, t.Shape, v)
	}
	// Output:
	// 200 bytes
	// myelin
	// dense/bias F32 [2] [0.5 -0.5]
	// dense/kernel F32 [2 2] [1 2 3 4]
}

func ExampleParse() {
	// A header with the tensor name "w" twice, which encoding/json would accept.
	hdr := `{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`
	b := append([]byte{byte(len(hdr)), 0, 0, 0, 0, 0, 0, 0}, hdr...)
	b = append(b, 7)

	_, err := safetensors.Parse(b)
	fmt.Println(err)
	fmt.Println(errors.Is(err, safetensors.ErrFormat))
	var fe *safetensors.FormatError
	if errors.As(err, &fe) {
		fmt.Println(fe.Offset, fe.Key)
	}
	// Output:
	// safetensors: invalid format at offset 61: tensor "w": want unique keys, got a duplicate key
	// true
	// 61 w
}

func ExampleTensor_Float64s() {
	// BF16 is the upper half of a float32: 0x3fc0 is 1.5.
	t := safetensors.Tensor{Name: "x", DType: safetensors.DTypeBF16, Shape: []int{2}, Data: []byte{0xc0, 0x3f, 0x80, 0xbf}}
	v, err := t.Float64s()
	fmt.Println(v, err)

	t = safetensors.Tensor{Name: "step", DType: safetensors.DTypeI64, Shape: []int{}, Data: make([]byte, 8)}
	_, err = t.Float64s()
	fmt.Println(err)
	fmt.Println(errors.Is(err, safetensors.ErrDType))
	// Output:
	// [1.5 -1] <nil>
	// safetensors: tensor "step": cannot convert dtype "I64" to float64
	// true
}
