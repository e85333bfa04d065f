package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/myelin-go/myelin/data/idx"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

var predictCmd = &command{
	name:  "predict",
	usage: "myelin predict --model FILE [--images IDX | --index I[:J]] [--json]",
	short: "classify images with a saved model",
	long: `Predict loads a model and prints, for each image, the predicted class and
its probability. Images come from an IDX file (--images, uint8 pixels scaled
to [0, 1], as in MNIST) or from the test set of the dataset by index
(--index 7 or --index 0:10); with neither, the first 10 test images.

Example:

	myelin predict --model model.safetensors --index 0:5`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
		path := fs.String("model", "", "the model `file` (required)")
		images := fs.String("images", "", "an IDX `file` of images to classify")
		index := fs.String("index", "", "test-set `range` to classify: I or I:J")
		data := fs.String("data", "mnist", "dataset for --index: mnist or fashion-mnist")
		dataDir := fs.String("data-dir", "", "dataset directory for --index (only its t10k-* files are read)")
		asJSON := fs.Bool("json", false, "print the predictions as JSON")
		return func(ctx context.Context, e *env) error {
			if len(e.args) > 0 {
				return usagef("unexpected arguments %q", e.args)
			}
			if *path == "" {
				return usagef("--model is required")
			}
			if *images != "" && *index != "" {
				return usagef("give --images or --index, not both")
			}
			if *index != "" { // the syntax now; the range once the test set is loaded
				if _, _, err := rangeSyntax(*index); err != nil {
					return usagef("--index: %v", err)
				}
			}
			m, err := model.Load(*path)
			if err != nil {
				return err
			}
			feat := m.InputShape().Len()
			var x *tensor.Tensor
			var labels []uint8
			first := 0
			if *images != "" {
				a, err := idx.ReadFile(*images)
				if err != nil {
					return err
				}
				n, err := imageCount(*images, a, feat)
				if err != nil {
					return err
				}
				px := a.Float32s()
				for i := range px {
					px[i] /= 255
				}
				x = tensor.FromFloat32(px, n, feat)
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
				s := ds.test.Slice(i, j)
				if s.Features() != feat {
					return fmt.Errorf("the images have %d pixels, the model takes %d", s.Features(), feat)
				}
				x = tensor.FromFloat32(s.Images, s.N, feat)
				labels, first = s.Labels, i
			}
			p, err := m.Predict(ctx, x, model.EvalOptions{BatchSize: 1000})
			if err != nil {
				return err
			}
			type pred struct {
				Index       int       `json:"index"`
				Class       int       `json:"class"`
				Probability float64   `json:"probability"`
				Label       *int      `json:"label,omitempty"`
				Outputs     []float64 `json:"outputs"`
			}
			c := p.Len() / p.Dim(0)
			var preds []pred
			for i := range p.Dim(0) {
				pr := pred{Index: first + i, Outputs: make([]float64, c)}
				for k := range c {
					v := p.Index(i*c + k)
					pr.Outputs[k] = v
					if k == 0 || v > pr.Probability {
						pr.Class, pr.Probability = k, v
					}
				}
				if labels != nil {
					l := int(labels[i])
					pr.Label = &l
				}
				preds = append(preds, pr)
			}
			if *asJSON {
				return writeJSON(e.stdout, preds)
			}
			for _, pr := range preds {
				fmt.Fprintf(e.stdout, "%d: class %d (p=%.4f)", pr.Index, pr.Class, pr.Probability)
				if pr.Label != nil {
					mark := "ok"
					if *pr.Label != pr.Class {
						mark = "WRONG"
					}
					fmt.Fprintf(e.stdout, " label %d %s", *pr.Label, mark)
				}
				fmt.Fprintln(e.stdout)
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
