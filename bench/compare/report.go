package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/myelin-go/myelin/bench/internal/fmapeak"
	"github.com/myelin-go/myelin/internal/kernel"
)

var nan = math.NaN()

// report renders the Markdown report.
func (b *bench) report(command string) string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	p("# Benchmarks: myelin side by side with PyTorch, NumPy/OpenBLAS, gonum and Gorgonia\n\n")
	p("Produced by `%s` (from the repository root), %s, in %s.\n", command, time.Now().UTC().Format("2006-01-02 15:04 UTC"), b.elapsed.Round(time.Second))
	p("Medians over %s (%d for the %d-epoch runs). Every ratio and every verdict compares figures taken in\n", plural(b.cfg.rounds, "round"), b.cfg.epRounds, b.cfg.epochs)
	p("this run, interleaved: each round runs myelin and each peer in turn, the order rotating from round to\n")
	p("round (A B C, then B C A, ...). No figure quoted from elsewhere enters a verdict; a peer that could not\n")
	p("be run here is marked not measured. Ratios are myelin/peer: above 1 means myelin is faster for\n")
	p("throughputs, slower for times.\n\n")
	if b.cfg.quick {
		p("> **--quick run: counts are tiny and there is one round; the figures below check the pipeline and mean nothing.**\n\n")
	}
	if b.cfg.noPeers {
		p("> **--no-peers: the peers were not run.**\n\n")
	}
	b.machine(p)
	b.criteria(p)
	b.training(p)
	b.gorgonia(p)
	b.inference(p)
	b.cnnReport(p)
	b.gemm(p)
	b.distributed(p)
	b.notes(p)
	p("\n%s\n", endMarker)
	return w.String()
}

type printer func(format string, args ...any)

