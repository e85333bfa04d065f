package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/model"
)

var evaluateCmd = &command{
	name:  "evaluate",
	usage: "myelin evaluate --model FILE [flags]",
	short: "report a saved model's loss and accuracy on a test set",
	long: `Evaluate loads a model saved by "myelin train" and reports its loss and
metrics on the test set of the dataset (MNIST by default), in inference
mode: batch normalization uses its moving statistics. Only the test files
are read: a --data-dir needs only t10k-images-idx3-ubyte and
t10k-labels-idx1-ubyte (or their .gz).

Example:

	myelin evaluate --model model.safetensors --json`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
		path := fs.String("model", "", "the model `file` to evaluate (required)")
		data := fs.String("data", "mnist", "dataset: mnist or fashion-mnist")
		dataDir := fs.String("data-dir", "", "read the test set's IDX files (t10k-*) from `dir` instead")
		batch := fs.Int("batch-size", 1000, "samples per `batch`")
		asJSON := fs.Bool("json", false, "print the results as JSON")
		return func(ctx context.Context, e *env) error {
			if len(e.args) > 0 {
				return usagef("unexpected arguments %q", e.args)
			}
			if *path == "" {
				return usagef("--model is required")
			}
			if *batch < 1 {
				return usagef("--batch-size %d must be at least 1", *batch)
			}
			m, err := model.Load(*path)
			if err != nil {
				return err
			}
			if m.Loss() == nil {
				return fmt.Errorf("%s has no compile configuration (loss, metrics) to evaluate with", *path)
			}
			ds, err := loadData(*data, *dataDir, true)
			if err != nil {
				return err
			}
			warnDataset(e, *path, m, ds)
			classes := m.OutputShape()[len(m.OutputShape())-1]
			x, y, err := xy(ds.test, m.InputShape(), classes, losses.Sparse(m.Loss()))
			if err != nil {
				return err
			}
			res, err := m.Evaluate(ctx, x, y, model.EvalOptions{BatchSize: *batch})
			if err != nil {
				return err
			}
			if *asJSON {
				out := map[string]any{"model": *path, "data": ds.name, "samples": x.Dim(0), "test_loss": res["loss"]}
				for k, v := range res {
					if k != "loss" {
						out["test_"+k] = v
					}
				}
				return writeJSON(e.stdout, out)
			}
			fmt.Fprintf(e.stdout, "%s on %s (%d samples): loss %.4f", *path, ds.name, x.Dim(0), res["loss"])
			for _, mt := range m.Metrics() {
				fmt.Fprintf(e.stdout, " - %s %.4f", mt.Name(), res[mt.Name()])
			}
			fmt.Fprintln(e.stdout)
			return nil
		}
	},
}
