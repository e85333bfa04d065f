package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestInterleaveRotates(t *testing.T) {
	for _, c := range []struct {
		n    int
		want []string // the order of each round
	}{
		{2, []string{"AB", "BA", "AB"}},
		{3, []string{"ABC", "BCA", "CAB", "ABC"}},
	} {
		for r, want := range c.want {
			var got strings.Builder
			fs := make([]func() error, c.n)
			for i := range fs {
				fs[i] = func() error { got.WriteByte(byte('A' + i)); return nil }
			}
			if err := interleave(r, fs...); err != nil {
				t.Fatal(err)
			}
			if got.String() != want {
				t.Errorf("%d parties, round %d: order %s, want %s", c.n, r, got.String(), want)
			}
		}
	}
	ran := false
	err := interleave(1, func() error { ran = true; return nil }, func() error { return fmt.Errorf("boom") })
	if err == nil || ran {
		t.Errorf("a failing first party: got error %v, later party ran %v; want the error and nothing after it", err, ran)
	}
}

// tableRow returns the first table row of report that contains what.
func tableRow(t *testing.T, report, what string) string {
	t.Helper()
	for _, line := range strings.Split(report, "\n") {
		if strings.HasPrefix(line, "| ") && strings.Contains(line, what) {
			return line
		}
	}
	t.Fatalf("no row containing %q in:\n%s", what, report)
	return ""
}

// TestGorgoniaVerdictFromThisRun gives the run myelin and Gorgonia figures
// and checks that the ≥ 10× verdicts divide the one by the other: myelin on
// all cores against Gorgonia's best thread count.
func TestGorgoniaVerdictFromThisRun(t *testing.T) {
	b := newBench(config{rounds: 1, epRounds: 1, epochs: 5, maxProcs: 2})
	b.goPeers["gorgonia"].bin, b.goPeers["gorgonia"].why = "/bin/gorgonia", ""
	b.add("train/myelin/t=2/b=32", 100000)
	b.add("train/gorgonia/t=1/b=32", 8000)
	b.add("train/gorgonia/t=2/b=32", 12000) // the best: 100000/12000 = 8.33×
	b.add("train/myelin/t=2/b=128", 200000)
	b.add("train/gorgonia/t=1/b=128", 19000) // the best: 10.53×
	b.add("train/gorgonia/t=2/b=128", 15000)
	r := b.report("x")
	row := tableRow(t, r, "Gorgonia's best at batch 32")
	if !strings.Contains(row, "8.33×") || !strings.HasSuffix(row, "| **not met** |") {
		t.Errorf("batch 32 row %q: want 8.33× and not met", row)
	}
	row = tableRow(t, r, "Gorgonia's best at batch 128")
	if !strings.Contains(row, "10.53×") || !strings.Contains(row, "GOMAXPROCS 1") || !strings.HasSuffix(row, "| met |") {
		t.Errorf("batch 128 row %q: want 10.53× against GOMAXPROCS 1, met", row)
	}
}

// TestNotMeasuredPeers: a Go peer that was not built shows as not
// measured, with the reason, and draws no verdict; no figure of another
// machine stands in for it.
func TestNotMeasuredPeers(t *testing.T) {
	b := newBench(config{rounds: 1, epRounds: 1, epochs: 5, maxProcs: 2})
	b.goPeers["gorgonia"].why = "go build in bench/gorgonia: proxy refused"
	b.goPeers["gonum"].why = "go build in bench/gonum: proxy refused"
	b.add("train/myelin/t=2/b=32", 100000)
	b.add("train/myelin/t=2/b=128", 200000)
	b.add("gemm/myelin/t=1/NN:64:64:64", 90)
	r := b.report("x")
	for _, batch := range []string{"32", "128"} {
		row := tableRow(t, r, "Gorgonia's best at batch "+batch)
		if !strings.Contains(row, "not measured: go build in bench/gorgonia: proxy refused") || !strings.HasSuffix(row, "| not measured |") {
			t.Errorf("batch %s row %q: want not measured with the build's reason", batch, row)
		}
	}
	if !strings.Contains(r, "gonum: not measured (go build in bench/gonum: proxy refused)") {
		t.Error("GEMM section does not say that gonum was not measured")
	}
	row := tableRow(t, r, "square 64")
	if cells := strings.Split(row, "|"); strings.TrimSpace(cells[7]) != "—" || strings.TrimSpace(cells[8]) != "—" {
		t.Errorf("GEMM row %q: want dashes in the gonum columns", row)
	}
	// The figures issue 3 quoted (Gorgonia 8,500 and 19,000 samples/s,
	// gonum 5 and 9 GFLOP/s, GoMLX 1,000) must not come back.
	if m := regexp.MustCompile(`8,500|19,000|## Quoted|\| 5\.0 GFLOP/s|\| 9\.0 GFLOP/s`).FindString(r); m != "" {
		t.Errorf("report shows %q: a figure quoted from elsewhere", m)
	}
}