func (b *bench) machine(p printer) {
	p("## Machine\n\n| | |\n|---|---|\n")
	p("| CPU | %s, %d logical CPUs |\n", cpuModel(), runtime.NumCPU())
	p("| Go | %s %s/%s |\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	p("| myelin commit | %s |\n", gitCommit(b.cfg.root))
	p("| myelin GEMM kernel | %s |\n", kernel.GemmKernel())
	p("| FMA peak loop | bench/internal/fmapeak, %s, %d FLOP per iteration |\n", fmapeak.Impl(), fmapeak.FlopsPerIter())
	p("| PyTorch | %s |\n", b.infoOr("torch_version", "—"))
	p("| NumPy | %s |\n", b.infoOr("numpy_version", "—"))
	p("| OpenBLAS | %s |\n", b.infoOr("openblas_config", "—"))
	p("| OpenBLAS core in use | %s (OPENBLAS_CORETYPE=%s, as bench/peerenv.py reports it) |\n", b.infoOr("openblas_corename", "—"), orDash(b.cfg.coretype))
	p("| gonum | %s |\n", b.goPeerLine("gonum", "gonum/gonum_version", "pure-Go `blas/gonum` Sgemm"))
	p("| Gorgonia | %s |\n", b.goPeerLine("gorgonia", "gorgonia/gorgonia_version", "on gonum "+b.infoOr("gorgonia/gonum_version", "—")))
	p("| myelin threads | GOMAXPROCS %v; \"all cores\" = %d |\n", b.threadCounts(), b.cfg.maxProcs)
	p("| PyTorch threads | torch×OpenBLAS %s |\n", settingNames(torchSettings))
	p("| gonum and Gorgonia threads | GOMAXPROCS %v |\n\n", b.threadCounts())
	for _, k := range []string{"warning_blas", "warning_core", "warning_gonum", "warning_gorgonia"} {
		if v, ok := b.info[k]; ok {
			p("> **Warning:** %s\n\n", v)
		}
	}
}

// pair is one myelin figure against one peer figure.
type pair struct {
	label       string
	mine, peer  float64
	peerSetting string
}

func (q pair) ratio() float64 { return q.mine / q.peer }

// rows builds, for one measure, the three comparisons: myelin on 1 thread
// against PyTorch 1×1, on 2 against PyTorch's best 2-thread setting, and on
// all cores against PyTorch's best setting of all.
func (b *bench) rows(myKey, torchPattern string, higher bool) []pair {
	var out []pair
	mk := func(label string, t int, ss []torchSetting) {
		mine := b.get(fmt.Sprintf(myKey, t))
		s, pv, ok := b.bestTorch(torchPattern, ss, higher)
		name := s.name
		if !ok {
			pv, name = nan, "—"
		}
		out = append(out, pair{label, mine, pv, name})
	}
	mk("1 thread", 1, torchSettings[:1])
	mk("2 threads", 2, torchSettings[1:])
	mk(fmt.Sprintf("all cores (%d) vs PyTorch's best", b.cfg.maxProcs), b.cfg.maxProcs, torchSettings)
	return out
}

func (b *bench) bySetting(pattern string, unit func(float64) string) string {
	var parts []string
	for _, s := range torchSettings {
		if v, ok := b.med(fmt.Sprintf(pattern, s.name)); ok {
			parts = append(parts, s.name+" "+unit(v))
		}
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, " · ")
}

func (b *bench) training(p printer) {
	p("## Training the founding model (MNIST, Adam)\n\n")
	p("Dense 64 relu → BN → Dense 64 relu → BN → Dense 10 softmax, categorical cross-entropy; samples/s over\n")
	p("%d timed steps at batch 32 and %d at batch 128 after %d untimed ones, fresh model, shuffled MNIST, batch\n", b.cfg.steps32, b.cfg.steps128, b.cfg.trainWarm)
	p("gathering included (myelin: `Fit` with a callback that notes the time; it also computes the accuracy metric;\n")
	p("PyTorch: `bench/torch_model.py --mode train --steps`). %% of FMA peak = samples/s ÷ batch × the step's\n")
	p("GEMM FLOPs (%.2f MFLOP at batch 32, %.2f at 128; elementwise work not counted) ÷ the register-only FMA peak\n", stepFlops(32)/1e6, stepFlops(128)/1e6)
	p("measured in the same rounds at the same thread count.\n\n")
	p("| batch | myelin threads | myelin samples/s | PyTorch samples/s (setting) | myelin/PyTorch | myelin %% of FMA peak | PyTorch by setting |\n")
	p("|---|---|---|---|---|---|---|\n")
	for _, batch := range []int{32, 128} {
		for i, q := range b.rows("train/myelin/t=%d/b="+fmt.Sprint(batch), "train/torch/%s/b="+fmt.Sprint(batch), true) {
			t := []int{1, 2, b.cfg.maxProcs}[i]
			frac := q.mine / float64(batch) * stepFlops(batch) / 1e9 / b.get(fmt.Sprintf("peak/train/t=%d", t))
			p("| %d | %s | %s | %s (%s) | %s | %s | %s |\n", batch, q.label, count(q.mine), count(q.peer), q.peerSetting,
				times(q.ratio()), percent(frac), b.bySetting("train/torch/%s/b="+fmt.Sprint(batch), count))
		}
	}
	p("\n")
	b.scaling(p)
	ms, ts := b.get("epochs/myelin/seconds"), b.get("epochs/torch/seconds")
	ma, ta := b.get("epochs/myelin/accuracy"), b.get("epochs/torch/accuracy")
	p("### %s at batch 32, wall time (issue 2: myelin ≤ 2× PyTorch)\n\n", plural(b.cfg.epochs, "epoch"))
	p("| | myelin (GOMAXPROCS %d) | PyTorch (%s) | myelin/PyTorch |\n|---|---|---|---|\n", b.cfg.maxProcs, b.infoOr("epochs_torch_setting", "—"))
	p("| training wall time | %s | %s | %s |\n", seconds(ms), seconds(ts), times(ms/ts))
	p("| test accuracy | %s | %s | |\n\n", percent(ma), percent(ta))
}

func (b *bench) inference(p printer) {
	p("## Inference\n\n")
	p("Batch inference: samples/s of a pass over the 10,000 test images at batch 1000, softmax included, fresh\n")
	p("model, median of %d passes (myelin `Predict`; PyTorch eval mode, `no_grad`).\n\n", b.cfg.inferRep)
	p("| myelin threads | myelin samples/s | PyTorch samples/s (setting) | myelin/PyTorch | PyTorch by setting |\n|---|---|---|---|---|\n")
	for _, q := range b.rows("infer/myelin/t=%d", "infer/torch/%s", true) {
		p("| %s | %s | %s (%s) | %s | %s |\n", q.label, count(q.mine), count(q.peer), q.peerSetting, times(q.ratio()), b.bySetting("infer/torch/%s", count))
	}
	p("\nSingle-sample prediction latency: median µs of %d calls cycling over 100 test images after %d untimed\n", b.cfg.latRuns, b.cfg.latWarm)
	p("ones (myelin `PredictInto`, the allocation-free serving call, and `Predict`; PyTorch `softmax(model(x))`).\n")
	p("Lower is better: a ratio of 0.2 is five times faster.\n\n")
	p("| myelin call | myelin threads | myelin µs | PyTorch µs (setting) | myelin/PyTorch | PyTorch by setting |\n|---|---|---|---|---|---|\n")
	for _, call := range []struct{ name, key string }{{"PredictInto", "latency/myelin/t=%d"}, {"Predict", "latency/myelin-predict/t=%d"}} {
		for _, q := range b.rows(call.key, "latency/torch/%s", false) {
			p("| %s | %s | %s | %s (%s) | %s | %s |\n", call.name, q.label, micro(q.mine), micro(q.peer), q.peerSetting, ratio(q.ratio()), b.bySetting("latency/torch/%s", micro))
		}
	}
	p("\n")
}

func (b *bench) gemm(p printer) {
	p("## GEMM (float32)\n\n")
	p("GFLOP/s = 2·m·n·k per call, median of %d repeats of about %gs each (at least one call), C overwritten\n", b.cfg.gemmReps, b.cfg.gemmMin)
	p("(myelin `internal/kernel.Sgemm` under GOMAXPROCS t; NumPy `matmul(out=)` → OpenBLAS sgemm with\n")
	p("OPENBLAS_NUM_THREADS t; gonum `blas/gonum` Sgemm in `bench/gonum` under GOMAXPROCS t; transposed operands\n")
	p("are passed as such, never copied). %% of peak divides by the register-only FMA peak at t threads\n")
	p("measured in the same rounds. The smallest NumPy products include ~1 µs of Python call overhead.\n\n")
	for _, t := range b.threadCounts() {
		if v, ok := b.med(fmt.Sprintf("peak/gemm/t=%d", t)); ok {
			p("FMA peak, %d thread(s): %s GFLOP/s.  ", t, gflops(v))
		}
	}
	if g := b.goPeers["gonum"]; !g.measured() {
		p("\n\ngonum: not measured (%s).", g.why)
	}
	p("\n\n| product | what | t | myelin GFLOP/s | OpenBLAS GFLOP/s | myelin/OpenBLAS | gonum GFLOP/s | myelin/gonum | myelin %% of peak | OpenBLAS %% of peak |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range gemmShapes() {
		for _, t := range b.threadCounts() {
			mine, ok := b.med(fmt.Sprintf("gemm/myelin/t=%d/%s", t, s.key()))
			if !ok {
				continue
			}
			peer := b.get(fmt.Sprintf("gemm/numpy/t=%d/%s", t, s.key()))
			gn := b.get(fmt.Sprintf("gemm/gonum/t=%d/%s", t, s.key()))
			peak := b.get(fmt.Sprintf("peak/gemm/t=%d", t))
			p("| %s %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", s.op, s.name(), s.what, t, gflops(mine), gflops(peer), times(mine/peer),
				gflops(gn), times(mine/gn), percent(mine/peak), percent(peer/peak))
		}
	}
	p("\n")
}

// criteria prints issue 3's measurable floors (and issue 2's wall time)
// with this run's figures.
func (b *bench) criteria(p printer) {
	p("## Done criteria (issue 3, and issue 2's wall time), from this run\n\n| criterion | this run | verdict |\n|---|---|---|\n")
	// GEMM vs OpenBLAS on the founding shapes.
	worst, n, known := math.Inf(1), 0, false
	worstName := ""
	for _, batch := range []int{32, 128} {
		for _, s := range stepShapes(batch) {
			for _, t := range []int{1, 2} {
				mine, ok1 := b.med(fmt.Sprintf("gemm/myelin/t=%d/%s", t, s.key()))
				peer, ok2 := b.med(fmt.Sprintf("gemm/numpy/t=%d/%s", t, s.key()))
				if !ok1 || !ok2 {
					continue
				}
				known = true
				n++
				if r := mine / peer; r < worst {
					worst, worstName = r, fmt.Sprintf("%s %s, t=%d", s.op, s.name(), t)
				}
			}
		}
	}
	fig := "—"
	if known {
		fig = fmt.Sprintf("worst of %d: %s (%s)", n, times(worst), worstName)
	}
	p("| GEMM ≥ OpenBLAS on the founding model's products, batch 32 and 128, 1 and 2 threads | %s | %s |\n", fig, verdict(worst >= 1, known))
	// GEMM ≥ 75 % of peak at n ≥ 512.
	worst, known, worstName = math.Inf(1), false, ""
	for _, sz := range []int{512, 1024} {
		for _, t := range []int{1, 2} {
			mine, ok1 := b.med(fmt.Sprintf("gemm/myelin/t=%d/NN:%d:%d:%d", t, sz, sz, sz))
			peak, ok2 := b.med(fmt.Sprintf("peak/gemm/t=%d", t))
			if !ok1 || !ok2 {
				continue
			}
			known = true
			if f := mine / peak; f < worst {
				worst, worstName = f, fmt.Sprintf("%d², t=%d", sz, t)
			}
		}
	}
	fig = "—"
	if known {
		fig = fmt.Sprintf("worst: %s (%s)", percent(worst), worstName)
	}
	p("| GEMM ≥ 75%% of the FMA peak at n ≥ 512, 1 and 2 threads | %s | %s |\n", fig, verdict(worst >= 0.75, known))
	for _, c := range []struct {
		batch int
		floor float64
	}{{32, 3}, {128, 1.5}} {
		q := b.rows("train/myelin/t=%d/b="+fmt.Sprint(c.batch), "train/torch/%s/b="+fmt.Sprint(c.batch), true)[2]
		p("| training ≥ %g× PyTorch's best at batch %d (myelin on all cores) | %s | %s |\n", c.floor, c.batch, times(q.ratio()), verdict(q.ratio() >= c.floor, !math.IsNaN(q.ratio())))
	}
	for _, batch := range []int{32, 128} {
		q := b.rowsGo("train/myelin/t=%d/b="+fmt.Sprint(batch), "train/gorgonia/t=%d/b="+fmt.Sprint(batch), "Gorgonia", true)[2]
		fig, v := times(q.ratio()), verdict(q.ratio() >= 10, !bad(q.ratio()))
		if g := b.goPeers["gorgonia"]; !g.measured() {
			fig, v = "not measured: "+g.why, "not measured"
		} else if !bad(q.ratio()) {
			fig = fmt.Sprintf("%s (%s against %s, %s)", times(q.ratio()), count(q.mine), count(q.peer), q.peerSetting)
		}
		p("| training ≥ 10× Gorgonia's best at batch %d (myelin on all cores; Gorgonia measured in this run) | %s | %s |\n", batch, fig, v)
	}
	ma, ta := b.get("epochs/myelin/accuracy"), b.get("epochs/torch/accuracy")
	p("| same accuracy after %s (within 0.5 points) | myelin %s, PyTorch %s | %s |\n", plural(b.cfg.epochs, "epoch"), percent(ma), percent(ta), verdict(ma >= ta-0.005, !bad(ma-ta)))
	ms, ts := b.get("epochs/myelin/seconds"), b.get("epochs/torch/seconds")
	p("| issue 2: %s wall time ≤ 2× PyTorch's | %s | %s |\n", plural(b.cfg.epochs, "epoch"), times(ms/ts), verdict(ms/ts <= 2, !bad(ms/ts)))
	q := b.rows("latency/myelin/t=%d", "latency/torch/%s", false)[2]
	p("| single-sample latency ≤ ⅕ of PyTorch's (PredictInto) | %s | %s |\n", ratio(q.ratio()), verdict(q.ratio() <= 0.2, !math.IsNaN(q.ratio())))
	q = b.rows("infer/myelin/t=%d", "infer/torch/%s", true)[2]
	p("| batch inference ≥ PyTorch's speed | %s | %s |\n", times(q.ratio()), verdict(q.ratio() >= 1, !math.IsNaN(q.ratio())))
	p("| zero allocations per training step; identical bits for GOMAXPROCS 1, 2, 4, 8 | tests, not timings: `go test ./model -run AllocatesNothing` and `-run DeterministicAcrossGOMAXPROCS` | — |\n\n")
}

// verdict words a criterion: n/a without the figures it needs.
func verdict(ok bool, known bool) string {
	switch {
	case !known:
		return "n/a"
	case ok:
		return "met"
	}
	return "**not met**"
}

func (b *bench) notes(p printer) {
	p("## How to read this\n\n")
	p("- The host's speed drifts by up to 2× over minutes: compare ratios from one run, never figures from two.\n")
	p("- PyTorch runs at each torch×OpenBLAS thread setting and is compared at its best; OpenBLAS is forced to\n")
	p("  the kernels named above (0.3.21 falls back to slow generic ones on this CPU otherwise).\n")
	p("- PyTorch's default subnormal handling is kept (no `set_flush_denormal`); myelin's optimizers flush\n")
	p("  subnormal moments to zero (see `go doc ./optimizers`). The %d-epoch runs are where that shows.\n", b.cfg.epochs)
	p("- Every PyTorch child runs with glibc told to keep the memory it frees (`%s`): without it each\n", strings.Join(mallocEnv, " "))
	p("  step page-faults its activations in again, which made the CNN's training step 3× slower here.\n")
	p("- gonum and Gorgonia run at each GOMAXPROCS myelin runs at and are compared at the same count, and on\n")
	p("  all cores against their best.\n")
	p("- Peers: `bench/torch_model.py`, `bench/numpy_gemm.py`, `bench/gonum`, `bench/gorgonia` (see bench/README.md);\n")
	p("  myelin is measured in the runner's own process (`bench/compare/myelin.go`), timing the same operations\n")
	p("  the same way.\n")
	p("- GoMLX is not measured by this runner, so no ratio or verdict is drawn against it.\n")
	p("- Go micro-benchmarks of each kernel, op, layer and the model: `go test -run '^$' -bench . ./internal/kernel ./nn ./layers ./model`.\n")
}

func (b *bench) infoOr(k, def string) string {
	if v, ok := b.info[k]; ok && v != "" {
		return v
	}
	return def
}

func settingNames(ss []torchSetting) string {
	var n []string
	for _, s := range ss {
		n = append(n, s.name)
	}
	return strings.Join(n, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

func gitCommit(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

func count(v float64) string {
	if bad(v) {
		return "—"
	}
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func gflops(v float64) string {
	if bad(v) {
		return "—"
	}
	return fmt.Sprintf("%.1f", v)
}

func times(v float64) string {
	if bad(v) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", v)
}

func ratio(v float64) string {
	if bad(v) {
		return "—"
	}
	return fmt.Sprintf("%.3f", v)
}

func percent(v float64) string {
	if bad(v) {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

func seconds(v float64) string {
	if bad(v) {
		return "—"
	}
	return fmt.Sprintf("%.2f s", v)
}

func micro(v float64) string {
	if bad(v) {
		return "—"
	}
	return fmt.Sprintf("%.1f", v)
}

// scaling prints thread scaling: samples/s on 2 threads ÷ on 1, for
// myelin's whole batches, shards, and shards with the first layer split
// by its inputs, PyTorch's 2×1 against 1×1, and the FMA peak's own ratio
// beside them as the limit; then what the second core gives a user: the
// split shards on 2 threads against myelin's fastest on 1.
func (b *bench) scaling(p printer) {
	p("### Thread scaling (2 threads ÷ 1 thread)\n\n")
	p("myelin trains each batch whole (products from 2²³ multiply-adds shared between cores), in shards of half the batch (issue 16:\n")
	p("`FitOptions.ShardSize`, each shard on its own core), or in shards with the first layer split by its inputs (`SplitFirstLayer`);\n")
	p("each is divided by itself on 1 thread, and the FMA peak's ratio is the limit. \"Split ÷ best on 1\" divides the split shards on\n")
	p("2 threads by the fastest of the three on 1: what the second core gives.\n\n")
	p("| batch | myelin whole batches | myelin shards of batch/2 | myelin split shards | split ÷ best on 1 | PyTorch 2×1 ÷ 1×1 | FMA peak | myelin split, 2 threads, samples/s | myelin split/PyTorch's best |\n|---|---|---|---|---|---|---|---|---|\n")
	peak := b.get("peak/train/t=2") / b.get("peak/train/t=1")
	for _, batch := range []int{32, 128} {
		key := func(kind string, t int) string { return fmt.Sprintf("train/%s/t=%d/b=%d", kind, t, batch) }
		ratio := func(kind string) float64 { return b.get(key(kind, 2)) / b.get(key(kind, 1)) }
		torch := b.get(fmt.Sprintf("train/torch/2×1/b=%d", batch)) / b.get(fmt.Sprintf("train/torch/1×1/b=%d", batch))
		sps := b.get(key("myelin-split", 2))
		best1 := math.Max(b.get(key("myelin", 1)), math.Max(b.get(key("myelin-shards", 1)), b.get(key("myelin-split", 1))))
		_, best, ok := b.bestTorch("train/torch/%s/b="+fmt.Sprint(batch), torchSettings, true)
		if !ok {
			best = nan
		}
		p("| %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", batch, times(ratio("myelin")), times(ratio("myelin-shards")), times(ratio("myelin-split")),
			times(sps/best1), times(torch), times(peak), count(sps), times(sps/best))
	}
	p("\n")
}
