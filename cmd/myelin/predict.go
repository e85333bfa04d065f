package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/myelin-go/myelin/data/idx"
	"github.com/myelin-go/myelin/data/imagefile"
	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

var predictCmd = &command{
	name:  "predict",
	usage: "myelin predict --model FILE [--images PATH ... | --index I[:J]] [--invert[=auto|true|false]] [--top K] [--json]",
	short: "classify images with a saved model",
	long: `Predict loads a model and prints, for each input, the predicted class and
its probability. Inputs come from --images, which may be given many times
and names a file, a directory (its .png, .jpg, .jpeg and .gif files, in
name order) or - for standard input, or from the test set of the dataset
by index (--index 7 or --index 0:10); with neither, the first 10 test
images.

A file given to --images may be:

	a PNG, JPEG or GIF picture (the first frame of a GIF), converted to
	  the model's input: composited over white, grayscale by ITU-R BT.601
	  luma (0.299 R + 0.587 G + 0.114 B), resized to the model's image
	  size (28×28 for MNIST) by area averaging, and scaled to [0, 1]
	  (black 0, white 1, as MNIST's pixel/255);
	an IDX file of uint8 images (N×rows×cols, or one rows×cols image),
	  scaled by 1/255;
	an NPY array of shape (N, ...) or one sample; uint8 arrays are scaled
	  by 1/255, others taken as they are;
	a CSV file (named .csv or .txt) of one sample per row, taken as it
	  is; --csv-header skips its first line.

MNIST digits are white ink on black paper, while pictures are usually dark
ink on light paper. --invert=auto (the default) inverts a picture whose
one-pixel border is mostly light (mean above one half); --invert inverts
every picture and --invert=false none. The aspect ratio is not kept: crop
a picture to the digit, roughly centred, first.

Each line starts with the picture's file name, or the sample's index for
files of many samples and for the test set. When the model file records
class names (a model trained on fashion-mnist does), or --data names a
dataset that has them, classes are printed by name. --top K also prints
the K most probable classes. With --json, each input is an object with
its index, input file (and row, for files of many samples), class,
class_name, probability, top (K classes and probabilities) and outputs
(every probability).

Predict warns, on one line on stderr, when the dataset given differs from
the one the model file records it was trained on.

Example:

	myelin predict --model model.safetensors --images digit7.png --top 3`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
		path := fs.String("model", "", "the model `file` (required)")
		var images listFlag
		fs.Var(&images, "images", "a `file` to classify (picture, IDX, NPY or CSV), a directory of pictures, or - for stdin; repeatable")
		index := fs.String("index", "", "test-set `range` to classify: I or I:J")
		data := fs.String("data", "mnist", "dataset for --index and class names: mnist or fashion-mnist")
		dataDir := fs.String("data-dir", "", "dataset directory for --index (only its t10k-* files are read)")
		var invert invertFlag
		fs.Var(&invert, "invert", "invert pictures' gray levels: auto (when the border is light), true or false")
		top := fs.Int("top", 1, "print the `K` most probable classes")
		csvHeader := fs.Bool("csv-header", false, "CSV files start with a header line")
		asJSON := fs.Bool("json", false, "print the predictions as JSON")
		return func(ctx context.Context, e *env) error {
			if len(e.args) > 0 {
				return usagef("unexpected arguments %q", e.args)
			}
			if *path == "" {
				return usagef("--model is required")
			}
			if len(images) > 0 && *index != "" {
				return usagef("give --images or --index, not both")
			}
			if *top < 1 {
				return usagef("--top %d must be at least 1", *top)
			}
			if *index != "" { // the syntax now; the range once the test set is loaded
				if _, _, err := rangeSyntax(*index); err != nil {
					return usagef("--index: %v", err)
				}
			}
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			m, err := model.Load(*path)
			if err != nil {
				return err
			}
			feat := m.InputShape().Len()
			var x *tensor.Tensor
			var labels []uint8
			var sources []source
			first := 0
			if len(images) > 0 {
				rows, cols, sizeErr := pictureSize(m) // an error only if there are pictures
				r := &inputReader{feat: feat, csvHeader: *csvHeader, stdin: os.Stdin, pictureErr: sizeErr,
					picture: imagefile.Options{Width: cols, Height: rows, Invert: invert.v}}
				for _, p := range images {
					if err := r.add(p); err != nil {
						return err
					}
				}
				sources = r.out.sources
				x = tensor.FromFloat32(r.out.px, append([]int{len(sources)}, m.InputShape()...)...) // each picture's feat values in the model's shape
				if set["data"] && m.Dataset != nil {
					d := *m.Dataset
					d.Name = strings.ToLower(*data)
					if diff := m.Dataset.Differs(&d); diff != "" {
						fmt.Fprintf(e.stderr, "myelin: warning: %s was trained on %s; this data is %s\n", *path, m.Dataset.Name, diff)
					}
				}
			} else {
				ds, err := loadData(*data, *dataDir, true)
				if err != nil {
					return err
				}
				i, j := 0, 10
				if *index != "" {
					if i, j, err = parseRange(*index, ds.test.N); err != nil {
						return usagef("--index: %v", err)
					}
				}
				warnDataset(e, *path, m, ds)
				s := ds.test.Slice(i, j)
				if s.Features() != feat {
					return fmt.Errorf("the images have %d pixels, the model takes %d", s.Features(), feat)
				}
				if x, err = modelX(s, m.InputShape()); err != nil {
					return err
				}
				labels, first = s.Labels, i
			}
			p, err := m.Predict(ctx, x, model.EvalOptions{BatchSize: 1000})
			if err != nil {
				return err
			}
			classNames := m.Dataset.ClassNamesOrNil()
			if set["data"] && *dataDir == "" {
				if n := mnist.ClassNames(*data); n != nil {
					classNames = n
				}
			}
			preds := rank(p, *top, first, sources, labels, classNames)
			if *asJSON {
				return writeJSON(e.stdout, preds)
			}
			for _, pr := range preds {
				pr.writeText(e.stdout)
			}
			return nil
		}
	},
}

