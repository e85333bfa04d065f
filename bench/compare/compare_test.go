package main

import (
	"fmt"
	"math"
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
	if len(seen) != 5+2*8 {
		t.Errorf("%d shapes, want %d", len(seen), 5+2*8)
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
	for _, want := range []string{"## Machine", "## Done criteria", "## Training", "### Against Gorgonia", "## Inference", "## GEMM", "`go run ./bench/compare`"} {
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
	for _, want := range []string{"| 1.10× |", "| 1.50× |", "| 1.25× |", "| 1.80× |", "| 2.40× |"} {
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
