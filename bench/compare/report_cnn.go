package main

import (
	"fmt"
	"slices"
	"strings"
)

// rssFloorMiB is issue 12's ceiling for myelin train's peak RSS, 150 MB,
// in the MiB that getrusage counts.
const rssFloorMiB = 150e6 / (1 << 20)

// cnnReport prints the cnn phase's tables: samples/s by setting, each
// side's best against the other's with issue 12's floors, and peak RSS.
func (b *bench) cnnReport(p printer) {
	if b.cfg.only != nil && !b.cfg.only["cnn"] {
		return
	}
	p("## The CNN (examples/cnn.json; issue 12)\n\n")
	p("Reshape 28×28×1 → Conv2D 32 3×3 → BN → ReLU → MaxPool 2 → Conv2D 64 3×3 → BN → ReLU → MaxPool 2 → Flatten →\n")
	p("Dense 10 softmax; Adam lr 2e-3 (the file's cosine decay is left out on both sides: it changes no step's work), categorical cross-entropy, Keras BN (momentum 0.99, ε 1e-3). Training: samples/s\n")
	p("over %d timed steps at batch %d after %d untimed ones, fresh model, shuffled MNIST, batch gathering included\n", b.cfg.cnnSteps, cnnBatch, b.cfg.cnnWarm)
	p("(myelin `Fit` in this process, whole batches or `ShardSize` %d; PyTorch `bench/torch_model.py --model cnn\n", cnnShard)
	p("--mode train --steps`). Inference: samples/s of a pass over the first %d test images, softmax included,\n", b.cfg.cnnSamples)
	passes := fmt.Sprintf("%d passes", b.cfg.cnnInferRep)
	if b.cfg.cnnInferRep == 1 {
		passes = "1 pass"
	}
	p("median of %s (myelin `Predict`; PyTorch eval mode, `no_grad`). PyTorch runs with its model and\n", passes)
	p("inputs in NCHW or `torch.channels_last` under each torch×OpenBLAS thread setting.\n\n")
	if w, ok := b.info["warning_cnn_layout"]; ok {
		p("> **Warning:** %s\n\n", w)
	}
	p("| side | setting |")
	for _, m := range cnnMeasures {
		p(" %s |", m.name)
	}
	p("\n|---|---|---|---|---|\n")
	for _, t := range b.threadCounts() {
		var train []string
		for _, r := range b.cnnTrainRuns() {
			if r.threads != t {
				continue
			}
			what := "whole batches"
			if r.shard > 0 {
				what = fmt.Sprintf("shards of %d", r.shard)
			}
			train = append(train, fmt.Sprintf("%s (%s)", count(b.get(cnnKey(cnnMeasures[0], "myelin", r.setting()))), what))
		}
		p("| myelin | %s | %s |", threadsName(t), strings.Join(train, " · "))
		for _, m := range cnnMeasures[1:] {
			p(" %s |", count(b.get(cnnKey(m, "myelin", inferSetting(t)))))
		}
		p("\n")
	}
	for _, c := range cnnTorchRuns() {
		p("| PyTorch | %s |", c.setting().name)
		for _, m := range cnnMeasures {
			p(" %s |", count(b.get(cnnKey(m, "torch", c.setting()))))
		}
		p("\n")
	}
	p("\nEach side at its best setting of this run (the setting with the highest median), with the lowest and\n")
	p("highest of its rounds:\n\n")
	p("| measure | myelin samples/s (setting) | myelin's rounds | PyTorch samples/s (setting) | PyTorch's rounds | myelin/PyTorch | issue 12 floor | verdict |\n|---|---|---|---|---|---|---|---|\n")
	for _, m := range cnnMeasures {
		mine, peer := b.cnnSettings(m)
		ms, mv, mok := b.bestSetting(fmt.Sprintf("cnn/%s/myelin", m.key), mine)
		ps, pv, pok := b.bestSetting(fmt.Sprintf("cnn/%s/torch", m.key), peer)
		if !mok {
			mv, ms.name = nan, "—"
		}
		if !pok {
			pv, ps.name = nan, "—"
		}
		r := mv / pv
		p("| %s | %s (%s) | %s | %s (%s) | %s | %s | ≥ %g× | %s |\n", m.name, count(mv), ms.name, b.spread(cnnKey(m, "myelin", ms), count),
			count(pv), ps.name, b.spread(cnnKey(m, "torch", ps), count), times(r), m.floor, verdict(r >= m.floor, !bad(r)))
	}
	p("\n")
	b.rssReport(p)
}

// rssReport prints the peak RSS table.
func (b *bench) rssReport(p printer) {
	p("### Peak RSS of training processes\n\n")
	p("Peak resident set (MiB, from the finished process's rusage, started from a small go-between so that the\n")
	p("runner's own peak does not count), median of %s after the timing rounds, interleaved. Dense: the\n", plural(b.cfg.rounds, "run"))
	p("founding model, one epoch at batch 32, then the test set's evaluation (`myelin train --epochs 1` built from\n")
	p("this tree, saving its model; `torch_model.py --mode train --epochs 1`). CNN: 1 + %d training steps at batch\n", b.cfg.rssSteps)
	p("%d on all of MNIST, then the test set's evaluation at batch 1000, as `myelin train --arch examples/cnn.json`\n", cnnBatch)
	p("ends (myelin: a child of this program, which has no step limit to pass to `myelin train`; PyTorch:\n")
	p("`torch_model.py --model cnn --mode train --steps %d --warmup 1 --evaluate`). Each side at its fastest training\n", b.cfg.rssSteps)
	p("setting of this run. A ratio below 1 means myelin's process is the smaller.\n\n")
	if why, ok := b.info["rss_myelin_cli"]; ok {
		p("myelin train: %s\n\n", why)
	}
	p("| process | myelin MiB (setting) | myelin's runs | PyTorch MiB (setting) | PyTorch's runs | myelin/PyTorch | issue 12 | verdict |\n|---|---|---|---|---|---|---|---|\n")
	for _, row := range []struct {
		name, key string
		ceiling   bool
	}{{"dense, 1 epoch", "dense", true}, {"CNN", "cnn", false}} {
		mine, peer := b.get("rss/"+row.key+"/myelin"), b.get("rss/"+row.key+"/torch")
		floor, v := "—", "—"
		if row.ceiling {
			floor = fmt.Sprintf("myelin ≤ 150 MB (%.0f MiB)", rssFloorMiB)
			v = verdict(mine <= rssFloorMiB, !bad(mine))
		}
		p("| %s | %s (%s) | %s | %s (%s) | %s | %s | %s | %s |\n", row.name, mib(mine), b.infoOr("rss/"+row.key+"/myelin", "—"), b.spread("rss/"+row.key+"/myelin", mib),
			mib(peer), b.infoOr("rss/"+row.key+"/torch", "—"), b.spread("rss/"+row.key+"/torch", mib), times(mine/peer), floor, v)
	}
	p("\n")
}

// spread returns the lowest and highest of key's figures over rounds as
// "lo–hi", or a dash with fewer than two.
func (b *bench) spread(key string, unit func(float64) string) string {
	v := b.vals[key]
	if len(v) < 2 {
		return "—"
	}
	return unit(slices.Min(v)) + "–" + unit(slices.Max(v))
}

func mib(v float64) string {
	if bad(v) {
		return "—"
	}
	return fmt.Sprintf("%.0f", v)
}
