// Command myelin trains, evaluates and inspects neural networks built with
// the myelin library. With no flags, `myelin train` trains the founding
// model — Dense(64, relu) → BatchNormalization → Dense(64, relu) →
// BatchNormalization → Dense(10, softmax), Adam, categorical cross-entropy —
// on the MNIST digits embedded in the binary.
//
// Usage:
//
//	myelin train    [flags]              train a model and save it
//	myelin evaluate --model FILE [flags] loss and accuracy on a test set
//	myelin predict  --model FILE [flags] classify images
//	myelin summary  --model FILE | --arch FILE
//	myelin experiment [NAME [flags]]     BN vs no BN: fig1, lr, init, depth, regularization
//
// Run `myelin help COMMAND` for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// command is one subcommand: its flags are declared in its own file.
type command struct {
	name  string
	usage string // one line: "myelin train [flags]"
	short string
	long  string // prose with an example
	flags func(fs *flag.FlagSet) func(ctx context.Context, env *env) error
}

// env is what a command may touch, so tests can run commands in-process.
type env struct {
	stdout, stderr io.Writer
	args           []string // positional arguments left after flags
}

var commands = []*command{trainCmd, evaluateCmd, predictCmd, summaryCmd, exportCmd, importCmd, experimentCmd}

// usageError marks a mistake in how the command was called (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

const mainUsage = `myelin trains neural networks, with batch normalization, on the CPU.

Usage:

	myelin <command> [flags]

Commands:
%s
With no flags, "myelin train" trains the founding model on the MNIST digits
built into the program and saves it to model.safetensors:

	myelin train
	myelin evaluate --model model.safetensors

Run "myelin help <command>" for the flags of a command.
`

func printMainUsage(w io.Writer) {
	var b strings.Builder
	for _, c := range commands {
		fmt.Fprintf(&b, "\t%-11s %s\n", c.name, c.short)
	}
	fmt.Fprintf(w, mainUsage, b.String())
}

// run executes the command line args (without the program name) and
// returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printMainUsage(stderr)
		return 2
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		if len(args) > 1 {
			for _, c := range commands {
				if c.name == args[1] {
					fs, _ := newFlagSet(c, stdout)
					fs.Usage()
					return 0
				}
			}
			fmt.Fprintf(stderr, "myelin: error: unknown command %q\n\trun \"myelin help\" for the list of commands\n", args[1])
			return 2
		}
		printMainUsage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		fs, runFn := newFlagSet(c, stdout)
		// A bad flag gets the one-line error below, not the whole usage;
		// -h asked for the usage, so it goes to stdout.
		usage := fs.Usage
		fs.Usage = func() {}
		if err := fs.Parse(args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				usage()
				return 0
			}
			fmt.Fprintf(stderr, "myelin: error: %v\n\trun \"myelin help %s\" for usage\n", err, c.name)
			return 2
		}
		err := runFn(ctx, &env{stdout: stdout, stderr: stderr, args: fs.Args()})
		if err == nil {
			return 0
		}
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "myelin: error: %v\n\trun \"myelin help %s\" for usage\n", err, c.name)
			return 2
		}
		fmt.Fprintf(stderr, "myelin: error: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "myelin: error: unknown command %q\n\trun \"myelin help\" for the list of commands\n", name)
	return 2
}

func newFlagSet(c *command, out io.Writer) (*flag.FlagSet, func(context.Context, *env) error) {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by run, usage by Usage
	runFn := c.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: %s\n\n%s\n\nFlags:\n", c.usage, strings.TrimSpace(c.long))
		fs.SetOutput(out)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs, runFn
}

func main() {
	// SIGTERM (kill, a job scheduler, docker stop) ends a run like Ctrl-C:
	// train saves its last complete step when checkpointing.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
