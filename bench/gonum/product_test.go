package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestProductLayout checks that each op hands Sgemm the operands as
// stored: C must equal a plain triple loop over op(A) and op(B).
func TestProductLayout(t *testing.T) {
	for _, p := range []product{{"NN", 5, 7, 3}, {"TN", 5, 7, 3}, {"NT", 5, 7, 3}, {"NN", 1, 1, 1}} {
		t.Run(p.String(), func(t *testing.T) {
			a, _, _, b, _, _ := p.operands()
			at := func(i, l int) float64 { // op(A)[i][l]
				if p.op == "TN" {
					return float64(a[l*p.m+i])
				}
				return float64(a[i*p.k+l])
			}
			bt := func(l, j int) float64 { // op(B)[l][j]
				if p.op == "NT" {
					return float64(b[j*p.k+l])
				}
				return float64(b[l*p.n+j])
			}
			call, c := p.newCallC()
			call()
			for i := 0; i < p.m; i++ {
				for j := 0; j < p.n; j++ {
					want := 0.0
					for l := 0; l < p.k; l++ {
						want += at(i, l) * bt(l, j)
					}
					if got := float64(c[i*p.n+j]); math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
						t.Errorf("C[%d][%d] = %v, want %v", i, j, got, want)
					}
				}
			}
		})
	}
}

func TestParseSpec(t *testing.T) {
	ps, err := parseSpec("NN:128:784:64, TN:784:32:64,NT:32:64:784")
	if err != nil {
		t.Fatalf("parseSpec: %v", err)
	}
	want := []product{{"NN", 128, 784, 64}, {"TN", 784, 32, 64}, {"NT", 32, 64, 784}}
	if len(ps) != len(want) {
		t.Fatalf("got %v, want %v", ps, want)
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("product %d: got %+v, want %+v", i, ps[i], want[i])
		}
	}
	if got := ps[1].String(); got != "784x32*32x64 (AT.B)" {
		t.Errorf("name %q, want %q (bench/numpy_gemm.py's)", got, "784x32*32x64 (AT.B)")
	}
	for _, bad := range []string{"", "XX:1:2:3", "NN:1:2", "NN:1:0:3", "NN:a:2:3"} {
		if _, err := parseSpec(bad); err == nil || !strings.HasPrefix(err.Error(), "gonum: ") {
			t.Errorf("parseSpec(%q): got error %v, want one starting \"gonum: \"", bad, err)
		}
	}
}

func TestMedian(t *testing.T) {
	in := []float64{4, 1, 3, 2}
	if got := median(in); got != 2.5 {
		t.Errorf("median(%v) = %v, want 2.5", in, got)
	}
	if in[0] != 4 {
		t.Errorf("median reordered its input: %v", in)
	}
}

// TestRunOutput checks the fields bench/compare reads (op, m, k, n,
// gflops), one JSON line per product, in the order asked.
func TestRunOutput(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"--spec", "NN:4:5:6,NT:3:2:7", "--repeats", "2", "--min-time", "0.0001"}, &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []product{{"NN", 4, 5, 6}, {"NT", 3, 2, 7}}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, line := range lines {
		var r struct {
			Peer, Op string
			M, K, N  int
			Gflops   float64
			All      []float64 `json:"gflops_all"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %d %q: %v", i, line, err)
		}
		if got := (product{r.Op, r.M, r.K, r.N}); got != want[i] || r.Peer != "gonum" {
			t.Errorf("line %d: peer %q product %+v, want gonum %+v", i, r.Peer, got, want[i])
		}
		if !(r.Gflops > 0) || len(r.All) != 2 {
			t.Errorf("line %d: gflops %v over %d repeats, want a positive median of 2", i, r.Gflops, len(r.All))
		}
	}
}
