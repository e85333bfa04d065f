// Command gorgonia trains myelin's founding model in Gorgonia and prints
// its training speed as one JSON object, for bench/compare.
//
// It lives in its own module so that myelin's go.mod does not carry
// Gorgonia and its dependencies; bench/compare builds it and runs it in
// the same rounds as myelin and PyTorch. Threads follow GOMAXPROCS, set in
// the environment (Gorgonia's products run on gonum's parallel Sgemm).
//
// Usage:
//
//	go run . --data ../../data/mnist/files --batch 32 --steps 1500 --warmup 100
//
// Fields of the output, like bench/torch_model.py --mode train --steps:
// peer, mode, batch, steps, warmup_steps, train_seconds, samples_per_sec,
// ms_per_step, last_loss, gomaxprocs, go_version, gorgonia_version,
// gonum_version, model.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gorgonia", flag.ContinueOnError)
	data := fs.String("data", "data/mnist/files", "directory with MNIST's train-*.gz IDX files")
	batch := fs.Int("batch", 32, "batch size")
	steps := fs.Int("steps", 1500, "timed training steps")
	warmup := fs.Int("warmup", 100, "untimed training steps before the timed ones")
	seed := fs.Uint64("seed", 1, "seed of the shuffle")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *batch < 2 || *steps < 1 || *warmup < 0 {
		return fmt.Errorf("gorgonia: --batch %d, --steps %d, --warmup %d: want a batch of at least 2, a step, no negative warm-up", *batch, *steps, *warmup)
	}
	x, labels, err := loadTrain(*data)
	if err != nil {
		return err
	}
	if *batch > len(labels) {
		return fmt.Errorf("gorgonia: --batch %d is more than the %d training images", *batch, len(labels))
	}
	m, err := newMLP(*batch)
	if err != nil {
		return err
	}
	next := batches(x, labels, *batch, *seed, m.xt.Data().([]float32), m.yt.Data().([]float32))
	for i := 0; i < *warmup; i++ {
		next()
		if _, err := m.step(); err != nil {
			return err
		}
	}
	var loss float32
	t0 := time.Now()
	for i := 0; i < *steps; i++ {
		next()
		if loss, err = m.step(); err != nil {
			return err
		}
	}
	secs := time.Since(t0).Seconds()
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		return fmt.Errorf("gorgonia: loss %v after %d steps: the model did not train", loss, *warmup+*steps)
	}
	out := map[string]any{
		"peer": "gorgonia", "mode": "train", "batch": *batch,
		"steps": *steps, "warmup_steps": *warmup, "train_seconds": secs,
		"samples_per_sec": float64(*steps**batch) / secs, "ms_per_step": 1e3 * secs / float64(*steps),
		"last_loss": loss, "gomaxprocs": runtime.GOMAXPROCS(0), "go_version": runtime.Version(),
		"gorgonia_version": depVersion("gorgonia.org/gorgonia"), "gonum_version": depVersion("gonum.org/v1/gonum"),
		"model": "Dense 64 relu, BatchNorm, Dense 64 relu, BatchNorm, Dense 10 softmax; Adam; float32; last partial batch dropped",
	}
	return json.NewEncoder(stdout).Encode(out)
}

// batches returns a function that copies the next batch into xb and yb
// (one-hot): shuffled rows, reshuffled at each epoch, the last partial
// batch dropped because Gorgonia's graph has a fixed batch size.
func batches(x []float32, labels []byte, batch int, seed uint64, xb, yb []float32) func() {
	rng := rand.New(rand.NewPCG(seed, 0x6d79656c696e))
	n := len(labels)
	perm := rng.Perm(n)
	pos := 0
	return func() {
		if pos+batch > n {
			rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			pos = 0
		}
		clear(yb)
		for r, i := range perm[pos : pos+batch] {
			copy(xb[r*features:(r+1)*features], x[i*features:(i+1)*features])
			yb[r*classes+int(labels[i])] = 1
		}
		pos += batch
	}
}

// depVersion returns the version of module path in this binary, "unknown"
// when the build carries no module information.
func depVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
}
