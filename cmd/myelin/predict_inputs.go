package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/myelin-go/myelin/data/csv"
	"github.com/myelin-go/myelin/data/idx"
	"github.com/myelin-go/myelin/data/imagefile"
	"github.com/myelin-go/myelin/data/npy"
)

// samples are inputs read for predict: n rows of feat values, each with
// where it came from.
type samples struct {
	px      []float32
	sources []source
}

// source is where a sample came from: a picture file (Row -1), or row Row
// of a file of many samples. File is "-" for standard input.
type source struct {
	File string
	Row  int
}

// inputReader reads predict's --images arguments into model inputs.
type inputReader struct {
	feat       int               // values per sample the model takes
	picture    imagefile.Options // how pictures become samples
	pictureErr error             // why the model cannot take pictures, if it cannot
	csvHeader  bool              // CSV files start with a header line
	stdin      io.Reader
	out        samples
}

// pictureExts are the extensions a directory's pictures have.
var pictureExts = []string{".png", ".jpg", ".jpeg", ".gif"}

// add reads one --images argument: a file, a directory of pictures, or "-"
// for standard input.
func (r *inputReader) add(path string) error {
	if path == "-" {
		b, err := io.ReadAll(r.stdin)
		if err != nil {
			return fmt.Errorf("reading standard input: %w", err)
		}
		return r.addBytes("-", "standard input", b)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return r.addBytes(path, path, b)
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	n := 0
	for _, e := range ents { // ReadDir sorts by name
		if e.IsDir() || !slices.Contains(pictureExts, strings.ToLower(filepath.Ext(e.Name()))) {
			continue
		}
		p := filepath.Join(path, e.Name())
		if r.pictureErr != nil {
			return fmt.Errorf("%s: %w", p, r.pictureErr)
		}
		px, err := imagefile.ReadFile(p, r.picture)
		if err != nil {
			return err
		}
		r.push(p, px)
		n++
	}
	if n == 0 {
		return fmt.Errorf("%s holds no pictures (%s files)", path, strings.Join(pictureExts, ", "))
	}
	return nil
}

// push appends one sample.
func (r *inputReader) push(name string, px []float32) {
	r.out.px = append(r.out.px, px...)
	r.out.sources = append(r.out.sources, source{File: name, Row: -1})
}

// pushMany appends the n samples of file, a file of many.
func (r *inputReader) pushMany(file string, n int, px []float32) {
	r.out.px = append(r.out.px, px...)
	for i := range n {
		r.out.sources = append(r.out.sources, source{File: file, Row: i})
	}
}

// addBytes reads the content b of one file, telling its format by its
// first bytes (pictures, NPY, IDX, gzip-compressed IDX) and otherwise by
// the name's extension (.csv, .txt). path is "-" for standard input; what
// names it in errors.
func (r *inputReader) addBytes(path, what string, b []byte) error {
	switch {
	case imagefile.Sniff(b):
		if r.pictureErr != nil {
			return fmt.Errorf("%s: %w", what, r.pictureErr)
		}
		px, err := imagefile.Read(bytes.NewReader(b), r.picture)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		r.push(path, px)
		return nil
	case bytes.HasPrefix(b, []byte("\x93NUMPY")):
		return r.addNPY(path, what, b)
	case len(b) >= 2 && (b[0] == 0 && b[1] == 0 || b[0] == 0x1f && b[1] == 0x8b):
		a, err := idx.Read(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		n, err := imageCount(what, a, r.feat)
		if err != nil {
			return err
		}
		px := a.Float32s()
		for i := range px {
			px[i] /= 255
		}
		r.pushMany(path, n, px)
		return nil
	case strings.EqualFold(filepath.Ext(path), ".csv") || strings.EqualFold(filepath.Ext(path), ".txt"):
		t, err := csv.Read(bytes.NewReader(b), csv.Options{Header: r.csvHeader})
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if t.Cols != r.feat {
			return fmt.Errorf("%s: rows of %d values, the model takes %d", what, t.Cols, r.feat)
		}
		if t.Rows == 0 {
			return fmt.Errorf("%s holds no rows", what)
		}
		r.pushMany(path, t.Rows, t.Features)
		return nil
	}
	return fmt.Errorf("%s: not a PNG, JPEG, GIF, IDX or NPY file, and not named .csv", what)
}

// addNPY reads an array of samples: shape (N, ...) whose trailing
// dimensions hold feat values, or one sample of feat values. A uint8 array
// holds pixels and is scaled by 1/255 like IDX files; other dtypes are
// taken as they are.
func (r *inputReader) addNPY(path, what string, b []byte) error {
	a, err := npy.Read(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	px, err := a.Float32s()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n := 1
	switch {
	case len(a.Shape) >= 2 && a.Shape[0] > 0 && len(px) == a.Shape[0]*r.feat:
		n = a.Shape[0]
	case len(px) == r.feat: // one sample, flat or not
	default:
		return fmt.Errorf("%s: an array of shape %v, want (N, …) with %d values per sample", what, a.Shape, r.feat)
	}
	if strings.HasSuffix(a.DType, "u1") {
		for i := range px {
			px[i] /= 255
		}
	}
	r.pushMany(path, n, px)
	return nil
}