// parseRange reads "I" or "I:J" as [i, j) within [0, n).
func parseRange(s string, n int) (int, int, error) {
	i, j, err := rangeSyntax(s)
	if err != nil {
		return 0, 0, err
	}
	if j > n {
		return 0, 0, fmt.Errorf("%q reaches outside the %d test images (indices 0 to %d)", s, n, n-1)
	}
	return i, j, nil
}

// imageCount returns how many images of feat pixels a (read from path)
// holds: an N×rows×cols array holds N; a rows×cols array of feat pixels is
// one image.
func imageCount(path string, a *idx.Array, feat int) (int, error) {
	if a.Type != idx.Uint8 || len(a.Dims) < 2 {
		return 0, fmt.Errorf("%s: want uint8 images (N×rows×cols, or one rows×cols image), got %s with dimensions %v", path, a.Type, a.Dims)
	}
	if len(a.Dims) == 2 && a.Len() == feat {
		return 1, nil
	}
	n := a.Dims[0]
	if n == 0 {
		return 0, fmt.Errorf("%s holds no images (dimensions %v)", path, a.Dims)
	}
	if px := a.Len() / n; px != feat {
		return 0, fmt.Errorf("%s: images of %s = %d pixels, the model takes %d", path, dimsText(a.Dims[1:]), px, feat)
	}
	return n, nil
}

// dimsText writes dimensions as 28×28.
func dimsText(dims []int) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, "×")
}

// rangeSyntax reads "I" as [I, I+1) and "I:J" as [I, J) with 0 ≤ I < J;
// whether J is within the test set is parseRange's to check.
func rangeSyntax(s string) (int, int, error) {
	a, b, isRange := strings.Cut(s, ":")
	i, err := strconv.Atoi(a)
	if err != nil {
		return 0, 0, fmt.Errorf("%q is not an index or I:J range", s)
	}
	j := i + 1
	if isRange {
		if j, err = strconv.Atoi(b); err != nil {
			return 0, 0, fmt.Errorf("%q is not an index or I:J range", s)
		}
	}
	if i < 0 {
		return 0, 0, fmt.Errorf("%q: indices start at 0", s)
	}
	if i >= j {
		return 0, 0, fmt.Errorf("%q is empty: want I:J with I < J", s)
	}
	return i, j, nil
}
