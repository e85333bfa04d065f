package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// goBuildTimeout bounds the build of a Go peer, which may first download
// its module's dependencies.
const goBuildTimeout = 10 * time.Minute

// goPeer is a peer written in Go: a program in its own module under
// bench/ (so that myelin's go.mod carries none of its dependencies), built
// once before the first round and run as a subprocess under GOMAXPROCS t,
// the way the Python peers run under their thread settings.
type goPeer struct {
	name  string // "gonum", "gorgonia": its directory under bench/ and its key in the figures
	phase string // the phase that measures it
	bin   string // the built program; "" when it was not built
	why   string // why it is not measured, when bin is ""
}

// newGoPeers lists the Go peers, none built yet.
func newGoPeers() map[string]*goPeer {
	return map[string]*goPeer{
		"gonum":    {name: "gonum", phase: "gemm", why: "not built"},
		"gorgonia": {name: "gorgonia", phase: "train", why: "not built"},
	}
}

// measured reports whether the peer was built and so can be run.
func (p *goPeer) measured() bool { return p != nil && p.bin != "" }

// buildGoPeers builds, into dir, each Go peer whose phase this run
// measures. A peer that does not build (no module proxy, a broken
// dependency) is reported as not measured, with the build's own words,
// and the run goes on: no figure stands in for it.
func (b *bench) buildGoPeers(dir string) {
	for _, name := range []string{"gonum", "gorgonia"} {
		p := b.goPeers[name]
		if b.cfg.only != nil && !b.cfg.only[p.phase] {
			p.why = "its phase (" + p.phase + ") was not run"
			continue
		}
		logf("building the %s peer (bench/%s, its own module) ...", name, name)
		bin, err := buildGo(filepath.Join(b.cfg.root, "bench", name), filepath.Join(dir, name))
		if err != nil {
			p.why = err.Error()
			b.info["warning_"+name] = fmt.Sprintf("%s not measured: %s", name, p.why)
			logf("%s not measured: %s", name, p.why)
			continue
		}
		p.bin, p.why = bin, ""
	}
}

// buildGo builds the main package of the module in src into out.
func buildGo(src, out string) (string, error) {
	if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
		return "", fmt.Errorf("%s is not a module: %v", src, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), goBuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", out, ".")
	cmd.Dir = src
	// The peer's own go.mod decides its dependencies, never a go.work above it.
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build in %s: %v: %s", src, err, oneLine(string(msg)))
	}
	return out, nil
}

// goTool returns the go command on PATH, or "go" (whose failure to start
// then names it) when there is none.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// oneLine joins a tool's output into one line for a table cell, at most
// 300 characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + " …"
	}
	if s == "" {
		return "(no output)"
	}
	return s
}

// runGoPeer runs a built Go peer under GOMAXPROCS procs and returns the
// JSON objects it prints.
func (b *bench) runGoPeer(p *goPeer, procs int, args ...string) ([]map[string]any, error) {
	if !p.measured() {
		return nil, errors.New(p.name + " was not built")
	}
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, args...)
	cmd.Dir = b.cfg.root
	cmd.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", procs))
	res, err := runJSON(fmt.Sprintf("GOMAXPROCS=%d bench/%s %s", procs, p.name, strings.Join(args, " ")), cmd)
	if err != nil {
		return nil, err
	}
	for _, r := range res {
		for _, k := range []string{"gonum_version", "gorgonia_version"} {
			if v, ok := r[k].(string); ok {
				b.info[p.name+"/"+k] = v
			}
		}
	}
	return res, nil
}

// gonumGemm runs bench/gonum on shapes under GOMAXPROCS threads and adds
// its GFLOP/s.
func (b *bench) gonumGemm(threads int, shapes []gemmShape) error {
	res, err := b.runGoPeer(b.goPeers["gonum"], threads, "--spec", specOf(shapes),
		"--repeats", fmt.Sprint(b.cfg.gemmReps), "--min-time", fmt.Sprint(b.cfg.gemmMin))
	if err != nil {
		return err
	}
	return b.addGemm("gonum", threads, shapes, res)
}

// gorgoniaTrain runs bench/gorgonia at a batch size under GOMAXPROCS
// threads and adds its samples/s.
func (b *bench) gorgoniaTrain(threads, batch int) error {
	res, err := b.runGoPeer(b.goPeers["gorgonia"], threads,
		"--data", filepath.Join(b.cfg.root, "data", "mnist", "files"), "--batch", fmt.Sprint(batch),
		"--steps", fmt.Sprint(b.steps(batch)), "--warmup", fmt.Sprint(b.cfg.trainWarm))
	if err != nil {
		return err
	}
	sps := num(res[len(res)-1], "samples_per_sec")
	if bad(sps) || sps <= 0 {
		return fmt.Errorf("bench/gorgonia at batch %d printed no samples_per_sec", batch)
	}
	b.add(fmt.Sprintf("train/gorgonia/t=%d/b=%d", threads, batch), sps)
	return nil
}
