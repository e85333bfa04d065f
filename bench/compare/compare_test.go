package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	in := []float64{3, 1, 2}
	median(in)
	if in[0] != 3 || in[1] != 1 {
		t.Errorf("median reordered its input: %v", in)
	}
}

// TestStepFlops checks the count against the founding model written out by
// hand: forward and weight gradient of all three Dense layers, input
// gradient of the last two.
func TestStepFlops(t *testing.T) {
	for _, b := range []int{1, 32, 128} {
		want := 2 * float64(b) * (2*784*64 + 3*64*64 + 3*64*10)
		if got := stepFlops(b); got != want {
			t.Errorf("stepFlops(%d) = %v, want %v", b, got, want)
		}
	}
}

func TestGemmShapesUnique(t *testing.T) {
	seen := map[string]string{}
	for _, s := range gemmShapes() {
		if prev, ok := seen[s.key()]; ok {
			t.Errorf("%s listed twice (%q and %q)", s.key(), prev, s.what)
		}
		seen[s.key()] = s.what
	}
	if want := 5 + 2*8 + len(cnnShapes); len(seen) != want { // squares, two batches of the founding model, the CNN
		t.Errorf("%d shapes, want %d", len(seen), want)
	}
}

func TestShapeName(t *testing.T) {
	for _, c := range []struct {
		s    gemmShape
		want string
	}{
		{gemmShape{op: "NN", m: 32, k: 784, n: 64}, "(32×784)·(784×64)"},
		{gemmShape{op: "TN", m: 784, k: 32, n: 64}, "(32×784)ᵀ·(32×64)"},
		{gemmShape{op: "NT", m: 32, k: 64, n: 784}, "(32×64)·(784×64)ᵀ"},
	} {
		if got := c.s.name(); got != c.want {
			t.Errorf("%s: name %q, want %q", c.s.key(), got, c.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{count(1234567.4), "1,234,567"},
		{count(999), "999"},
		{count(1000), "1,000"},
		{count(math.NaN()), "—"},
		{times(2.5), "2.50×"},
		{times(math.Inf(1)), "—"},
		{percent(0.753), "75.3%"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine([]string{"--out", "BENCHMARKS.md", "--only", "gemm, train"})
	want := "go run ./bench/compare --out BENCHMARKS.md --only 'gemm, train'"
	if got != want {
		t.Errorf("commandLine = %q, want %q", got, want)
	}
}

func TestBestTorch(t *testing.T) {
	b := newBench(config{})
	b.add("x/1×1", 10)
	b.add("x/2×1", 30)
	b.add("x/2×1", 10) // median 20
	b.add("x/2×2", 15)
	if s, v, ok := b.bestTorch("x/%s", torchSettings, true); !ok || s.name != "2×1" || v != 20 {
		t.Errorf("highest: got %s %v %v, want 2×1 20 true", s.name, v, ok)
	}
	if s, v, ok := b.bestTorch("x/%s", torchSettings, false); !ok || s.name != "1×1" || v != 10 {
		t.Errorf("lowest: got %s %v %v, want 1×1 10 true", s.name, v, ok)
	}
	if _, _, ok := b.bestTorch("y/%s", torchSettings, true); ok {
		t.Error("no figures: got ok")
	}
}

// TestReportWithoutFigures renders a report from an empty run: every
// section is present and missing figures show as dashes, not NaN.
func TestReportWithoutFigures(t *testing.T) {
	b := newBench(config{rounds: 1, epRounds: 1, epochs: 5, maxProcs: 2, steps32: 1, steps128: 1, inferRep: 1, latRuns: 1, gemmReps: 1, gemmMin: 0.01})
	r := b.report("go run ./bench/compare")
	for _, want := range []string{"## Machine", "## Done criteria", "## Training", "### Against Gorgonia", "## Inference", "## The CNN", "### Peak RSS", "## GEMM", "`go run ./bench/compare`"} {
		if !strings.Contains(r, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(r, "NaN") || strings.Contains(r, "+Inf") || strings.Contains(r, "| 0 |") {
		t.Errorf("report shows NaN, Inf or a zero for a missing figure:\n%s", r)
	}
}

// TestScalingTable: the thread-scaling rows divide each 2-thread figure
// by its own 1-thread figure, with the FMA peak's ratio beside them.
func TestScalingTable(t *testing.T) {
	b := newBench(config{rounds: 1, epRounds: 1, epochs: 5, maxProcs: 2, steps32: 1, steps128: 1, inferRep: 1, latRuns: 1, gemmReps: 1, gemmMin: 0.01})
	b.add("peak/train/t=1", 100)
	b.add("peak/train/t=2", 180)
	b.add("train/myelin/t=1/b=32", 1000)
	b.add("train/myelin/t=2/b=32", 1100)
	b.add("train/myelin-shards/t=1/b=32", 800)
	b.add("train/myelin-shards/t=2/b=32", 1200)
	b.add("train/myelin-split/t=1/b=32", 900)
	b.add("train/myelin-split/t=2/b=32", 1500)
	b.add("train/torch/1×1/b=32", 400)
	b.add("train/torch/2×1/b=32", 500)
	b.add("train/torch/2×2/b=32", 450)
	var sb strings.Builder
	b.scaling(func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) })
	row := ""
	for _, l := range strings.Split(sb.String(), "\n") {
		if strings.HasPrefix(l, "| 32 |") {
			row = l
		}
	}
	// whole 1.10×, shards 1.50×, split 1.67×, split ÷ best on 1 (whole's
	// 1000) 1.50×, PyTorch 1.25×, peak 1.80×, split ÷ PyTorch's best 3.00×.
	for _, want := range []string{"| 1.10× | 1.50× | 1.67× | 1.50× | 1.25× | 1.80× |", "| 3.00× |"} {
		if !strings.Contains(row, want) {
			t.Errorf("batch 32 row %q lacks %q", row, want)
		}
	}
}

// TestDistributedTable: the distributed rows divide myelin's figure by
// PyTorch DDP's at each global batch; without MPI the report says why.
func TestDistributedTable(t *testing.T) {
	b := newBench(config{rounds: 1, epRounds: 1, epochs: 5, maxProcs: 2, steps32: 1, steps128: 1, inferRep: 1, latRuns: 1, gemmReps: 1, gemmMin: 0.01})
	var sb strings.Builder
	pr := func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) }
	b.info["distributed"] = "not measured: no mpirun (Debian: openmpi-bin)"
	b.distributed(pr)
	if !strings.Contains(sb.String(), "not measured: no mpirun") {
		t.Errorf("without figures: %q", sb.String())
	}
	sb.Reset()
	b.add("dist/myelin/b=64", 200000)
	b.add("dist/torch/b=64", 20000)
	b.add("dist/myelin/b=128", 300000)
	b.add("dist/torch/b=128", 40000)
	b.distributed(pr)
	for _, want := range []string{"| 64 | 200,000 | 20,000 | 10.00× |", "| 128 | 300,000 | 40,000 | 7.50× |"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, sb.String())
		}
	}
}