func TestParseJSONLines(t *testing.T) {
	out := "{\"peer\":\"gonum\",\"op\":\"NN\",\"m\":4,\"k\":5,\"n\":6,\"gflops\":2.5}\n\n{\"peer\":\"gonum\",\"op\":\"TN\",\"m\":4,\"k\":5,\"n\":6,\"gflops\":3}\n"
	res, err := parseJSONLines("p", []byte(out))
	if err != nil || len(res) != 2 || num(res[1], "gflops") != 3 {
		t.Fatalf("got %v, %v; want two objects, the second with gflops 3", res, err)
	}
	for _, bad := range []string{"", "\n \n", "{\"a\":1}\nnot json\n"} {
		if _, err := parseJSONLines("p", []byte(bad)); err == nil {
			t.Errorf("parseJSONLines(%q): got no error", bad)
		}
	}
}

func TestAddGemm(t *testing.T) {
	shapes := []gemmShape{{op: "NN", m: 4, k: 5, n: 6}, {op: "TN", m: 4, k: 5, n: 6}}
	line := func(op string, g float64) map[string]any {
		return map[string]any{"op": op, "m": 4.0, "k": 5.0, "n": 6.0, "gflops": g}
	}
	b := newBench(config{})
	if err := b.addGemm("gonum", 2, shapes, []map[string]any{{"blas": "info line"}, line("NN", 2.5), line("TN", 3)}); err != nil {
		t.Fatalf("addGemm: %v", err)
	}
	if got := b.get("gemm/gonum/t=2/TN:4:5:6"); got != 3 {
		t.Errorf("TN figure %v, want 3", got)
	}
	if err := b.addGemm("gonum", 1, shapes, []map[string]any{line("NN", 1)}); err == nil || !strings.Contains(err.Error(), "1 of 2") {
		t.Errorf("a missing product: got error %v, want one saying 1 of 2", err)
	}
	if err := b.addGemm("gonum", 1, shapes[:1], []map[string]any{line("NT", 1)}); err == nil || !strings.Contains(err.Error(), "not asked for") {
		t.Errorf("a product not asked for: got error %v", err)
	}
}

// TestGoPeersAreNestedModules: each Go peer has its own go.mod, so that
// `go test ./...` and `go build ./...` of myelin never build it, and
// myelin's go.mod names none of the peers' modules.
func TestGoPeersAreNestedModules(t *testing.T) {
	root, err := findRoot("")
	if err != nil {
		t.Fatal(err)
	}
	for name := range newGoPeers() {
		data, err := os.ReadFile(filepath.Join(root, "bench", name, "go.mod"))
		if err != nil {
			t.Errorf("bench/%s: %v (it must be its own module)", name, err)
			continue
		}
		if want := "module github.com/myelin-go/myelin/bench/" + name + "\n"; !strings.HasPrefix(string(data), want) {
			t.Errorf("bench/%s/go.mod starts %q, want %q", name, strings.SplitN(string(data), "\n", 2)[0], want)
		}
	}
	main, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mod := range []string{"gorgonia.org/", "gonum.org/v1/gonum "} {
		if strings.Contains(string(main), mod) {
			t.Errorf("myelin's go.mod requires %s: the peers' modules belong in their own go.mod", strings.TrimSpace(mod))
		}
	}
}

// TestBuildGoPeerFailure: a peer that does not build is not measured, with
// the build's own words, and the run goes on.
func TestBuildGoPeerFailure(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "bench", "gorgonia"), 0o755); err != nil {
		t.Fatal(err)
	}
	// bench/gonum is missing; bench/gorgonia is a module that does not compile.
	os.WriteFile(filepath.Join(root, "bench", "gorgonia", "go.mod"), []byte("module example.com/broken\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(root, "bench", "gorgonia", "main.go"), []byte("package main\n\nfunc main() { undefinedName() }\n"), 0o644)
	b := newBench(config{root: root, maxProcs: 2})
	b.buildGoPeers(t.TempDir())
	for name, want := range map[string]string{"gonum": "is not a module", "gorgonia": "undefinedName"} {
		p := b.goPeers[name]
		if p.measured() || !strings.Contains(p.why, want) {
			t.Errorf("%s: measured %v, why %q; want not measured, saying %q", name, p.measured(), p.why, want)
		}
		if !strings.Contains(b.info["warning_"+name], "not measured") {
			t.Errorf("%s: no warning for the report", name)
		}
	}
	if _, err := b.runGoPeer(b.goPeers["gonum"], 1); err == nil {
		t.Error("runGoPeer of a peer that was not built: got no error")
	}
	// --only skips the build of a peer whose phase does not run.
	b = newBench(config{root: root, maxProcs: 2, only: map[string]bool{"infer": true}})
	b.buildGoPeers(t.TempDir())
	if got := b.goPeers["gorgonia"].why; !strings.Contains(got, "was not run") {
		t.Errorf("--only infer: gorgonia why %q, want its phase was not run", got)
	}
}
