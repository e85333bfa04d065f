package main

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/data/npy"
	"github.com/myelin-go/myelin/tensor"
)

func init() {
	scriptCmds["mnistpic"] = cmdMNISTPic
	scriptCmds["mnistrows"] = cmdMNISTRows
	scriptCmds["jsonnear"] = cmdJSONNear
}

// jsonnear FILE1 PATH1 FILE2 PATH2 TOL checks that two arrays of numbers
// have the same length and differ by at most TOL element by element (with
// !, that some element differs by more).
func cmdJSONNear(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 5 {
		ts.Fatalf("usage: jsonnear FILE1 PATH1 FILE2 PATH2 TOL")
	}
	tol, err := strconv.ParseFloat(args[4], 64)
	ts.Check(err)
	a, aok := mustLookup(ts, args[0], args[1]).([]any)
	b, bok := mustLookup(ts, args[2], args[3]).([]any)
	if !aok || !bok || len(a) != len(b) {
		ts.Fatalf("jsonnear: want two arrays of one length, got %v and %v", a, b)
	}
	worst := 0.0
	for i := range a {
		x, xok := a[i].(float64)
		y, yok := b[i].(float64)
		if !xok || !yok {
			ts.Fatalf("jsonnear: element %d: want numbers, got %v and %v", i, a[i], b[i])
		}
		worst = max(worst, math.Abs(x-y))
	}
	if near := worst <= tol; near == neg {
		ts.Fatalf("%s %s and %s %s differ by up to %g: want %s %g", args[0], args[1], args[2], args[3], worst,
			map[bool]string{false: "at most", true: "more than"}[neg], tol)
	}
}

// mnistpic FILE INDEX [light] [scale=N] [format=png|jpeg|gif] [rgba]
// writes MNIST test image INDEX as a picture: white on black as MNIST is,
// or black on white with light; each pixel an N×N block with scale=N; in
// colour (red ink) on a transparent canvas, as a drawing program saves a
// sketch, with rgba.
func cmdMNISTPic(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || neg {
		ts.Fatalf("usage: mnistpic FILE INDEX [light] [scale=N] [format=png|jpeg|gif] [rgba]")
	}
	i, err := strconv.Atoi(args[1])
	ts.Check(err)
	light, rgba, scale, format := false, false, 1, "png"
	for _, o := range args[2:] {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "light":
			light = true
		case "rgba":
			rgba = true
		case "scale":
			scale, err = strconv.Atoi(v)
			ts.Check(err)
		case "format":
			format = v
		default:
			ts.Fatalf("mnistpic: unknown option %q", o)
		}
	}
	test, err := mnist.LoadTest()
	ts.Check(err)
	s := test.Slice(i, i+1)
	var img image.Image
	if rgba {
		m := image.NewNRGBA(image.Rect(0, 0, s.Cols*scale, s.Rows*scale))
		for y := range s.Rows * scale {
			for x := range s.Cols * scale {
				ink := s.Pixels[(y/scale)*s.Cols+x/scale]
				m.SetNRGBA(x, y, color.NRGBA{R: 0, G: 0, B: 0, A: ink}) // black ink, its strength as opacity
			}
		}
		img = m
	} else {
		m := image.NewGray(image.Rect(0, 0, s.Cols*scale, s.Rows*scale))
		for y := range s.Rows * scale {
			for x := range s.Cols * scale {
				v := s.Pixels[(y/scale)*s.Cols+x/scale]
				if light {
					v = 255 - v
				}
				m.SetGray(x, y, color.Gray{v})
			}
		}
		img = m
	}
	var b bytes.Buffer
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 95})
	case "gif":
		err = gif.Encode(&b, img, nil)
	default:
		ts.Fatalf("mnistpic: unknown format %q", format)
	}
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b.Bytes(), 0o666))
}

// mnistrows FILE I J [DIR] writes MNIST test images [I, J), or those of
// the dataset in DIR, as rows of pixels in [0, 1]: an NPY float32 array of
// shape (J-I, 784) when FILE ends in .npy, otherwise CSV.
func cmdMNISTRows(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 || len(args) > 4 || neg {
		ts.Fatalf("usage: mnistrows FILE I J [DIR]")
	}
	i, err1 := strconv.Atoi(args[1])
	j, err2 := strconv.Atoi(args[2])
	if err1 != nil || err2 != nil {
		ts.Fatalf("mnistrows: bad range %q %q", args[1], args[2])
	}
	test, err := mnist.LoadTest()
	if len(args) == 4 {
		test, err = mnist.LoadTestDir(args[3])
	}
	ts.Check(err)
	s := test.Slice(i, j)
	x, err := s.X()
	ts.Check(err)
	px := x.As(tensor.Float32).Float32s() // the pixels over 255, as a model sees them
	var b bytes.Buffer
	if strings.HasSuffix(args[0], ".npy") {
		ts.Check(npy.Write(&b, []int{s.N, s.Features()}, px))
	} else {
		for r := range s.N {
			for c, v := range px[r*s.Features() : (r+1)*s.Features()] {
				if c > 0 {
					b.WriteByte(',')
				}
				// The shortest decimal that reads back as the same float32.
				b.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
			}
			b.WriteByte('\n')
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b.Bytes(), 0o666))
}
