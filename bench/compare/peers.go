package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/cpu"
)

// peerTimeout ends a peer run that hangs.
const peerTimeout = 10 * time.Minute

// autoCoretype picks OpenBLAS's best kernels for this CPU: OpenBLAS 0.3.21
// does not recognise recent CPUs and falls back to slow generic ones
// (/work/shared/BENCHMARKING.md, trap 2).
func autoCoretype() string {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL:
		return "SkylakeX"
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return "Haswell"
	}
	return "" // leave OpenBLAS (and bench/peerenv.py's default) alone
}

// python runs a bench/ script and returns the JSON objects it prints, one
// per line. env adds to the environment.
func (b *bench) python(script string, env []string, args ...string) ([]map[string]any, error) {
	// A guard, not a measurement: no peer run should take minutes.
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	return runJSON(script+" "+strings.Join(args, " "), b.pythonCmd(ctx, script, env, args...))
}

// pythonCmd is the command that runs a bench/ script; env adds to the
// environment.
func (b *bench) pythonCmd(ctx context.Context, script string, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, b.cfg.python, append([]string{filepath.Join(b.cfg.root, "bench", script)}, args...)...)
	cmd.Dir = b.cfg.root
	cmd.Env = append(os.Environ(), env...)
	if b.cfg.coretype != "" {
		cmd.Env = append(cmd.Env, "OPENBLAS_CORETYPE="+b.cfg.coretype)
	}
	return cmd
}

// runJSON runs cmd and returns the JSON objects it prints on stdout, one
// per line; what names the command in errors.
func runJSON(what string, cmd *exec.Cmd) ([]map[string]any, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %v\n%s", what, err, stderr.String())
	}
	res, err := parseJSONLines(what, stdout.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%v\n%s", err, stderr.String())
	}
	return res, nil
}

// parseJSONLines decodes one JSON object per non-blank line; a peer that
// printed none is an error.
func parseJSONLines(what string, out []byte) ([]map[string]any, error) {
	var res []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, fmt.Errorf("%s: output line %q: %v", what, line, err)
		}
		res = append(res, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("%s printed no JSON", what)
	}
	return res, nil
}

// torch runs bench/torch_model.py under setting s and returns its object.
func (b *bench) torch(s torchSetting, args ...string) (map[string]any, error) {
	res, err := b.python("torch_model.py", torchEnv(s), append(args, "--threads", fmt.Sprint(s.torch))...)
	if err != nil {
		return nil, err
	}
	r := res[len(res)-1]
	b.notePeer(r, "torch "+s.name)
	return r, nil
}

// torchEnv is the environment of a PyTorch child under setting s. Its
// allocator hands each large tensor back to the kernel when it is freed
// and page-faults it in again at the next step, which made the CNN's
// training step 3× slower here (69 → 23 ms at 1×1); glibc's malloc is
// told to keep what it frees (mmapThreshold, trimThreshold), so PyTorch
// runs at its best.
func torchEnv(s torchSetting) []string {
	return append([]string{fmt.Sprintf("OPENBLAS_NUM_THREADS=%d", s.openbl)}, mallocEnv...)
}

// mallocEnv keeps freed memory in glibc's heap: no allocation of up to
// 32 MiB (glibc's largest mmap threshold) is mapped on its own, and the
// heap's top is returned to the kernel only past 1 GiB.
var mallocEnv = []string{"MALLOC_MMAP_THRESHOLD_=33554432", "MALLOC_TRIM_THRESHOLD_=1073741824"}

// torchRSS is torch that also returns the process's peak RSS in MiB,
// measured by runRSS.
func (b *bench) torchRSS(s torchSetting, args ...string) (map[string]any, float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	args = append(args, "--threads", fmt.Sprint(s.torch))
	what := "torch_model.py " + strings.Join(args, " ")
	out, rss, err := runRSS(ctx, what, b.pythonCmd(ctx, "torch_model.py", torchEnv(s), args...))
	if err != nil {
		return nil, 0, err
	}
	res, err := parseJSONLines(what, out)
	if err != nil {
		return nil, 0, err
	}
	r := res[len(res)-1]
	b.notePeer(r, "torch "+s.name)
	return r, rss, nil
}

