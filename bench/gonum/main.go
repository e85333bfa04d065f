// Command gonum measures gonum's float32 GEMM (blas/gonum Sgemm, pure Go)
// on the products bench/compare asks for and prints one JSON object per
// product, as bench/numpy_gemm.py does for OpenBLAS.
//
// It lives in its own module so that myelin's go.mod does not carry gonum;
// bench/compare builds it and runs it in the same rounds as myelin's Sgemm
// and OpenBLAS. Threads follow GOMAXPROCS, set in the environment: gonum's
// Sgemm splits a product over GOMAXPROCS goroutines.
//
// Usage:
//
//	GOMAXPROCS=1 go run . --spec NN:128:784:64,TN:784:128:64 [--repeats 5] [--min-time 0.03]
//
// Fields: peer, shape, op (NN|TN|NT), m, k, n, gflops (median over
// repeats), gflops_all, seconds_per_call, calls_per_repeat, repeats,
// threads (GOMAXPROCS), gonum_version, go_version.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gonum", flag.ContinueOnError)
	spec := fs.String("spec", "", "comma-separated OP:M:K:N products (OP is NN, TN or NT)")
	repeats := fs.Int("repeats", 5, "timed repeats per product (median reported)")
	minTime := fs.Float64("min-time", 0.03, "seconds per repeat (sets the calls per repeat)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *repeats < 1 || !(*minTime > 0) {
		return fmt.Errorf("gonum: --repeats %d, --min-time %g: want at least one repeat of a positive time", *repeats, *minTime)
	}
	products, err := parseSpec(*spec)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, p := range products {
		calls, secs := measure(p.newCall(), *repeats, *minTime)
		med := median(secs)
		all := make([]float64, len(secs))
		for i, s := range secs {
			all[i] = p.flops() / s / 1e9
		}
		if err := enc.Encode(map[string]any{
			"peer": "gonum", "shape": p.String(), "op": p.op, "m": p.m, "k": p.k, "n": p.n,
			"gflops": p.flops() / med / 1e9, "gflops_all": all, "seconds_per_call": med,
			"calls_per_repeat": calls, "repeats": *repeats, "threads": runtime.GOMAXPROCS(0),
			"gonum_version": gonumVersion(), "go_version": runtime.Version(),
		}); err != nil {
			return err
		}
	}
	return nil
}

// parseSpec reads "OP:M:K:N,..." as bench/numpy_gemm.py --spec does.
func parseSpec(spec string) ([]product, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("gonum: --spec is required (e.g. NN:128:784:64,TN:784:128:64)")
	}
	var ps []product
	for _, item := range strings.Split(spec, ",") {
		f := strings.Split(strings.TrimSpace(item), ":")
		if len(f) != 4 || (f[0] != "NN" && f[0] != "TN" && f[0] != "NT") {
			return nil, fmt.Errorf("gonum: --spec %q: want OP:M:K:N with OP NN, TN or NT", item)
		}
		p := product{op: f[0]}
		for i, dst := range []*int{&p.m, &p.k, &p.n} {
			v, err := strconv.Atoi(f[i+1])
			if err != nil || v < 1 {
				return nil, fmt.Errorf("gonum: --spec %q: size %q is not a positive integer", item, f[i+1])
			}
			*dst = v
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// measure calibrates the number of calls so that one repeat lasts about
// minTime seconds, then returns it and the seconds per call of each
// repeat (the same procedure as bench/numpy_gemm.py and bench/compare).
func measure(call func(), repeats int, minTime float64) (int, []float64) {
	call()
	calls := 1
	for {
		t0 := time.Now()
		for i := 0; i < calls; i++ {
			call()
		}
		dt := time.Since(t0).Seconds()
		if dt >= minTime/4 || calls >= 1<<22 {
			calls = max(1, int(float64(calls)*minTime/max(dt, 1e-9)))
			break
		}
		calls *= 4
	}
	secs := make([]float64, repeats)
	for r := range secs {
		t0 := time.Now()
		for i := 0; i < calls; i++ {
			call()
		}
		secs[r] = time.Since(t0).Seconds() / float64(calls)
	}
	return calls, secs
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// gonumVersion returns the version of gonum built into this binary.
func gonumVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "gonum.org/v1/gonum" {
				return d.Version
			}
		}
	}
	return "unknown"
}
