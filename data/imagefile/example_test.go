package imagefile_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/myelin-go/myelin/data/imagefile"
)

// A 56×56 PNG of a black bar on white paper becomes 28×28 values in
// [0, 1], white on black as MNIST's are.
func ExampleRead() {
	img := image.NewGray(image.Rect(0, 0, 56, 56))
	for i := range img.Pix {
		img.Pix[i] = 255 // white paper
	}
	for y := 8; y < 48; y++ {
		for x := 24; x < 32; x++ {
			img.SetGray(x, y, color.Gray{0}) // black ink
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	px, err := imagefile.Read(&b, imagefile.Options{Width: 28, Height: 28})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(px), px[0], px[14*28+13])
	// Output: 784 0 1
}
