// Package experiment turns the founding text's claims about batch
// normalization into experiments anyone can rerun: each trains the same
// network with and without BatchNormalization on the same data, from the same
// seed, for the same number of steps, and returns a printable table, the raw
// measurements and charts.
//
//	fig1            Ioffe and Szegedy 2015, Figure 1: MNIST, three sigmoid
//	                layers of 100 units; test accuracy and the 15th, 50th and
//	                85th percentiles of a last-layer sigmoid's input
//	lr              a learning-rate sweep of the founding network: which
//	                rates train, with and without BN
//	init            the founding network with its initial weights scaled
//	                from 0.01 to 10 times Glorot's
//	depth           deep narrow sigmoid networks: per-layer gradient norms
//	regularization  train-versus-test gap on a small training set, with BN,
//	                without, and with dropout instead
//
// Every run is deterministic: the model's seed fixes the initial weights, the
// order of the mini-batches and dropout, and a network with BN draws the same
// initial Dense weights and batches as the one without (BatchNormalization
// consumes no random numbers). Dropout draws its masks from the stream that
// shuffles, so a network with dropout sees the same first epoch and then
// another order. Test accuracy is always measured in inference mode, batch
// normalization using its moving statistics.
//
// The defaults are sized to run in a few minutes on two cores; each
// experiment documents its full settings (Experiment.Full).
package experiment

// Most of this file is the package documentation (the list of experiments
// and what each measures) and the shared runner they use.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/report"
	"github.com/myelin-go/myelin/tensor"
)

// Options configures a run. The zero value runs an experiment's defaults on
// the embedded MNIST with seed 1, silently.
type Options struct {
	// Steps is the number of training steps per network; 0 means the
	// experiment's default.
	Steps int
	// Seed seeds every model (weights, batch order, dropout); 0 means 1.
	Seed uint64
	// Data is the dataset; nil loads the embedded MNIST. Tests pass a subset.
	Data *Data
	// Log receives one line of progress now and then; nil is silent.
	Log io.Writer
}

// Data is a training and a test set.
type Data struct {
	Train, Test *mnist.Set
}

// LoadMNIST returns the embedded MNIST: 60,000 training and 10,000 test images.
func LoadMNIST() (*Data, error) {
	tr, te, err := mnist.Load()
	if err != nil {
		return nil, err
	}
	return &Data{Train: tr, Test: te}, nil
}

// Subset returns the first train training and test test samples of d
// (sharing its memory), for quick runs.
func (d *Data) Subset(train, test int) *Data {
	return &Data{Train: d.Train.Slice(0, train), Test: d.Test.Slice(0, test)}
}

// Experiment is one entry of the catalogue.
type Experiment struct {
	Name         string // as typed on the command line: "fig1"
	Short        string // one line
	DefaultSteps int    // training steps per network when Options.Steps is 0
	Full         string // the settings of a full-size run, and what they cost
	Run          func(ctx context.Context, opt Options) (*Result, error)
}

// List returns the experiments in the order the package documents them.
func List() []Experiment {
	return []Experiment{
		{
			Name: "fig1", Short: "Ioffe & Szegedy Figure 1: MNIST 3×100 sigmoid net, accuracy and sigmoid-input percentiles",
			DefaultSteps: fig1Steps, Run: Fig1,
			Full: "--steps 50000 (the paper's Figure 1); 36 MFLOP per step, two networks",
		},
		{
			Name: "lr", Short: "learning-rate sweep (0.001…10) of the founding network, with and without BN",
			DefaultSteps: sweepSteps, Run: LearningRate,
			Full: "--steps 10000 (about 5 epochs at batch 32) gives the slow rates time to arrive",
		},
		{
			Name: "init", Short: "initial weights scaled 0.01×…10× Glorot's, with and without BN",
			DefaultSteps: sweepSteps, Run: Initialization,
			Full: "--steps 10000 (about 5 epochs at batch 32)",
		},
		{
			Name: "depth", Short: "deep narrow sigmoid nets (5, 10, 20 layers): per-layer gradient norms",
			DefaultSteps: depthSteps, Run: Depth,
			Full: "--steps 5000 lets the deep plain networks show whether they ever start to learn",
		},
		{
			Name: "regularization", Short: "train-vs-test gap on 1,000 training images: plain, BN, dropout",
			DefaultSteps: regSteps, Run: Regularization,
			Full: "--steps 10000 (500 epochs of the 1,000 images) to see the gap settle",
		},
		{
			Name: "batchsize", Short: "batch sizes 2…128 with BatchNormalization, LayerNormalization, GroupNormalization and none",
			DefaultSteps: batchSteps, Run: BatchSize,
			Full: "--steps 5000 lets the small batches settle; 24 runs",
		},
		{
			Name: "syncbn", Short: "8 ranks of 4 rows: synchronized batch norm against each rank's own statistics",
			DefaultSteps: syncSteps, Run: SyncBN,
			Full: "--steps 5000 (about 3 epochs of the global batch of 32)",
		},
		{
			Name: "cnn", Short: "learning-rate sweep (0.01…3) of a small CNN, with and without BN after each convolution",
			DefaultSteps: cnnSteps, Run: CNN,
			Full: "--steps 2000 (about an epoch at batch 32); 12 runs",
		},
	}
}

