// Command compare runs myelin and its peers side by side on one machine and
// prints a Markdown table of their figures and ratios (myelin/peer).
//
// The peers are PyTorch 1.13 (bench/torch_model.py: the founding model's
// training steps, five epochs, batch inference and single-sample latency;
// the CNN of examples/cnn.json in NCHW and channels_last, with the peak RSS
// of training processes beside myelin train's)
// and NumPy/OpenBLAS sgemm (bench/numpy_gemm.py), run with
// /usr/bin/python3 under each thread setting: torch threads × OpenBLAS
// threads 1×1, 2×1 and 2×2, OpenBLAS forced to its best kernels for the CPU
// (OPENBLAS_CORETYPE=SkylakeX on AVX-512); and two Go peers, each a program
// in its own module under bench/ so that myelin's go.mod does not carry
// them: gonum's pure-Go Sgemm (bench/gonum) and the founding model in
// Gorgonia (bench/gorgonia), built once before the first round and run
// under GOMAXPROCS 1 and 2. myelin's figures are measured in this process,
// the same operations timed the same way, under runtime.GOMAXPROCS 1 and 2
// (and the machine's core count).
//
// The host's speed drifts, so every figure is taken in several rounds that
// run myelin and each peer in turn, the order rotating from round to round
// (A B C, then B C A, ...), and the table shows medians over rounds. Every
// ratio and every verdict compares figures taken in the same run: no
// figure quoted from elsewhere enters the report. A peer that cannot be
// built or run here is reported as not measured. The register-only FMA
// peak (bench/internal/fmapeak) is measured in the same rounds.
//
// Usage:
//
//	go run ./bench/compare                    # the full run (estimated 8-12 minutes on a quiet 2-core machine)
//	go run ./bench/compare --quick            # two to three minutes: checks the pipeline, figures meaningless
//	go run ./bench/compare --out BENCHMARKS.md
//
// Python is a benchmark dependency only, and the Go peers' modules are
// outside myelin's: nothing in myelin's build or tests runs them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// config holds the knobs of one run; quick mode shrinks every count.
type config struct {
	quick     bool
	rounds    int
	epRounds  int
	epochs    int
	python    string
	root      string
	coretype  string
	noPeers   bool
	only      map[string]bool
	maxProcs  int // "all cores" for myelin
	trainWarm int
	steps32   int
	steps128  int
	inferRep  int
	latRuns   int
	latWarm   int
	gemmReps  int
	gemmMin   float64 // seconds per GEMM repeat
	peakDur   time.Duration
	settle    time.Duration // pause after the FMA peak loop

	cnnWarm     int // untimed CNN training steps
	cnnSteps    int // timed CNN training steps
	cnnSamples  int // test images per CNN inference pass
	cnnInferRep int // timed CNN inference passes
	rssSteps    int // CNN training steps of the peak-RSS runs
}

var phases = []string{"gemm", "train", "infer", "latency", "epochs", "distributed", "cnn"}

