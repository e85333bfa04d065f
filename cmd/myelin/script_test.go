package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/myelin-go/myelin/data/idx"
	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/distributed"
)

// TestMain lets the test binary run as the myelin command: scripts call
// `exec myelin ...`, which re-executes this binary and runs main, so exit
// statuses, signal handling and output are the real program's.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"myelin": main})
}

var updateScripts = flag.Bool("update-scripts", false, "rewrite the golden files inside testdata/script/*.txtar that cmp compares against")

// TestScript runs the scripts in testdata/script. Besides testscript's
// built-ins they have the commands of scriptCmds, the conditions of
// scriptCond, and $REPO, the module root, to copy files such as
// examples/founding.json from.
func TestScript(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("REPO", root)
			return nil
		},
		Cmds:          scriptCmds,
		Condition:     scriptCond,
		UpdateScripts: *updateScripts,
	})
}

// scriptCond answers the conditions testscript does not know:
// [fashion] when Debian's dataset-fashion-mnist is installed, [root] when
// the tests run as root (file permissions do not stop root from reading),
// [mpi] when the binary under test was built with -tags mpi.
func scriptCond(cond string) (bool, error) {
	switch cond {
	case "mpi":
		return distributed.Available(), nil
	case "fashion":
		_, err := mnist.FashionDir()
		return err == nil, nil
	case "root":
		return os.Geteuid() == 0, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"jsonhas":   cmdJSONHas,
	"jsoneq":    cmdJSONEq,
	"jsonsame":  cmdJSONSame,
	"jsonlen":   cmdJSONLen,
	"jsonrange": cmdJSONRange,
	"envmatch":  cmdEnvMatch,
	"idxzeros":  cmdIDXZeros,
	"mnistdir":  cmdMNISTDir,
	"status":    cmdStatus,
	"stheader":  cmdSTHeader,
	"truncate":  cmdTruncate,
	"waitmatch": cmdWaitMatch,
}

// envmatch VAR FILE REGEXP sets $VAR to the first group of REGEXP's last
// match in FILE, such as the epoch a run was interrupted in.
func cmdEnvMatch(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: envmatch VAR FILE REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[2])
	ts.Check(err)
	if re.NumSubexp() < 1 {
		ts.Fatalf("envmatch: %q has no group", args[2])
	}
	ms := re.FindAllStringSubmatch(ts.ReadFile(args[1]), -1)
	if len(ms) == 0 {
		ts.Fatalf("envmatch: no match for %q in %s", args[2], args[1])
	}
	ts.Setenv(args[0], ms[len(ms)-1][1])
}

// status N PROG ARGS... runs PROG like exec and checks that its exit
// status is N; exec alone only tells success from failure, and myelin
// tells usage mistakes (2) from failures (1).
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || neg {
		ts.Fatalf("usage: status N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: bad N %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("status: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// readJSON decodes a file of the script (or "stdout", "stderr") holding
// one JSON value.
func readJSON(ts *testscript.TestScript, file string) any {
	var v any
	if err := json.Unmarshal([]byte(ts.ReadFile(file)), &v); err != nil {
		ts.Fatalf("%s: not JSON: %v", file, err)
	}
	return v
}

// lookup follows a dotted path such as "history.loss.0" through objects
// (by key) and arrays (by index); "." is the whole value.
func lookup(v any, path string) (any, error) {
	if path == "." {
		return v, nil
	}
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return nil, fmt.Errorf("no key %q", k)
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("no index %q in an array of %d", k, len(x))
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("%q: not an object or array", k)
		}
	}
	return v, nil
}

func mustLookup(ts *testscript.TestScript, file, path string) any {
	v, err := lookup(readJSON(ts, file), path)
	if err != nil {
		ts.Fatalf("%s: %s: %v", file, path, err)
	}
	return v
}

// jsonhas FILE PATH... checks that each path exists in FILE's JSON
// (with !, that none does).
func cmdJSONHas(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: jsonhas FILE PATH...")
	}
	v := readJSON(ts, args[0])
	for _, p := range args[1:] {
		_, err := lookup(v, p)
		switch {
		case err != nil && !neg:
			ts.Fatalf("%s: %s: %v", args[0], p, err)
		case err == nil && neg:
			ts.Fatalf("%s: %s exists, want it absent", args[0], p)
		}
	}
}

// jsoneq FILE PATH VALUE checks that the value at PATH equals VALUE, a
// JSON literal (a bare word that is not JSON is taken as a string).
func cmdJSONEq(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: jsoneq FILE PATH VALUE")
	}
	got := mustLookup(ts, args[0], args[1])
	var want any
	if err := json.Unmarshal([]byte(args[2]), &want); err != nil {
		want = args[2]
	}
	if eq := reflect.DeepEqual(got, want); eq == neg {
		ts.Fatalf("%s: %s: got %v, want %s%v", args[0], args[1], got, map[bool]string{true: "not "}[neg], want)
	}
}

// jsonsame FILE1 PATH1 FILE2 PATH2 checks that two values are equal, such
// as the test accuracy that train reported and the one evaluate computes
// from the saved file.
func cmdJSONSame(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 4 {
		ts.Fatalf("usage: jsonsame FILE1 PATH1 FILE2 PATH2")
	}
	a := mustLookup(ts, args[0], args[1])
	b := mustLookup(ts, args[2], args[3])
	if eq := reflect.DeepEqual(a, b); eq == neg {
		ts.Fatalf("%s %s = %v, %s %s = %v: want them %s", args[0], args[1], a, args[2], args[3], b,
			map[bool]string{false: "equal", true: "different"}[neg])
	}
}