// Lookup returns the experiment called name.
func Lookup(name string) (Experiment, error) {
	var names []string
	for _, e := range List() {
		if e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	return Experiment{}, fmt.Errorf("experiment: unknown experiment %q (want one of %s)", name, strings.Join(names, ", "))
}

// Result is what an experiment found.
type Result struct {
	Name     string    `json:"name"`
	Title    string    `json:"title"`
	Settings []Setting `json:"settings"`
	Table    Table     `json:"table"`
	// Notes follow the table: comparisons with reference numbers, caveats.
	Notes  []string       `json:"notes,omitempty"`
	Charts []report.Chart `json:"-"`
	// Data holds the raw measurements: *Fig1Data, *SweepData, *DepthData,
	// *RegularizationData, *BatchSizeData or *SyncBNData.
	Data any `json:"data"`
}

// Float is a float64 that encodes NaN and infinities, which JSON lacks, as
// null (the measurements of a run that diverged).
type Float float64

// MarshalJSON writes f as a JSON number, or null when it is not finite.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads a number, or null as NaN.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	return json.Unmarshal(b, (*float64)(f))
}

// Setting is one line of an experiment's configuration.
type Setting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Table is a grid of formatted cells.
type Table struct {
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
}

// Write prints t with aligned columns.
func (t Table) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, row := range append([][]string{t.Header}, t.Rows...) {
		fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// Print writes the title, settings, table and notes of r.
func (r *Result) Print(w io.Writer) error {
	fmt.Fprintf(w, "%s\n\n", r.Title)
	for _, s := range r.Settings {
		fmt.Fprintf(w, "  %-14s %s\n", s.Key+":", s.Value)
	}
	fmt.Fprintln(w)
	if err := r.Table.Write(w); err != nil {
		return err
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
	}
	for _, n := range r.Notes {
		if _, err := fmt.Fprintln(w, n); err != nil {
			return err
		}
	}
	return nil
}

// prepare fills in the defaults of opt and checks it.
func prepare(opt Options, defSteps int) (Options, error) {
	if opt.Steps == 0 {
		opt.Steps = defSteps
	}
	if opt.Steps < 0 {
		return opt, fmt.Errorf("experiment: steps %d must be positive", opt.Steps)
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	if opt.Data == nil {
		d, err := LoadMNIST()
		if err != nil {
			return opt, err
		}
		opt.Data = d
	}
	if opt.Data.Train == nil || opt.Data.Test == nil || opt.Data.Train.N == 0 || opt.Data.Test.N == 0 {
		return opt, errors.New("experiment: Data needs non-empty Train and Test sets")
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	return opt, nil
}

// parallel calls f(0), …, f(n-1), as many at once as there are CPUs, and
// returns the first error. Each call trains its own model, so the results do
// not depend on the order or the number of CPUs.
func parallel(n int, f func(i int) error) error {
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// xy returns s as (n, features) images, uint8 pixels over 255 (which
// Fit and Evaluate convert a batch at a time), and (n, classes) one-hot
// labels.
func xy(s *mnist.Set) (x, y *tensor.Tensor) {
	x, err := s.X()
	if err != nil {
		panic(err) // cannot happen: X() takes the images' own size
	}
	return x, tensor.FromFloat32(s.OneHot(), s.N, s.Classes)
}

// budget counts steps across epochs, calls record at the steps at wants
// (and at step 0, before the first), and stops Fit after steps steps.
type budget struct {
	model.BaseCallback
	steps  int
	at     func(step int) bool
	record func(step int, logs model.Logs) error
	done   int
}

func (b *budget) OnTrainBegin(*model.Sequential) error {
	if b.at != nil && b.at(0) {
		return b.record(0, nil)
	}
	return nil
}

func (b *budget) OnBatchEnd(_, _ int, logs model.Logs) error {
	b.done++
	if b.at != nil && b.at(b.done) {
		if err := b.record(b.done, logs); err != nil {
			return err
		}
	}
	if b.done >= b.steps {
		return model.ErrStopTraining
	}
	return nil
}

// Outcome is how a training run ended.
type Outcome struct {
	Steps    int    `json:"steps"`              // steps applied
	Diverged string `json:"diverged,omitempty"` // why it stopped early: a NaN or infinite loss or gradient
}

// train fits m on (x, y) for steps mini-batches of size batch, calling
// record at the steps at selects. A loss or gradient that turns NaN or
// infinite ends the run early (that step is not applied); the Outcome says so.
func train(ctx context.Context, m *model.Sequential, x, y *tensor.Tensor, steps, batch int,
	at func(int) bool, record func(int, model.Logs) error, more ...model.Callback) (Outcome, error) {
	return trainWith(ctx, m, x, y, steps, batch, at, record, nil, more...)
}

// trainWith is train with set changing the FitOptions first.
func trainWith(ctx context.Context, m *model.Sequential, x, y *tensor.Tensor, steps, batch int,
	at func(int) bool, record func(int, model.Logs) error, set func(*model.FitOptions), more ...model.Callback) (Outcome, error) {
	n := x.Dim(0)
	if batch > n {
		return Outcome{}, fmt.Errorf("experiment: batch of %d is larger than the %d training samples", batch, n)
	}
	perEpoch := n / batch
	b := &budget{steps: steps, at: at, record: record}
	fo := model.FitOptions{
		Epochs:          (steps + perEpoch - 1) / perEpoch,
		BatchSize:       batch,
		DropIncomplete:  true,
		StopOnNonFinite: true,
		Callbacks:       append(more, b), // b last: its stop skips the callbacks after it
	}
	if set != nil {
		set(&fo)
	}
	h, err := m.Fit(ctx, x, y, fo)
	if err != nil {
		return Outcome{Steps: b.done}, err
	}
	o := Outcome{Steps: b.done}
	if b.done < steps && h.Stopped != "" {
		o.Diverged = h.Stopped
	}
	return o, nil
}

// evaluate returns m's accuracy and loss on (x, y) in inference mode.
func evaluate(ctx context.Context, m *model.Sequential, x, y *tensor.Tensor) (acc, loss float64, err error) {
	res, err := m.Evaluate(ctx, x, y, model.EvalOptions{BatchSize: 1000})
	if err != nil {
		return 0, 0, err
	}
	return res["accuracy"], res["loss"], nil
}

// schedule returns the sorted, distinct steps in [0, max] among every multiple of
// fine and extra, always including max.
func schedule(max, fine int, extra ...int) []int {
	var s []int
	if fine > 0 {
		for k := 0; k <= max; k += fine {
			s = append(s, k)
		}
	}
	for _, e := range extra {
		if e >= 0 && e <= max {
			s = append(s, e)
		}
	}
	s = append(s, max)
	sort.Ints(s)
	return slices.Compact(s)
}

// member returns a function reporting whether a step is in sorted.
func member(sorted []int) func(int) bool {
	return func(k int) bool {
		_, ok := slices.BinarySearch(sorted, k)
		return ok
	}
}

var logMu sync.Mutex // runs in parallel share Options.Log

// logf writes one progress line, prefixed with the experiment's name and the
// time since start.
func logf(w io.Writer, start time.Time, name, format string, args ...any) {
	logMu.Lock()
	defer logMu.Unlock()
	fmt.Fprintf(w, "%s [%5.0fs] %s\n", name, time.Since(start).Seconds(), fmt.Sprintf(format, args...))
}

// Formatting helpers for table cells.

func fmtAcc(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

func fmtFloat(v float64, prec int) string {
	if math.IsNaN(v) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func fmtSci(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return strconv.FormatFloat(v, 'e', 1, 64)
}

func fmtInt(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtG(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
