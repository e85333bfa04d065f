package main

import (
	"context"
	"flag"

	"github.com/myelin-go/myelin/model"
)

var summaryCmd = &command{
	name:  "summary",
	usage: "myelin summary --model FILE | --arch FILE [--input N]",
	short: "print a model's layers, output shapes and parameter counts",
	long: `Summary prints the Keras-style table of a saved model (--model) or of an
architecture JSON file (--arch), with trainable and non-trainable parameter
counts.

Example:

	myelin summary --arch examples/founding.json`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
		path := fs.String("model", "", "a model `file` saved by myelin train")
		arch := fs.String("arch", "", "an architecture JSON `file`")
		input := fs.Int("input", 784, "input features, for an --arch file that gives no input_shape")
		return func(ctx context.Context, e *env) error {
			if len(e.args) > 0 {
				return usagef("unexpected arguments %q", e.args)
			}
			if (*path == "") == (*arch == "") {
				return usagef("give exactly one of --model and --arch")
			}
			inputSet := false
			fs.Visit(func(f *flag.Flag) { inputSet = inputSet || f.Name == "input" })
			if inputSet && *path != "" {
				return usagef("--input applies to --arch; a --model file records its input shape")
			}
			var m *model.Sequential
			var err error
			if *path != "" {
				m, err = model.Load(*path)
			} else {
				m, err = model.ReadArchitecture(*arch)
			}
			if err != nil {
				return err
			}
			if !m.Built() {
				if *input < 1 {
					return usagef("--input %d must be positive", *input)
				}
				if err := m.Build(*input); err != nil {
					return err
				}
			}
			return m.Summary(e.stdout)
		}
	},
}