// jsonlen FILE PATH N checks that the array or object at PATH has N
// elements.
func cmdJSONLen(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: jsonlen FILE PATH N")
	}
	want, err := strconv.Atoi(args[2])
	if err != nil {
		ts.Fatalf("jsonlen: bad N %q", args[2])
	}
	got := -1
	switch x := mustLookup(ts, args[0], args[1]).(type) {
	case []any:
		got = len(x)
	case map[string]any:
		got = len(x)
	default:
		ts.Fatalf("%s: %s: got %v, want an array or object", args[0], args[1], x)
	}
	if got != want {
		ts.Fatalf("%s: %s: got %d elements, want %d", args[0], args[1], got, want)
	}
}

// jsonrange FILE PATH MIN MAX checks that the number at PATH (or every
// number of the array at PATH) is finite and in [MIN, MAX].
func cmdJSONRange(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 4 || neg {
		ts.Fatalf("usage: jsonrange FILE PATH MIN MAX")
	}
	lo, err1 := strconv.ParseFloat(args[2], 64)
	hi, err2 := strconv.ParseFloat(args[3], 64)
	if err1 != nil || err2 != nil {
		ts.Fatalf("jsonrange: bad bounds %q %q", args[2], args[3])
	}
	v := mustLookup(ts, args[0], args[1])
	vs, ok := v.([]any)
	if !ok {
		vs = []any{v}
	}
	if len(vs) == 0 {
		ts.Fatalf("%s: %s: empty array", args[0], args[1])
	}
	for i, e := range vs {
		x, ok := e.(float64)
		if !ok || math.IsNaN(x) || x < lo || x > hi {
			ts.Fatalf("%s: %s[%d]: got %v, want a number in [%g, %g]", args[0], args[1], i, e, lo, hi)
		}
	}
}

// mnistdir DIR NTRAIN NTEST writes the first NTRAIN training and NTEST
// test samples of the embedded MNIST to DIR as the four uncompressed IDX
// files, a small dataset for --data-dir that trains in a fraction of a
// second, even under the race detector.
func cmdMNISTDir(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: mnistdir DIR NTRAIN NTEST")
	}
	ntrain, err1 := strconv.Atoi(args[1])
	ntest, err2 := strconv.Atoi(args[2])
	if err1 != nil || err2 != nil {
		ts.Fatalf("mnistdir: bad counts %q %q", args[1], args[2])
	}
	train, test, err := mnist.Load()
	ts.Check(err)
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o777))
	write := func(s *mnist.Set, images, labels string) {
		for name, a := range map[string]*idx.Array{
			images: {Type: idx.Uint8, Dims: []int{s.N, s.Rows, s.Cols}, Data: s.Pixels},
			labels: {Type: idx.Uint8, Dims: []int{s.N}, Data: s.Labels},
		} {
			f, err := os.Create(filepath.Join(dir, name))
			ts.Check(err)
			ts.Check(idx.Write(f, a))
			ts.Check(f.Close())
		}
	}
	write(train.Slice(0, ntrain), mnist.TrainImages, mnist.TrainLabels)
	write(test.Slice(0, ntest), mnist.TestImages, mnist.TestLabels)
}

// idxzeros FILE DIM... writes an IDX file of uint8 zeros with the given
// dimensions, such as images of a size no model here takes.
func cmdIDXZeros(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || neg {
		ts.Fatalf("usage: idxzeros FILE DIM...")
	}
	a := &idx.Array{Type: idx.Uint8}
	n := 1
	for _, s := range args[1:] {
		d, err := strconv.Atoi(s)
		if err != nil {
			ts.Fatalf("idxzeros: bad dimension %q", s)
		}
		a.Dims = append(a.Dims, d)
		n *= d
	}
	a.Data = make([]byte, n)
	path := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Dir(path), 0o777))
	f, err := os.Create(path)
	ts.Check(err)
	ts.Check(idx.Write(f, a))
	ts.Check(f.Close())
}

// truncate FILE N cuts FILE to its first N bytes.
func cmdTruncate(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: truncate FILE N")
	}
	n, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil {
		ts.Fatalf("truncate: bad size %q", args[1])
	}
	ts.Check(os.Truncate(ts.MkAbs(args[0]), n))
}

// stheader FILE HEADER [LEN] writes a safetensors file with no tensors:
// the header's length as 8 little-endian bytes (or LEN, to lie about it),
// then the JSON header read from the file HEADER.
func cmdSTHeader(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 || neg {
		ts.Fatalf("usage: stheader FILE HEADER [LEN]")
	}
	h := []byte(strings.TrimSpace(ts.ReadFile(args[1])))
	n := uint64(len(h))
	if len(args) == 3 {
		var err error
		if n, err = strconv.ParseUint(args[2], 10, 64); err != nil {
			ts.Fatalf("stheader: bad length %q", args[2])
		}
	}
	b := binary.LittleEndian.AppendUint64(nil, n)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), append(b, h...), 0o666))
}

// waitmatch FILE REGEXP waits until FILE, written by a background
// command, matches REGEXP. It gives up after a minute so that a broken
// program fails the script instead of hanging it.
func cmdWaitMatch(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: waitmatch FILE REGEXP")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	path := ts.MkAbs(args[0])
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && re.Match(b) {
			return
		}
	}
	b, _ := os.ReadFile(path)
	ts.Fatalf("%s did not match %q within a minute; it holds:\n%s", args[0], args[1], b)
}
