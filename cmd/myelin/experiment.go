package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/myelin-go/myelin/experiment"
)

var experimentCmd = &command{
	name:  "experiment",
	usage: "myelin experiment [NAME [flags]]",
	short: "the same network with and without batch normalization: fig1, lr, init, ...",
	long: `Experiment runs one of the batch-normalization experiments: each trains the
same network with and without BatchNormalization on the same MNIST data, from
the same seed, for the same number of steps, prints a table of what it
measured and, with --report, writes its charts. Without NAME it lists the
experiments and their default step budgets. Progress goes to standard error.

  fig1            Ioffe & Szegedy (2015) Figure 1: test accuracy and the
                  15/50/85th percentiles of a sigmoid's input, 3×100 sigmoid net
  lr              learning rates 0.001 to 10: which train, with and without BN
  init            initial weights 0.01 to 10 times Glorot's
  depth           5, 10 and 20 sigmoid layers: per-layer gradient norms
  regularization  train-versus-test gap on 1,000 images: plain, BN, dropout

Example:

	myelin experiment
	myelin experiment fig1 --steps 50000 --report fig1-report
	myelin experiment depth --json > depth.json`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
		steps := fs.Int("steps", 0, "training `steps` per network (0: the experiment's default)")
		seed := fs.Uint64("seed", 1, "random `seed` for weights, batch order and dropout")
		dir := fs.String("report", "", "write the charts (PNG, SVG), table.csv, result.json and index.html to `dir`")
		asJSON := fs.Bool("json", false, "print the result, with every measurement, as one JSON object on standard output")
		nTrain := fs.Int("train-samples", 0, "use only the first `n` training images (0: all 60,000)")
		nTest := fs.Int("test-samples", 0, "use only the first `n` test images (0: all 10,000)")
		return func(ctx context.Context, e *env) error {
			if len(e.args) == 0 {
				return listExperiments(e)
			}
			// Flags may follow the name: myelin experiment fig1 --steps 1000.
			if err := fs.Parse(e.args[1:]); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return nil
				}
				return usagef("%v", err)
			}
			if fs.NArg() > 0 {
				return usagef("unexpected arguments %q after the experiment's name", fs.Args())
			}
			exp, err := experiment.Lookup(strings.ToLower(e.args[0])) // names are case-insensitive, as everywhere
			if err != nil {
				return usagef("%v", err)
			}
			if *steps < 0 {
				return usagef("--steps %d must not be negative", *steps)
			}
			if *nTrain < 0 || *nTest < 0 {
				return usagef("--train-samples and --test-samples must not be negative")
			}
			if *seed == 0 {
				return usagef("--seed must not be 0")
			}
			data, err := experiment.LoadMNIST()
			if err != nil {
				return err
			}
			if *nTrain > 0 || *nTest > 0 {
				tr, te := data.Train.N, data.Test.N
				if *nTrain > 0 {
					tr = min(*nTrain, tr)
				}
				if *nTest > 0 {
					te = min(*nTest, te)
				}
				data = data.Subset(tr, te)
			}
			res, err := exp.Run(ctx, experiment.Options{Steps: *steps, Seed: *seed, Data: data, Log: e.stderr})
			if err != nil {
				return err
			}
			if *dir != "" {
				if err := res.WriteReport(*dir); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "wrote %s/index.html and %d charts\n", *dir, len(res.Charts))
			}
			if *asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			return res.Print(e.stdout)
		}
	},
}

// listExperiments prints the catalogue.
func listExperiments(e *env) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "experiment\tdefault steps\twhat it shows")
	for _, x := range experiment.List() {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", x.Name, x.DefaultSteps, x.Short)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "\nFull-size settings:")
	for _, x := range experiment.List() {
		fmt.Fprintf(e.stdout, "  %-15s %s\n", x.Name, x.Full)
	}
	fmt.Fprintln(e.stdout, "\nRun \"myelin experiment NAME\"; \"myelin help experiment\" for the flags.")
	return nil
}
