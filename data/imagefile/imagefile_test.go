package imagefile

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"testing"
)

// digit returns a w×h picture of a light bar on dark paper (MNIST's way),
// or dark on light when lightPaper.
func digit(w, h int, lightPaper bool) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(0)
			if x >= w/3 && x < 2*w/3 && y > 1 && y < h-2 {
				v = 255
			}
			if lightPaper {
				v = 255 - v
			}
			img.SetGray(x, y, color.Gray{v})
		}
	}
	return img
}

func TestConvertKeepsMNISTPicture(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7 % 256)
	}
	img.Pix[0] = 0 // a dark border corner, so auto does not invert
	for i := range 28 {
		img.Pix[i], img.Pix[27*28+i], img.Pix[i*28], img.Pix[i*28+27] = 0, 0, 0, 0
	}
	got := Convert(img, Options{Width: 28, Height: 28})
	for i, v := range img.Pix {
		if want := float32(v) / 255; math.Abs(float64(got[i]-want)) > 1e-6 {
			t.Fatalf("pixel %d: got %v, want %v (pixel/255)", i, got[i], want)
		}
	}
}

func TestLumaIsBT601(t *testing.T) {
	for _, c := range []struct {
		rgb  color.RGBA
		want float64
	}{
		{color.RGBA{255, 0, 0, 255}, 0.299},
		{color.RGBA{0, 255, 0, 255}, 0.587},
		{color.RGBA{0, 0, 255, 255}, 0.114},
		{color.RGBA{0, 0, 0, 0}, 1}, // transparent is paper: white
		{color.RGBA{0, 0, 0, 255}, 0},
	} {
		img := image.NewRGBA(image.Rect(0, 0, 1, 1))
		img.SetRGBA(0, 0, c.rgb)
		got := Gray(img).Pix[0]
		if math.Abs(float64(got)-c.want) > 1e-3 {
			t.Errorf("Gray(%v): got %v, want %v", c.rgb, got, c.want)
		}
	}
}

func TestResizeAreaAverage(t *testing.T) {
	// 4×2 → 2×1: each output is the mean of a 2×2 block.
	p := &Plane{Pix: []float32{0, 1, 2, 3, 4, 5, 6, 7}, Width: 4, Height: 2}
	got := p.Resize(2, 1).Pix
	want := []float32{2.5, 4.5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Resize(2, 1) of %v: got %v, want %v", p.Pix, got, want)
		}
	}
	// 3 → 2: output 0 covers input 0 and half of input 1.
	q := &Plane{Pix: []float32{0, 3, 6}, Width: 3, Height: 1}
	got = q.Resize(2, 1).Pix
	want = []float32{1, 5}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("Resize(2, 1) of %v: got %v, want %v", q.Pix, got, want)
		}
	}
	// Upscaling then averaging back gives the original.
	up := &Plane{Pix: []float32{0.25, 0.5, 0.75, 1}, Width: 2, Height: 2}
	back := up.Resize(6, 6).Resize(2, 2).Pix
	for i := range up.Pix {
		if math.Abs(float64(back[i]-up.Pix[i])) > 1e-6 {
			t.Fatalf("Resize 2→6→2: got %v, want %v", back, up.Pix)
		}
	}
}

func TestInvert(t *testing.T) {
	dark, light := digit(28, 28, false), digit(28, 28, true)
	want := Convert(dark, Options{Width: 28, Height: 28, Invert: InvertNever})
	for _, c := range []struct {
		name string
		img  image.Image
		inv  Invert
		same bool
	}{
		{"auto dark paper", dark, InvertAuto, true},
		{"auto light paper", light, InvertAuto, true},
		{"never light paper", light, InvertNever, false},
		{"always dark paper", dark, InvertAlways, false},
		{"always light paper", light, InvertAlways, true},
	} {
		got := Convert(c.img, Options{Width: 28, Height: 28, Invert: c.inv})
		if same := equal(got, want); same != c.same {
			t.Errorf("%s: equal to the white-on-black picture: got %v, want %v", c.name, same, c.same)
		}
	}
}

func equal(a, b []float32) bool {
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-6 {
			return false
		}
	}
	return len(a) == len(b)
}

func TestReadFormats(t *testing.T) {
	img := digit(56, 56, false)
	want := Convert(img, Options{Width: 28, Height: 28})
	encoders := map[string]func(*bytes.Buffer) error{
		"png": func(b *bytes.Buffer) error { return png.Encode(b, img) },
		"gif": func(b *bytes.Buffer) error { return gif.Encode(b, img, nil) },
		"jpeg": func(b *bytes.Buffer) error {
			return jpeg.Encode(b, img, &jpeg.Options{Quality: 100})
		},
	}
	for name, enc := range encoders {
		var b bytes.Buffer
		if err := enc(&b); err != nil {
			t.Fatal(err)
		}
		if !Sniff(b.Bytes()) {
			t.Errorf("%s: Sniff: got false, want true", name)
		}
		got, err := Read(&b, Options{Width: 28, Height: 28})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tol := 1e-6
		if name == "jpeg" {
			tol = 0.05 // lossy
		}
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > tol {
				t.Fatalf("%s: pixel %d: got %v, want %v ± %g", name, i, got[i], want[i], tol)
			}
		}
	}
}

func TestReadNotAnImage(t *testing.T) {
	_, err := Read(bytes.NewReader([]byte("1,2,3\n")), Options{Width: 28, Height: 28})
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("Read of CSV: got %v, want ErrFormat", err)
	}
	if Sniff([]byte("1,2,3\n")) {
		t.Error("Sniff of CSV: got true, want false")
	}
}
