package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

// The cnn phase (issue 12): examples/cnn.json (Reshape → Conv2D 32 → BN →
// ReLU → MaxPool → Conv2D 64 → BN → ReLU → MaxPool → Flatten → Dense 10
// softmax; Adam) trained at batch 64 and run for inference at batch 100 and
// 1000, myelin in this process against bench/torch_model.py --model cnn in
// NCHW and channels_last under each torch thread setting, interleaved by
// round; each side's best setting makes the headline ratio. After the
// rounds, once, the peak RSS of whole training processes: myelin train's
// default dense run and the CNN, against PyTorch's.

const (
	cnnBatch = 64
	// cnnShard is the rows per shard of myelin's sharded runs: shards of 16
	// were its fastest two-thread setting for this model.
	cnnShard = 16
	// childEnv names the kind of child process to be (see runChild).
	childEnv = "MYELIN_COMPARE_CHILD"
)

// cnnMeasure is one figure of the phase and issue 12's floor for myelin's
// best setting ÷ PyTorch's.
type cnnMeasure struct {
	key, name string
	batch     int
	train     bool
	floor     float64
}

var cnnMeasures = []cnnMeasure{
	{"train", "training, batch 64", cnnBatch, true, 1.5},
	{"infer100", "inference, batch 100", 100, false, 2},
	{"infer1000", "inference, batch 1000", 1000, false, 2},
}

// setting is one configuration of a side: its name in the report and its
// part of the figures' keys.
type setting struct{ name, key string }

// cnnRun is a myelin training configuration: GOMAXPROCS and shard rows
// (0: whole batches).
type cnnRun struct{ threads, shard int }

func (r cnnRun) setting() setting {
	s := setting{threadsName(r.threads) + ", whole batches", fmt.Sprintf("t=%d", r.threads)}
	if r.shard > 0 {
		s = setting{fmt.Sprintf("%s, shards of %d", threadsName(r.threads), r.shard), fmt.Sprintf("t=%d/shard=%d", r.threads, r.shard)}
	}
	return s
}

func threadsName(t int) string {
	if t == 1 {
		return "1 thread"
	}
	return fmt.Sprintf("%d threads", t)
}

// cnnTrainRuns are myelin's training configurations: whole batches on one
// thread, and shards of cnnShard at each thread count.
func (b *bench) cnnTrainRuns() []cnnRun {
	runs := []cnnRun{{1, 0}}
	for _, t := range b.threadCounts() {
		runs = append(runs, cnnRun{t, cnnShard})
	}
	return runs
}

// cnnTorch is a PyTorch configuration: memory format and thread setting.
type cnnTorch struct {
	format string // "nchw" or "channels_last", as torch_model.py's --memory-format
	s      torchSetting
}

var cnnFormats = []string{"nchw", "channels_last"}

func cnnTorchRuns() []cnnTorch {
	var l []cnnTorch
	for _, f := range cnnFormats {
		for _, s := range torchSettings {
			l = append(l, cnnTorch{f, s})
		}
	}
	return l
}

func (c cnnTorch) setting() setting {
	f := c.format
	if f == "nchw" {
		f = "NCHW"
	}
	return setting{f + " " + c.s.name, c.format + "/" + c.s.name}
}

// args are torch_model.py's arguments for measure m (--threads is added by
// bench.torch).
func (c cnnTorch) args(m cnnMeasure, cfg config) []string {
	a := []string{"--model", "cnn", "--memory-format", c.format, "--batch", fmt.Sprint(m.batch)}
	if m.train {
		return append(a, "--mode", "train", "--steps", fmt.Sprint(cfg.cnnSteps), "--warmup", fmt.Sprint(cfg.cnnWarm))
	}
	return append(a, "--mode", "infer", "--repeats", fmt.Sprint(cfg.cnnInferRep), "--samples", fmt.Sprint(cfg.cnnSamples))
}

// cnnSettings lists each side's settings for measure m.
func (b *bench) cnnSettings(m cnnMeasure) (mine, peer []setting) {
	if m.train {
		for _, r := range b.cnnTrainRuns() {
			mine = append(mine, r.setting())
		}
	} else {
		for _, t := range b.threadCounts() {
			mine = append(mine, inferSetting(t))
		}
	}
	for _, c := range cnnTorchRuns() {
		peer = append(peer, c.setting())
	}
	return mine, peer
}

func cnnKey(m cnnMeasure, side string, s setting) string {
	return fmt.Sprintf("cnn/%s/%s/%s", m.key, side, s.key)
}

// bestSetting returns the setting among ss with the highest median of
// prefix/<its key>.
func (b *bench) bestSetting(prefix string, ss []setting) (setting, float64, bool) {
	var best setting
	bv, found := 0.0, false
	for _, s := range ss {
		if v, ok := b.med(prefix + "/" + s.key); ok && (!found || v > bv) {
			best, bv, found = s, v, true
		}
	}
	return best, bv, found
}