// cnnBench is a bench with the cnn phase's default counts on 2 cores.
func cnnBench() *bench {
	return newBench(config{rounds: 1, epRounds: 1, epochs: 5, maxProcs: 2, root: "/repo",
		cnnWarm: 10, cnnSteps: 100, cnnSamples: 2000, cnnInferRep: 3, rssSteps: 20})
}

func TestCNNSettings(t *testing.T) {
	b := cnnBench()
	var names, keys []string
	for _, r := range b.cnnTrainRuns() {
		names, keys = append(names, r.setting().name), append(keys, r.setting().key)
	}
	wantNames := []string{"1 thread, whole batches", "1 thread, shards of 16", "2 threads, shards of 16"}
	wantKeys := []string{"t=1", "t=1/shard=16", "t=2/shard=16"}
	if fmt.Sprint(names) != fmt.Sprint(wantNames) || fmt.Sprint(keys) != fmt.Sprint(wantKeys) {
		t.Errorf("myelin's training settings %q %q, want %q %q", names, keys, wantNames, wantKeys)
	}
	seen := map[string]bool{}
	for _, c := range cnnTorchRuns() {
		if seen[c.setting().key] {
			t.Errorf("PyTorch setting %s listed twice", c.setting().key)
		}
		seen[c.setting().key] = true
	}
	if len(seen) != 2*len(torchSettings) {
		t.Errorf("%d PyTorch settings, want %d", len(seen), 2*len(torchSettings))
	}
	if got := (cnnTorch{"channels_last", torchSettings[1]}).setting(); got != (setting{"channels_last 2×1", "channels_last/2×1"}) {
		t.Errorf("channels_last 2×1: %+v", got)
	}
	if got := (cnnTorch{"nchw", torchSettings[0]}).setting().name; got != "NCHW 1×1" {
		t.Errorf("nchw 1×1 named %q", got)
	}
	mine, _ := b.cnnSettings(cnnMeasures[1])
	if fmt.Sprint(mine) != "[{1 thread t=1} {2 threads t=2}]" {
		t.Errorf("myelin's inference settings %v", mine)
	}
}