// numpyGemm runs bench/numpy_gemm.py on shapes with OpenBLAS on threads
// threads and adds its GFLOP/s.
func (b *bench) numpyGemm(threads int, shapes []gemmShape) error {
	res, err := b.python("numpy_gemm.py", nil, "--threads", fmt.Sprint(threads), "--info",
		"--repeats", fmt.Sprint(b.cfg.gemmReps), "--min-time", fmt.Sprint(b.cfg.gemmMin),
		"--spec", specOf(shapes))
	if err != nil {
		return err
	}
	for _, r := range res {
		if _, ok := r["blas"]; ok {
			b.notePeer(r, fmt.Sprintf("numpy t=%d", threads))
		}
	}
	return b.addGemm("numpy", threads, shapes, res)
}

// specOf writes shapes as the --spec argument of the GEMM peers.
func specOf(shapes []gemmShape) string {
	specs := make([]string, len(shapes))
	for i, s := range shapes {
		specs[i] = s.key()
	}
	return strings.Join(specs, ",")
}

// addGemm adds the GFLOP/s of each product in a GEMM peer's output (lines
// without an op, such as numpy_gemm.py's BLAS line, are skipped) and
// checks that every product asked for came back.
func (b *bench) addGemm(peer string, threads int, shapes []gemmShape, res []map[string]any) error {
	want := map[string]bool{}
	for _, s := range shapes {
		want[s.key()] = true
	}
	got := 0
	for _, r := range res {
		op, ok := r["op"].(string)
		if !ok {
			continue
		}
		s := gemmShape{op: op, m: int(num(r, "m")), k: int(num(r, "k")), n: int(num(r, "n"))}
		if !want[s.key()] {
			return fmt.Errorf("%s returned %s, which was not asked for", peer, s.key())
		}
		b.add(fmt.Sprintf("gemm/%s/t=%d/%s", peer, threads, s.key()), num(r, "gflops"))
		got++
	}
	if got != len(shapes) {
		return fmt.Errorf("%s returned %d of %d shapes", peer, got, len(shapes))
	}
	return nil
}

// notePeer records versions and the BLAS in use, and flags a run whose
// OpenBLAS is missing or not using the kernels asked for.
func (b *bench) notePeer(r map[string]any, who string) {
	for _, k := range []string{"torch_version", "numpy_version"} {
		if v, ok := r[k].(string); ok {
			b.info[k] = v
		}
	}
	blas, _ := r["blas"].(map[string]any)
	if blas == nil {
		return
	}
	core, _ := blas["openblas_corename"].(string)
	if cfgs, ok := blas["openblas_config"].(string); ok {
		b.info["openblas_config"] = cfgs
	}
	if core == "" {
		b.info["warning_blas"] = fmt.Sprintf("%s: no OpenBLAS loaded (libraries %v): install libopenblas0-pthread", who, blas["blas_libraries"])
		return
	}
	b.info["openblas_corename"] = core
	if want := b.cfg.coretype; want != "" && !strings.EqualFold(core, want) {
		b.info["warning_core"] = fmt.Sprintf("%s: OpenBLAS uses core %s, %s was asked for", who, core, want)
	}
	if n, ok := blas["openblas_threads_in_use"].(float64); ok {
		b.info["openblas_threads/"+who] = fmt.Sprint(n)
	}
}

// checkPeers fails early when the interpreter cannot import torch and
// numpy, and records their versions.
func (b *bench) checkPeers() error {
	cmd := exec.Command(b.cfg.python, "-c", "import torch, numpy; print(torch.__version__, numpy.__version__)")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s cannot import torch and numpy: %v\n%s", b.cfg.python, err, out)
	}
	return nil
}

// num reads a numeric field of a peer's JSON, NaN when absent.
func num(r map[string]any, k string) float64 {
	if v, ok := r[k].(float64); ok {
		return v
	}
	return nan
}