// cnnModel returns examples/cnn.json, built and compiled as myelin train
// --arch makes it.
func (b *bench) cnnModel() (*model.Sequential, error) {
	return model.ReadArchitecture(filepath.Join(b.cfg.root, "examples", "cnn.json"))
}

func (b *bench) phaseCNN(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "compare-cnn")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// Built before the first round: no build runs while anything is timed.
	cli, err := buildMyelinCLI(b.cfg.root, filepath.Join(dir, "myelin"))
	if err != nil {
		b.info["rss_myelin_cli"] = "not measured: " + err.Error()
		logf("myelin train's RSS not measured: %v", err)
	}
	tx := b.tx.Rows(0, min(b.cfg.cnnSamples, b.tx.Dim(0)))
	for r := 0; r < b.cfg.rounds; r++ {
		err := interleave(r, func() error {
			return b.cnnMyelin(ctx, tx)
		}, func() error {
			if b.cfg.noPeers {
				return nil
			}
			return b.cnnPeer()
		})
		if err != nil {
			return err
		}
	}
	return b.measureRSS(cli, dir)
}

// cnnMyelin adds myelin's figures of one round, each on a fresh model;
// inference passes over tx.
func (b *bench) cnnMyelin(ctx context.Context, tx *tensor.Tensor) error {
	for _, r := range b.cnnTrainRuns() {
		err := withProcs(r.threads, func() error {
			m, err := b.cnnModel()
			if err != nil {
				return err
			}
			sps, err := fitSteps(ctx, m, b.x, b.y, cnnBatch, r.shard, b.cfg.cnnWarm, b.cfg.cnnSteps)
			if err != nil {
				return err
			}
			b.add(cnnKey(cnnMeasures[0], "myelin", r.setting()), sps)
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, t := range b.threadCounts() {
		err := withProcs(t, func() error {
			for _, meas := range cnnMeasures[1:] {
				m, err := b.cnnModel()
				if err != nil {
					return err
				}
				sps, err := predictRate(ctx, m, tx, meas.batch, b.cfg.cnnInferRep)
				if err != nil {
					return err
				}
				b.add(cnnKey(meas, "myelin", inferSetting(t)), sps)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// inferSetting is myelin's inference setting on t threads.
func inferSetting(t int) setting { return setting{threadsName(t), fmt.Sprintf("t=%d", t)} }

// cnnPeer adds PyTorch's figures of one round.
func (b *bench) cnnPeer() error {
	for _, c := range cnnTorchRuns() {
		for _, m := range cnnMeasures {
			res, err := b.torch(c.s, c.args(m, b.cfg)...)
			if err != nil {
				return err
			}
			if got, _ := res["first_conv_output"].(string); got != c.format {
				b.info["warning_cnn_layout"] = fmt.Sprintf("PyTorch %s: the first convolution's output is %q, not %s", c.setting().name, got, c.format)
			}
			b.add(cnnKey(m, "torch", c.setting()), num(res, "samples_per_sec"))
		}
	}
	return nil
}

// buildMyelinCLI builds cmd/myelin into out.
func buildMyelinCLI(root, out string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), goBuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", out, "./cmd/myelin")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/myelin: %v: %s", err, oneLine(string(msg)))
	}
	return out, nil
}

// measureRSS adds the peak RSS (MiB) of four training processes in
// b.cfg.rounds interleaved rounds (a Go process's peak varies by about 10%
// from run to run with the collector's timing): myelin train --epochs 1
// (the founding model, built-in MNIST, batch 32) against torch_model.py
// --mode train --epochs 1, and the CNN for a few steps at batch 64
// followed by the test set's evaluation at batch 1000 (as myelin train
// ends), myelin in a child of this program against torch_model.py --model
// cnn. Each side runs at its fastest training setting of this run.
func (b *bench) measureRSS(cli, dir string) error {
	run, _ := b.bestCNNRun()
	b.info["rss/cnn/myelin"] = run.setting().name
	if cli != "" {
		b.info["rss/dense/myelin"] = fmt.Sprintf("`myelin train --epochs 1`, GOMAXPROCS %d", b.cfg.maxProcs)
	}
	dense := torchSettings[0]
	if s, _, ok := b.bestTorch("train/torch/%s/b=32", torchSettings, true); ok {
		dense = s
	}
	c := b.bestCNNTorch()
	if !b.cfg.noPeers {
		b.info["rss/dense/torch"] = "`torch_model.py --mode train --epochs 1`, " + dense.name
		b.info["rss/cnn/torch"] = c.setting().name
	}
	logf("peak RSS: %s", plural(b.cfg.rounds, "round"))
	for r := 0; r < b.cfg.rounds; r++ {
		err := interleave(r, func() error {
			if cli != "" {
				ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
				defer cancel()
				cmd := b.denseCLICmd(ctx, cli, dir)
				_, rss, err := runRSS(ctx, strings.Join(cmd.Args, " "), cmd)
				if err != nil {
					return err
				}
				b.add("rss/dense/myelin", rss)
			}
			res, rss, err := b.cnnChild(run)
			if err != nil {
				return err
			}
			if acc := num(res, "test_accuracy"); bad(acc) {
				return fmt.Errorf("the CNN child printed no test_accuracy: %v", res)
			}
			b.add("rss/cnn/myelin", rss)
			return nil
		}, func() error {
			if b.cfg.noPeers {
				return nil
			}
			_, rss, err := b.torchRSS(dense, "--mode", "train", "--epochs", "1")
			if err != nil {
				return err
			}
			b.add("rss/dense/torch", rss)
			if _, rss, err = b.torchRSS(c.s, c.rssArgs(b.cfg.rssSteps)...); err != nil {
				return err
			}
			b.add("rss/cnn/torch", rss)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// denseCLICmd is myelin train's default run for one epoch on all cores,
// saving its model into dir as the default run saves it into the working
// directory.
func (b *bench) denseCLICmd(ctx context.Context, cli, dir string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, cli, "train", "--epochs", "1", "--verbose", "0", "--out", filepath.Join(dir, "model.safetensors"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", b.cfg.maxProcs))
	return cmd
}

// rssArgs are torch_model.py's arguments for the CNN's RSS run: 1 + steps
// training steps, then the test set's evaluation at batch 1000, as the
// myelin child does.
func (c cnnTorch) rssArgs(steps int) []string {
	return []string{"--model", "cnn", "--memory-format", c.format, "--mode", "train", "--batch", fmt.Sprint(cnnBatch),
		"--steps", fmt.Sprint(steps), "--warmup", "1", "--evaluate"}
}

// bestCNNRun is myelin's fastest CNN training configuration in this run,
// or shards of cnnShard on all cores when none was measured.
func (b *bench) bestCNNRun() (cnnRun, bool) {
	mine, _ := b.cnnSettings(cnnMeasures[0])
	s, _, ok := b.bestSetting("cnn/train/myelin", mine)
	for _, r := range b.cnnTrainRuns() {
		if ok && r.setting().key == s.key {
			return r, true
		}
	}
	return cnnRun{b.cfg.maxProcs, cnnShard}, false
}

// bestCNNTorch is PyTorch's fastest CNN training configuration in this
// run, or NCHW 1×1 when none was measured.
func (b *bench) bestCNNTorch() cnnTorch {
	_, peer := b.cnnSettings(cnnMeasures[0])
	s, _, ok := b.bestSetting("cnn/train/torch", peer)
	for _, c := range cnnTorchRuns() {
		if ok && c.setting().key == s.key {
			return c
		}
	}
	return cnnTorch{"nchw", torchSettings[0]}
}

// childCmd is the command line of a child that trains the CNN as run
// says, for RSS: this program again, told by childEnv what to be.
func (b *bench) childCmd(ctx context.Context, exe string, run cnnRun) *exec.Cmd {
	cmd := exec.CommandContext(ctx, exe, "--root", b.cfg.root, "--steps", fmt.Sprint(b.cfg.rssSteps), "--shard", fmt.Sprint(run.shard))
	cmd.Dir = b.cfg.root
	cmd.Env = append(os.Environ(), childEnv+"=cnn-train", fmt.Sprintf("GOMAXPROCS=%d", run.threads))
	return cmd
}

// cnnChild runs the CNN child and returns its object and peak RSS (MiB).
func (b *bench) cnnChild(run cnnRun) (map[string]any, float64, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	what := "the CNN child (" + run.setting().name + ")"
	out, rss, err := runRSS(ctx, what, b.childCmd(ctx, exe, run))
	if err != nil {
		return nil, 0, err
	}
	res, err := parseJSONLines(what, out)
	if err != nil {
		return nil, 0, err
	}
	return res[len(res)-1], rss, nil
}

// runChild is the whole of a child process (kind "cnn-train"): it trains
// examples/cnn.json on all of MNIST, its pixels kept as bytes as myelin
// train keeps them, at batch 64 for 1 + --steps steps, evaluates the test
// set at batch 1000, as myelin train does after training, and prints one
// JSON object.
func runChild(kind string, args []string) error {
	if kind != "cnn-train" {
		return fmt.Errorf("%s=%q: unknown child", childEnv, kind)
	}
	fs := flag.NewFlagSet("compare child", flag.ContinueOnError)
	root := fs.String("root", "", "repository root")
	steps := fs.Int("steps", 20, "training steps after the first")
	shard := fs.Int("shard", 0, "rows per shard (0: whole batches)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b := newBench(config{root: *root})
	if err := b.load(true); err != nil {
		return err
	}
	m, err := b.cnnModel()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if _, err := fitSteps(ctx, m, b.x, b.y, cnnBatch, *shard, 1, *steps); err != nil {
		return err
	}
	res, err := m.Evaluate(ctx, b.tx, b.ty, model.EvalOptions{BatchSize: 1000})
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"peer": "myelin", "model": "cnn", "batch": cnnBatch, "steps": 1 + *steps, "shard": *shard,
		"gomaxprocs": runtime.GOMAXPROCS(0), "test_accuracy": res["accuracy"],
	})
}
