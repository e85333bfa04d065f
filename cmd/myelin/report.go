package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/report"
	"github.com/myelin-go/myelin/tensor"
)

// trainReport is what "myelin train --report DIR" records while training
// and writes after it: report.Monitors, with the batch-norm and percentile
// monitors on the first test images, which training never sees.
type trainReport struct {
	dir string
	ms  *report.Monitors
}

// newTrainReport prepares the monitors for a report in dir, or returns nil
// when dir is "" (the methods of a nil report do nothing). steps is about
// how many steps training will take; gradient-health flags are printed on
// progress when verbose > 0.
func newTrainReport(dir string, m *model.Sequential, test *mnist.Set, steps int, progress io.Writer, verbose int) *trainReport {
	if dir == "" {
		return nil
	}
	var held *tensor.Tensor
	if test.N > 0 {
		held, _ = modelX(test, m.InputShape()) // no error: its fallback shape holds the pixels
	}
	r := &trainReport{dir: dir, ms: report.NewMonitors(m, held, steps)}
	if verbose > 0 {
		r.ms.Health.Output = progress
	}
	return r
}

func (r *trainReport) callbacks() []model.Callback {
	if r == nil {
		return nil
	}
	return r.ms.Callbacks()
}

// write writes the report after training: fs gives the configuration (every
// flag, set or default), m the model, h and test the results. It prints
// the page's path to w.
func (r *trainReport) write(w io.Writer, fs *flag.FlagSet, m *model.Sequential, h *model.History, test map[string]float64, trainSecs float64) error {
	if r == nil {
		return nil
	}
	var cfg []report.Field
	fs.VisitAll(func(f *flag.Flag) { // set or default; unset file and directory flags are left out
		if v := f.Value.String(); v != "" {
			cfg = append(cfg, report.Field{Key: "--" + f.Name, Value: v})
		}
	})
	var names []string
	for _, l := range m.Layers {
		names = append(names, l.Name()+" ("+l.Type()+")")
	}
	tr, nt := m.ParamCounts()
	opt := m.Optimizer()
	cfg = append(cfg,
		report.Field{Key: "layers", Value: strings.Join(names, " → ")},
		report.Field{Key: "parameters", Value: fmt.Sprintf("%d trainable, %d non-trainable", tr, nt)},
		report.Field{Key: "optimizer", Value: fmt.Sprintf("%s, learning rate %g", opt.Name(), opt.LearningRate())},
		report.Field{Key: "loss", Value: m.Loss().Name()},
		report.Field{Key: "training time", Value: fmt.Sprintf("%.1f s", trainSecs)},
		report.Field{Key: "go", Value: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH},
	)
	if h == nil {
		h = &model.History{}
	}
	run := report.Run{
		Title:   "myelin train: " + m.Name + dataName(fs) + testAccuracy(test),
		Created: time.Now(),
		Config:  cfg,
		History: *h,
		Test:    test,
	}
	run.Charts = report.HistoryCharts(*h)
	r.ms.AddTo(&run, m)
	if err := report.Write(r.dir, run); err != nil {
		return err
	}
	fmt.Fprintf(w, "Wrote the report to %s\n", filepath.Join(r.dir, "index.html"))
	return nil
}

func dataName(fs *flag.FlagSet) string {
	for _, name := range []string{"data-dir", "data"} {
		if f := fs.Lookup(name); f != nil && f.Value.String() != "" {
			return " on " + f.Value.String()
		}
	}
	return ""
}

func testAccuracy(test map[string]float64) string {
	if acc, ok := test["accuracy"]; ok {
		return fmt.Sprintf(", test accuracy %.4f", acc)
	}
	return ""
}
