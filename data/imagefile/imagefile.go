// Package imagefile turns PNG, JPEG and GIF pictures into the rows of
// pixels a model trained on MNIST-like data takes.
//
// The conversion, in order:
//
//  1. Decode with the standard library (image/png, image/jpeg, image/gif;
//     a GIF gives its first frame).
//  2. Composite over white: a transparent pixel counts as paper, the way an
//     image viewer shows it (a digit drawn on a transparent canvas in black
//     ink then reads as dark on light, and step 4 flips it).
//  3. Grayscale by ITU-R BT.601 luma, Y = 0.299 R + 0.587 G + 0.114 B, on
//     the 16-bit channels Go's color model gives (the weights of
//     color.GrayModel), so gray pictures keep their values.
//  4. Invert when asked (Options.Invert), or, with InvertAuto, when the
//     picture's border is mostly light: MNIST is white ink on black paper
//     (0 is background), while photos and drawings are usually the other
//     way round. The border is the one-pixel frame; "mostly light" means a
//     mean above one half.
//  5. Resize to Width×Height by area averaging (a box filter): each output
//     pixel is the mean of the source area it covers, weighting the source
//     pixels it covers partly by the fraction covered. Shrinking by an
//     integer factor is then the plain mean of each block, and an image
//     already of the target size is unchanged. The aspect ratio is not kept:
//     crop or pad a picture first if its digit is not roughly centred in a
//     square, as MNIST's are.
//  6. Scale to [0, 1] like the training data (MNIST's pixel/255): 0 black,
//     1 white.
package imagefile

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registers GIF with image.Decode
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
)

// Invert says whether to invert a picture's gray levels.
type Invert int

const (
	// InvertAuto inverts pictures whose border is mostly light.
	InvertAuto Invert = iota
	// InvertNever keeps the gray levels as they are.
	InvertNever
	// InvertAlways inverts every picture.
	InvertAlways
)

// Options says how to convert a picture. Width and Height are required.
type Options struct {
	Width, Height int
	Invert        Invert
}

// ErrFormat is matched (with errors.Is) by errors about input that is not a
// PNG, JPEG or GIF picture.
var ErrFormat = errors.New("imagefile: not a PNG, JPEG or GIF image")

// Sniff reports whether b starts like a PNG, JPEG or GIF file.
func Sniff(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) ||
		bytes.HasPrefix(b, []byte("\xff\xd8\xff")) ||
		bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
}

// Read decodes a picture from r and converts it as opt says, returning
// Width×Height values in [0, 1], row-major.
func Read(r io.Reader, opt Options) ([]float32, error) {
	return read(r, "", opt)
}

// ReadFile is Read of the file at path; its errors name the file.
func ReadFile(path string, opt Options) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("imagefile: %w", err)
	}
	defer f.Close()
	return read(f, path, opt)
}

func read(r io.Reader, path string, opt Options) ([]float32, error) {
	where := ""
	if path != "" {
		where = path + ": "
	}
	if opt.Width <= 0 || opt.Height <= 0 {
		return nil, fmt.Errorf("imagefile: size %d×%d, want both positive", opt.Width, opt.Height)
	}
	img, _, err := image.Decode(r)
	if errors.Is(err, image.ErrFormat) {
		return nil, fmt.Errorf("imagefile: %s%w", where, ErrFormat)
	}
	if err != nil {
		return nil, fmt.Errorf("imagefile: %s%w", where, err)
	}
	return Convert(img, opt), nil
}

// Convert converts a decoded picture as opt says (steps 2 to 6 of the
// package comment).
func Convert(img image.Image, opt Options) []float32 {
	g := Gray(img)
	switch opt.Invert {
	case InvertAlways:
		g.invert()
	case InvertAuto:
		if g.borderMean() > 0.5 {
			g.invert()
		}
	}
	return g.Resize(opt.Width, opt.Height).Pix
}

// Plane is a grayscale picture of values in [0, 1], row-major.
type Plane struct {
	Pix           []float32
	Width, Height int
}

// Gray composites img over white and returns its BT.601 luma in [0, 1].
func Gray(img image.Image) *Plane {
	b := img.Bounds()
	p := &Plane{Pix: make([]float32, b.Dx()*b.Dy()), Width: b.Dx(), Height: b.Dy()}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			// RGBA is alpha-premultiplied: over white, c' = c + (1-α)·max.
			r, g, bl, a := img.At(x, y).RGBA()
			paper := 0xffff - a
			c := color.RGBA64{R: uint16(r + paper), G: uint16(g + paper), B: uint16(bl + paper), A: 0xffff}
			luma := color.Gray16Model.Convert(c).(color.Gray16).Y
			p.Pix[(y-b.Min.Y)*p.Width+(x-b.Min.X)] = float32(luma) / 0xffff
		}
	}
	return p
}

func (p *Plane) invert() {
	for i, v := range p.Pix {
		p.Pix[i] = 1 - v
	}
}

// borderMean returns the mean of the one-pixel frame around p.
func (p *Plane) borderMean() float64 {
	var sum float64
	n := 0
	for y := range p.Height {
		for x := range p.Width {
			if y == 0 || y == p.Height-1 || x == 0 || x == p.Width-1 {
				sum += float64(p.Pix[y*p.Width+x])
				n++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}