func main() {
	if file := os.Getenv(rssEnv); file != "" {
		if err := runGoBetween(file, os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "compare go-between: error:", err)
			os.Exit(1)
		}
		return
	}
	if kind := os.Getenv(childEnv); kind != "" {
		if err := runChild(kind, os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "compare child: error:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "compare: error:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "tiny counts, one round: validates the pipeline in two to three minutes; the figures mean nothing")
	out := fs.String("out", "", "also write the Markdown report to this file (e.g. BENCHMARKS.md), keeping what the file has below its end marker")
	raw := fs.String("raw", "", "also write every per-round figure as JSON to this file")
	rounds := fs.Int("rounds", 5, "rounds of each measurement (medians over rounds; this host slows one core for seconds at a time, so a median of three often picked two slowed rounds)")
	epRounds := fs.Int("epoch-rounds", 3, "rounds of the five-epoch wall-time comparison")
	epochs := fs.Int("epochs", 5, "epochs of the wall-time comparison at batch 32")
	python := fs.String("python", "/usr/bin/python3", "the Python interpreter that has torch and numpy")
	root := fs.String("root", "", "repository root (default: found from the working directory)")
	coretype := fs.String("coretype", "auto", "OPENBLAS_CORETYPE for the peers (auto: SkylakeX with AVX-512, Haswell with AVX2)")
	noPeers := fs.Bool("no-peers", false, "measure myelin only (no Python, no Go peers)")
	only := fs.String("only", "", "comma-separated phases to run: "+strings.Join(phases, ","))
	gemmMin := fs.Float64("gemm-min", 0.03, "seconds per GEMM repeat, for myelin and NumPy alike")
	cnnSteps := fs.Int("cnn-steps", 100, "cnn phase: timed training steps at batch 64 (after 10 untimed ones)")
	cnnSamples := fs.Int("cnn-samples", 2000, "cnn phase: test images per inference pass (PyTorch's CNN infers about 1,500 images/s here)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./bench/compare [--quick] [--out BENCHMARKS.md] [flags]\n\n"+
			"Runs myelin and its peers (PyTorch, NumPy/OpenBLAS, gonum, Gorgonia) interleaved on this\n"+
			"machine and prints a Markdown table of medians and ratios from this run alone. Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *rounds < 1 || *epRounds < 1 || *epochs < 1 {
		return fmt.Errorf("--rounds, --epoch-rounds and --epochs must be at least 1")
	}
	if *cnnSteps < 1 || *cnnSamples < 1 {
		return fmt.Errorf("--cnn-steps and --cnn-samples must be at least 1")
	}
	if !(*gemmMin > 0 && *gemmMin <= 10) {
		return fmt.Errorf("--gemm-min %g: want seconds in (0, 10]", *gemmMin)
	}
	cfg := config{
		quick: *quick, rounds: *rounds, epRounds: *epRounds, epochs: *epochs,
		python: *python, coretype: *coretype, noPeers: *noPeers,
		maxProcs:  max(2, runtime.NumCPU()),
		trainWarm: 100, steps32: 1500, steps128: 400,
		inferRep: 5, latRuns: 2000, latWarm: 100,
		gemmReps: 5, gemmMin: *gemmMin, peakDur: 300 * time.Millisecond, settle: 2 * time.Second,
		cnnWarm: 10, cnnSteps: *cnnSteps, cnnSamples: *cnnSamples, cnnInferRep: 3, rssSteps: 20,
	}
	if cfg.quick {
		cfg.rounds, cfg.epRounds = 1, 1
		if !isSet(fs, "epochs") {
			cfg.epochs = 1
		}
		cfg.trainWarm, cfg.steps32, cfg.steps128 = 5, 20, 10
		cfg.inferRep, cfg.latRuns, cfg.latWarm = 1, 50, 10
		cfg.gemmReps, cfg.gemmMin, cfg.peakDur, cfg.settle = 1, 0.002, 20*time.Millisecond, 0
		cfg.cnnWarm, cfg.cnnInferRep, cfg.rssSteps = 2, 1, 5
		if !isSet(fs, "cnn-steps") {
			cfg.cnnSteps = 5
		}
		if !isSet(fs, "cnn-samples") {
			cfg.cnnSamples = 1000
		}
	}
	if *only != "" {
		cfg.only = map[string]bool{}
		for _, p := range strings.Split(*only, ",") {
			p = strings.TrimSpace(p)
			if !contains(phases, p) {
				return fmt.Errorf("--only: unknown phase %q (want some of %s)", p, strings.Join(phases, ","))
			}
			cfg.only[p] = true
		}
	}
	if cfg.coretype == "auto" {
		cfg.coretype = autoCoretype()
	}
	var err error
	if cfg.root, err = findRoot(*root); err != nil {
		return err
	}

	start := time.Now()
	b := newBench(cfg)
	if err := b.loadData(); err != nil {
		return err
	}
	if !cfg.noPeers {
		if err := b.checkPeers(); err != nil {
			return fmt.Errorf("%v\n(install the peers: apt-get install -y python3-torch python3-numpy libopenblas0-pthread; or pass --no-peers)", err)
		}
		dir, err := os.MkdirTemp("", "myelin-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		b.buildGoPeers(dir) // before the first round: no build runs while anything is timed
	} else {
		for _, p := range b.goPeers {
			p.why = "--no-peers"
		}
	}
	ctx := context.Background()
	for _, ph := range phases {
		if cfg.only != nil && !cfg.only[ph] {
			continue
		}
		t0 := time.Now()
		logf("phase %s ...", ph)
		var err error
		switch ph {
		case "gemm":
			err = b.phaseGemm()
		case "train":
			err = b.phaseTrain(ctx)
		case "infer":
			err = b.phaseInfer(ctx)
		case "latency":
			err = b.phaseLatency()
		case "epochs":
			err = b.phaseEpochs(ctx)
		case "distributed":
			err = b.phaseDistributed()
		case "cnn":
			err = b.phaseCNN(ctx)
		}
		if err != nil {
			return fmt.Errorf("phase %s: %w", ph, err)
		}
		logf("phase %s done in %.0fs", ph, time.Since(t0).Seconds())
	}
	b.elapsed = time.Since(start)

	report := b.report(commandLine(args))
	fmt.Print(report)
	if *out != "" {
		if err := writeReport(*out, report); err != nil {
			return err
		}
		logf("wrote %s", *out)
	}
	if *raw != "" {
		if err := b.writeRaw(*raw); err != nil {
			return err
		}
		logf("wrote %s", *raw)
	}
	logf("total %.0fs", b.elapsed.Seconds())
	return nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", args...)
}

// findRoot returns dir, or the nearest directory at or above the working
// directory that holds bench/torch_model.py.
func findRoot(dir string) (string, error) {
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "bench", "torch_model.py")); err != nil {
			return "", fmt.Errorf("--root %s: %v", dir, err)
		}
		return dir, nil
	}
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "bench", "torch_model.py")); err == nil {
			return d, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", errors.New("cannot find the repository root (bench/torch_model.py); run from the repository or pass --root")
		}
		d = up
	}
}

// commandLine is the command that reproduces this run, for the report.
func commandLine(args []string) string {
	parts := []string{"go run ./bench/compare"}
	for _, a := range args {
		if strings.ContainsAny(a, " \t\"'$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
