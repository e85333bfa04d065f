package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/myelin-go/myelin/data/imagefile"
	"github.com/myelin-go/myelin/model"
)

// invertFlag is --invert: a boolean flag (--invert, --invert=false) that
// also takes "auto", its default.
type invertFlag struct{ v imagefile.Invert }

func (f *invertFlag) String() string {
	switch f.v {
	case imagefile.InvertAlways:
		return "true"
	case imagefile.InvertNever:
		return "false"
	}
	return "auto"
}

func (f *invertFlag) Set(s string) error {
	switch strings.ToLower(s) {
	case "auto":
		f.v = imagefile.InvertAuto
	case "true", "1", "yes":
		f.v = imagefile.InvertAlways
	case "false", "0", "no":
		f.v = imagefile.InvertNever
	default:
		return fmt.Errorf("want auto, true or false, got %q", s)
	}
	return nil
}

// IsBoolFlag lets --invert stand alone, meaning true.
func (f *invertFlag) IsBoolFlag() bool { return true }

// listFlag is a flag that may be given many times, collecting its values.
type listFlag []string

func (f *listFlag) String() string { return strings.Join(*f, ",") }

func (f *listFlag) Set(s string) error {
	*f = append(*f, s)
	return nil
}

// pictureSize returns the rows and columns a picture is resized to for m:
// the dataset's image shape as the model file records it, or else the side
// of a square of the model's input size.
func pictureSize(m *model.Sequential) (rows, cols int, err error) {
	feat := m.InputShape().Len()
	if d := m.Dataset; d != nil && len(d.InputShape) == 2 && d.InputShape[0]*d.InputShape[1] == feat {
		return d.InputShape[0], d.InputShape[1], nil
	}
	side := int(math.Round(math.Sqrt(float64(feat))))
	if side*side != feat {
		return 0, 0, fmt.Errorf("the model takes %d values, not a square picture, and its file records no image shape", feat)
	}
	return side, side, nil
}
