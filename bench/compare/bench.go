package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"sort"
	"time"

	"github.com/myelin-go/myelin/bench/internal/fmapeak"
	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/tensor"
)

// bench holds the run's configuration, data and every figure measured.
type bench struct {
	cfg  config
	vals map[string][]float64 // key → one figure per round
	info map[string]string    // machine and peer facts for the report

	goPeers map[string]*goPeer // gonum and Gorgonia, built by buildGoPeers

	x, y, tx, ty *tensor.Tensor
	elapsed      time.Duration
}

func newBench(cfg config) *bench {
	return &bench{cfg: cfg, vals: map[string][]float64{}, info: map[string]string{}, goPeers: newGoPeers()}
}

func (b *bench) add(key string, v float64) { b.vals[key] = append(b.vals[key], v) }

// med returns the median of key's figures over rounds.
func (b *bench) med(key string) (float64, bool) {
	v, ok := b.vals[key]
	if !ok || len(v) == 0 {
		return 0, false
	}
	return median(v), true
}

// get is med, NaN when key has no figures (printed as a dash).
func (b *bench) get(key string) float64 {
	if v, ok := b.med(key); ok {
		return v
	}
	return math.NaN()
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func (b *bench) loadData() error { return b.load(false) }

// load reads MNIST: with bytes, the pixels stay uint8 as myelin train
// keeps them (converted a batch at a time); otherwise they are float32
// over 255, converted once, as the peers hold them (bench/torch_model.py),
// so that every framework's timed steps do the same work.
func (b *bench) load(bytes bool) error {
	train, test, err := mnist.Load()
	if err != nil {
		return err
	}
	x, err := train.X()
	if err != nil {
		return err
	}
	tx, err := test.X()
	if err != nil {
		return err
	}
	b.x, b.tx = x, tx
	if !bytes {
		b.x, b.tx = x.As(tensor.Float32), tx.As(tensor.Float32)
	}
	b.y = tensor.FromFloat32(train.OneHot(), train.N, train.Classes)
	b.ty = tensor.FromFloat32(test.OneHot(), test.N, test.Classes)
	return nil
}

// threadCounts are the GOMAXPROCS values myelin is measured at: 1, 2, and
// the machine's core count when that is more.
func (b *bench) threadCounts() []int {
	t := []int{1, 2}
	if b.cfg.maxProcs > 2 {
		t = append(t, b.cfg.maxProcs)
	}
	return t
}

// torchSetting is one thread configuration of the PyTorch peer.
type torchSetting struct {
	name          string // "1×1": torch threads × OpenBLAS threads
	torch, openbl int
}

var torchSettings = []torchSetting{{"1×1", 1, 1}, {"2×1", 2, 1}, {"2×2", 2, 2}}

// interleave runs each of fs once per round, starting in round r with
// fs[r mod len(fs)] and going round the list (with two: A B, then B A), so
// that over the rounds each runs first, last and between as often as the
// others and a drift of the host's speed within a round favours none.
func interleave(round int, fs ...func() error) error {
	for i := range fs {
		if err := fs[(round+i)%len(fs)](); err != nil {
			return err
		}
	}
	return nil
}

// withProcs runs f under runtime.GOMAXPROCS(n) after a garbage collection.
func withProcs(n int, f func() error) error {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	runtime.GC()
	return f()
}

// measurePeak adds the register-only FMA peak at each thread count under
// prefix ("peak/gemm", "peak/train"), then rests for cfg.settle: on this
// machine the two-core FMA loop left the next seconds slow (a 512² product
// on two threads timed right after it ran at 168 GFLOP/s, 204 after a
// two-second pause), and what is timed next is myelin.
func (b *bench) measurePeak(prefix string) error {
	for _, t := range b.threadCounts() {
		g, err := fmapeak.Measure(t, b.cfg.peakDur, 2)
		if err != nil {
			return err
		}
		b.add(fmt.Sprintf("%s/t=%d", prefix, t), g)
	}
	time.Sleep(b.cfg.settle)
	return nil
}

func (b *bench) phaseGemm() error {
	shapes := gemmShapes()
	for r := 0; r < b.cfg.rounds; r++ {
		err := interleave(r, func() error {
			if err := b.measurePeak("peak/gemm"); err != nil {
				return err
			}
			for _, t := range b.threadCounts() {
				if err := withProcs(t, func() error {
					for _, s := range shapes {
						b.add(fmt.Sprintf("gemm/myelin/t=%d/%s", t, s.key()), myelinGemm(s, b.cfg.gemmReps, b.cfg.gemmMin))
					}
					return nil
				}); err != nil {
					return err
				}
			}
			return nil
		}, func() error {
			if b.cfg.noPeers {
				return nil
			}
			for _, t := range b.threadCounts() {
				if err := b.numpyGemm(t, shapes); err != nil {
					return err
				}
			}
			return nil
		}, func() error {
			if b.cfg.noPeers || !b.goPeers["gonum"].measured() {
				return nil
			}
			for _, t := range b.threadCounts() {
				if err := b.gonumGemm(t, shapes); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) steps(batch int) int {
	if batch == 32 {
		return b.cfg.steps32
	}
	return b.cfg.steps128
}

func (b *bench) phaseTrain(ctx context.Context) error {
	for r := 0; r < b.cfg.rounds; r++ {
		err := interleave(r, func() error {
			if err := b.measurePeak("peak/train"); err != nil {
				return err
			}
			for _, batch := range []int{32, 128} {
				for _, t := range b.threadCounts() {
					if err := withProcs(t, func() error {
						sps, err := b.myelinTrainSteps(ctx, batch, b.cfg.trainWarm, b.steps(batch))
						b.add(fmt.Sprintf("train/myelin/t=%d/b=%d", t, batch), sps)
						return err
					}); err != nil {
						return err
					}
					for _, split := range []bool{false, true} {
						kind := "myelin-shards"
						if split {
							kind = "myelin-split"
						}
						if err := withProcs(t, func() error {
							sps, err := b.myelinTrainShards(ctx, batch, shardSize(batch), split, b.cfg.trainWarm, b.steps(batch))
							b.add(fmt.Sprintf("train/%s/t=%d/b=%d", kind, t, batch), sps)
							return err
						}); err != nil {
							return err
						}
					}
				}
			}
			return nil
		}, func() error {
			if b.cfg.noPeers {
				return nil
			}
			for _, batch := range []int{32, 128} {
				for _, s := range torchSettings {
					res, err := b.torch(s, "--mode", "train", "--batch", fmt.Sprint(batch),
						"--steps", fmt.Sprint(b.steps(batch)), "--warmup", fmt.Sprint(b.cfg.trainWarm))
					if err != nil {
						return err
					}
					b.add(fmt.Sprintf("train/torch/%s/b=%d", s.name, batch), num(res, "samples_per_sec"))
				}
			}
			return nil
		}, func() error {
			if b.cfg.noPeers || !b.goPeers["gorgonia"].measured() {
				return nil
			}
			for _, batch := range []int{32, 128} {
				for _, t := range b.threadCounts() {
					if err := b.gorgoniaTrain(t, batch); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) phaseInfer(ctx context.Context) error {
	for r := 0; r < b.cfg.rounds; r++ {
		err := interleave(r, func() error {
			for _, t := range b.threadCounts() {
				if err := withProcs(t, func() error {
					sps, err := b.myelinInfer(ctx, 1000, b.cfg.inferRep)
					b.add(fmt.Sprintf("infer/myelin/t=%d", t), sps)
					return err
				}); err != nil {
					return err
				}
			}
			return nil
		}, func() error {
			if b.cfg.noPeers {
				return nil
			}
			for _, s := range torchSettings {
				res, err := b.torch(s, "--mode", "infer", "--batch", "1000", "--repeats", fmt.Sprint(b.cfg.inferRep))
				if err != nil {
					return err
				}
				b.add("infer/torch/"+s.name, num(res, "samples_per_sec"))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) phaseLatency() error {
	for r := 0; r < b.cfg.rounds; r++ {
		err := interleave(r, func() error {
			for _, t := range b.threadCounts() {
				if err := withProcs(t, func() error {
					into, pred, err := b.myelinLatency(b.cfg.latWarm, b.cfg.latRuns)
					b.add(fmt.Sprintf("latency/myelin/t=%d", t), into)
					b.add(fmt.Sprintf("latency/myelin-predict/t=%d", t), pred)
					return err
				}); err != nil {
					return err
				}
			}
			return nil
		}, func() error {
			if b.cfg.noPeers {
				return nil
			}
			for _, s := range torchSettings {
				res, err := b.torch(s, "--mode", "latency", "--runs", fmt.Sprint(b.cfg.latRuns), "--warmup", fmt.Sprint(b.cfg.latWarm))
				if err != nil {
					return err
				}
				b.add("latency/torch/"+s.name, num(res, "latency_us_median"))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// phaseEpochs times the founding model's full training run at batch 32
// (issue 2's criterion), PyTorch at its best setting for batch 32 in the
// train phase (1×1 when that phase did not run).
func (b *bench) phaseEpochs(ctx context.Context) error {
	best := torchSettings[0]
	if s, _, ok := b.bestTorch("train/torch/%s/b=32", torchSettings, true); ok {
		best = s
	}
	b.info["epochs_torch_setting"] = best.name
	for r := 0; r < b.cfg.epRounds; r++ {
		err := interleave(r, func() error {
			return withProcs(b.cfg.maxProcs, func() error {
				secs, acc, err := b.myelinEpochs(ctx, b.cfg.epochs, 32)
				b.add("epochs/myelin/seconds", secs)
				b.add("epochs/myelin/accuracy", acc)
				return err
			})
		}, func() error {
			if b.cfg.noPeers {
				return nil
			}
			res, err := b.torch(best, "--mode", "train", "--batch", "32", "--epochs", fmt.Sprint(b.cfg.epochs))
			if err != nil {
				return err
			}
			b.add("epochs/torch/seconds", num(res, "train_seconds"))
			b.add("epochs/torch/accuracy", num(res, "test_accuracy"))
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// bestTorch returns the setting among ss with the best median for the
// key pattern (one %s for the setting's name): the highest when higher is
// better, else the lowest.
func (b *bench) bestTorch(pattern string, ss []torchSetting, higher bool) (torchSetting, float64, bool) {
	var best torchSetting
	var bv float64
	found := false
	for _, s := range ss {
		v, ok := b.med(fmt.Sprintf(pattern, s.name))
		if !ok {
			continue
		}
		if !found || (higher && v > bv) || (!higher && v < bv) {
			best, bv, found = s, v, true
		}
	}
	return best, bv, found
}

// writeRaw saves every per-round figure and the facts as JSON.
func (b *bench) writeRaw(path string) error {
	data, err := json.MarshalIndent(map[string]any{"figures": b.vals, "info": b.info}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