func TestCNNTorchArgs(t *testing.T) {
	b := cnnBench()
	c := cnnTorch{"channels_last", torchSettings[1]}
	for _, tc := range []struct {
		got  []string
		want string
	}{
		{c.args(cnnMeasures[0], b.cfg), "--model cnn --memory-format channels_last --batch 64 --mode train --steps 100 --warmup 10"},
		{c.args(cnnMeasures[1], b.cfg), "--model cnn --memory-format channels_last --batch 100 --mode infer --repeats 3 --samples 2000"},
		{c.args(cnnMeasures[2], b.cfg), "--model cnn --memory-format channels_last --batch 1000 --mode infer --repeats 3 --samples 2000"},
		{c.rssArgs(20), "--model cnn --memory-format channels_last --mode train --batch 64 --steps 20 --warmup 1 --evaluate"},
	} {
		if got := strings.Join(tc.got, " "); got != tc.want {
			t.Errorf("args %q, want %q", got, tc.want)
		}
	}
}

// TestRSSCommands checks the child processes' command lines: the CNN
// child is this program told by childEnv what to be, on run's threads.
func TestRSSCommands(t *testing.T) {
	b := cnnBench()
	ctx := t.Context()
	cmd := b.childCmd(ctx, "/tmp/compare", cnnRun{2, 16})
	if got := strings.Join(cmd.Args, " "); got != "/tmp/compare --root /repo --steps 20 --shard 16" {
		t.Errorf("child args %q", got)
	}
	if !slices.Contains(cmd.Env, childEnv+"=cnn-train") || !slices.Contains(cmd.Env, "GOMAXPROCS=2") {
		t.Errorf("child env lacks %s=cnn-train or GOMAXPROCS=2", childEnv)
	}
	cli := b.denseCLICmd(ctx, "/tmp/myelin", "/tmp/d")
	if got := strings.Join(cli.Args, " "); got != "/tmp/myelin train --epochs 1 --verbose 0 --out /tmp/d/model.safetensors" {
		t.Errorf("myelin train args %q", got)
	}
	gb := goBetweenCmd(ctx, "/tmp/compare", "/tmp/rss", cmd)
	if got := strings.Join(gb.Args, " "); got != "/tmp/compare /tmp/compare --root /repo --steps 20 --shard 16" {
		t.Errorf("go-between args %q", got)
	}
	if gb.Dir != "/repo" || !slices.Contains(gb.Env, rssEnv+"=/tmp/rss") || !slices.Contains(gb.Env, childEnv+"=cnn-train") {
		t.Errorf("go-between dir %q or env wrong", gb.Dir)
	}
	if got := withoutEnv([]string{"A=1", rssEnv + "=/x", "B=2"}, rssEnv); fmt.Sprint(got) != "[A=1 B=2]" {
		t.Errorf("withoutEnv: %v", got)
	}
}

// TestGoBetween runs a real child through runGoBetween and reads back its
// peak RSS.
func TestGoBetween(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS from rusage is read on Linux")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	file := filepath.Join(t.TempDir(), "rss")
	if err := runGoBetween(file, []string{sh, "-c", "exit 0"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// A shell's peak is a few MiB; this test binary's own is more.
	if v, err := strconv.ParseFloat(strings.TrimSpace(string(data)), 64); err != nil || !(v > 0 && v < 64) {
		t.Errorf("peak RSS %q: want a few MiB", data)
	}
	if err := runGoBetween(file, []string{sh, "-c", "exit 3"}); err == nil {
		t.Error("a failing command: no error")
	}
}

func TestBestCNNSettings(t *testing.T) {
	b := cnnBench()
	if r, ok := b.bestCNNRun(); ok || r != (cnnRun{2, cnnShard}) {
		t.Errorf("no figures: myelin %+v %v, want shards of 16 on 2 threads, false", r, ok)
	}
	if c := b.bestCNNTorch(); c != (cnnTorch{"nchw", torchSettings[0]}) {
		t.Errorf("no figures: PyTorch %+v, want NCHW 1×1", c)
	}
	b.add("cnn/train/myelin/t=1", 3000)
	b.add("cnn/train/myelin/t=1/shard=16", 2900)
	b.add("cnn/train/myelin/t=2/shard=16", 5000)
	b.add("cnn/train/torch/nchw/1×1", 600)
	b.add("cnn/train/torch/channels_last/2×1", 900)
	if r, ok := b.bestCNNRun(); !ok || r != (cnnRun{2, cnnShard}) {
		t.Errorf("myelin's best %+v %v", r, ok)
	}
	if c := b.bestCNNTorch(); c != (cnnTorch{"channels_last", torchSettings[1]}) {
		t.Errorf("PyTorch's best %+v", c)
	}
}

// TestCNNTable gives the run figures and checks the headline rows: each
// side's best setting by median, their ratio against issue 12's floor,
// and the rounds' spread.
func TestCNNTable(t *testing.T) {
	b := cnnBench()
	b.add("cnn/train/myelin/t=1", 3000)
	b.add("cnn/train/myelin/t=1/shard=16", 2900)
	b.add("cnn/train/myelin/t=2/shard=16", 5000)
	b.add("cnn/train/myelin/t=2/shard=16", 4000) // median 4500
	b.add("cnn/train/torch/nchw/1×1", 600)
	b.add("cnn/train/torch/channels_last/2×1", 1000)
	b.add("cnn/infer100/myelin/t=1", 6000)
	b.add("cnn/infer100/myelin/t=2", 9000)
	b.add("cnn/infer100/torch/nchw/2×1", 3000)
	b.add("cnn/infer100/torch/channels_last/2×2", 5000)
	b.add("cnn/infer1000/myelin/t=1", 5000)
	var sb strings.Builder
	b.cnnReport(func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) })
	r := sb.String()
	for what, want := range map[string]string{
		"| training, batch 64 |":    "| training, batch 64 | 4,500 (2 threads, shards of 16) | 4,000–5,000 | 1,000 (channels_last 2×1) | — | 4.50× | ≥ 1.5× | met |",
		"| inference, batch 100 |":  "| inference, batch 100 | 9,000 (2 threads) | — | 5,000 (channels_last 2×2) | — | 1.80× | ≥ 2× | **not met** |",
		"| inference, batch 1000 |": "| inference, batch 1000 | 5,000 (1 thread) | — | — (—) | — | — | ≥ 2× | n/a |",
		"| myelin | 1 thread |":     "| myelin | 1 thread | 3,000 (whole batches) · 2,900 (shards of 16) | 6,000 | 5,000 |",
		"| PyTorch | NCHW 1×1 |":    "| PyTorch | NCHW 1×1 | 600 | — | — |",
	} {
		if got := rowStarting(r, what); got != want {
			t.Errorf("row\n%s\nwant\n%s", got, want)
		}
	}
	if strings.Contains(r, "NaN") {
		t.Errorf("report shows NaN:\n%s", r)
	}
	b.cfg.only = map[string]bool{"train": true}
	sb.Reset()
	b.cnnReport(func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) })
	if sb.Len() != 0 {
		t.Errorf("--only train printed the CNN section:\n%s", sb.String())
	}
}

// rowStarting returns the first line of report that starts with prefix.
func rowStarting(report, prefix string) string {
	for _, line := range strings.Split(report, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}

// TestRSSTable: myelin train's peak against issue 12's 150 MB, in MiB.
func TestRSSTable(t *testing.T) {
	b := cnnBench()
	b.info["rss/dense/myelin"] = "`myelin train --epochs 1`, GOMAXPROCS 2"
	b.info["rss/dense/torch"] = "`torch_model.py --mode train --epochs 1`, 1×1"
	for _, v := range []float64{140, 130, 150} {
		b.add("rss/dense/myelin", v)
	}
	b.add("rss/dense/torch", 450)
	b.add("rss/cnn/myelin", 300)
	b.add("rss/cnn/torch", 600)
	var sb strings.Builder
	b.rssReport(func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) })
	r := sb.String()
	if got, want := tableRow(t, r, "dense"), "| dense, 1 epoch | 140 (`myelin train --epochs 1`, GOMAXPROCS 2) | 130–150 | 450 (`torch_model.py --mode train --epochs 1`, 1×1) | — | 0.31× | myelin ≤ 150 MB (143 MiB) | met |"; got != want {
		t.Errorf("row\n%s\nwant\n%s", got, want)
	}
	if got, want := tableRow(t, r, "CNN"), "| CNN | 300 (—) | — | 600 (—) | — | 0.50× | — | — |"; got != want {
		t.Errorf("row\n%s\nwant\n%s", got, want)
	}
	b.vals["rss/dense/myelin"] = []float64{144}
	sb.Reset()
	b.rssReport(func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) })
	if got := tableRow(t, sb.String(), "dense"); !strings.HasSuffix(got, "| **not met** |") {
		t.Errorf("144 MiB > 150 MB: %s", got)
	}
}

// TestTorchEnvKeepsFreedMemory checks that every PyTorch setting runs
// with glibc keeping freed memory, the setting without which PyTorch's CNN
// steps page-fault their activations in again and run 3× slower.
func TestTorchEnvKeepsFreedMemory(t *testing.T) {
	for _, s := range []torchSetting{{name: "1x1", torch: 1, openbl: 1}, {name: "2x2", torch: 2, openbl: 2}} {
		env := strings.Join(torchEnv(s), " ")
		for _, want := range []string{"MALLOC_MMAP_THRESHOLD_=", "MALLOC_TRIM_THRESHOLD_=", fmt.Sprintf("OPENBLAS_NUM_THREADS=%d", s.openbl)} {
			if !strings.Contains(env, want) {
				t.Errorf("torchEnv(%s) = %q, want %s", s.name, env, want)
			}
		}
	}
}
