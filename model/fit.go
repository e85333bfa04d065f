package model

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/tensor"
)

// FitOptions configures Fit. The zero value trains one epoch at batch size
// 32 with shuffling, silently.
type FitOptions struct {
	Epochs       int // last epoch index (Keras's epochs); 0 means 1
	InitialEpoch int // epoch to start from, for resuming
	BatchSize    int // 0 means 32, or all the samples when there are fewer
	// NoShuffle keeps the sample order; otherwise each epoch is shuffled
	// with the model's seeded generator.
	NoShuffle bool
	// ValidationSplit holds out this fraction of the samples, taken from
	// the end before shuffling, as Keras does.
	ValidationSplit float64
	// ValidationX, ValidationY are validation data; they override ValidationSplit.
	ValidationX, ValidationY *tensor.Tensor
	// DropIncomplete skips each epoch's last batch when it is smaller than
	// BatchSize (needed when it would hold one sample and the model has
	// batch normalization).
	DropIncomplete bool
	// Verbose: 0 silent, 1 a progress bar per epoch (updated in place on a
	// terminal, a plain line otherwise), 2 one line per epoch.
	Verbose int
	// Output receives progress; nil means os.Stdout.
	Output io.Writer
	// Callbacks are called in order at each stage of training.
	Callbacks []Callback
	// StopOnNonFinite ends training without an error when the loss, a
	// gradient or an updated weight is NaN or infinite (Keras's
	// TerminateOnNaN); by default Fit returns a *NonFiniteError. Either way
	// that step is not applied.
	StopOnNonFinite bool
	// Resume continues the run that wrote this checkpoint, from the step
	// after the last one it holds, so that the weights, optimizer and
	// batch-norm state, and the History, end bit for bit as an
	// uninterrupted run would. It must come from LoadCheckpoint or
	// LatestCheckpoint with this model; x and y must be the same data;
	// BatchSize, NoShuffle, DropIncomplete and ValidationSplit must match
	// the run's (a zero BatchSize or Epochs takes the checkpoint's), and
	// InitialEpoch must be 0. Epochs may be larger than the run's, to
	// train longer. The returned History includes the epochs before the
	// checkpoint.
	Resume *Checkpoint
}

// History holds per-epoch results: "loss", each metric's name, and the
// same with "val_" in front when there is validation data.
type History struct {
	Epochs  []int                `json:"epochs"`
	Metrics map[string][]float64 `json:"history"`
	// Stopped says why training ended early ("" when it ran every epoch).
	Stopped string `json:"stopped,omitempty"`
}

func (h *History) add(epoch int, logs Logs) {
	h.Epochs = append(h.Epochs, epoch)
	for k, v := range logs {
		h.Metrics[k] = append(h.Metrics[k], v)
	}
}

// Logs maps metric names to values ("loss", "accuracy", "val_loss", ...).
type Logs map[string]float64

// Callback is called by Fit. Embed BaseCallback to implement only some
// methods. Returning ErrStopTraining ends training cleanly; any other error
// ends it and is returned by Fit.
type Callback interface {
	OnTrainBegin(m *Sequential) error
	OnEpochBegin(epoch int) error
	// OnBatchEnd is called after each applied step; step counts from 1
	// within the epoch. logs holds running means; it is reused, copy it to keep it.
	OnBatchEnd(epoch, step int, logs Logs) error
	OnEpochEnd(epoch int, logs Logs) error
	OnTrainEnd(logs Logs) error
}

// BaseCallback implements Callback with methods that do nothing.
type BaseCallback struct{}

// OnTrainBegin does nothing.
func (BaseCallback) OnTrainBegin(*Sequential) error { return nil }

// OnEpochBegin does nothing.
func (BaseCallback) OnEpochBegin(int) error { return nil }

// OnBatchEnd does nothing.
func (BaseCallback) OnBatchEnd(int, int, Logs) error { return nil }

// OnEpochEnd does nothing.
func (BaseCallback) OnEpochEnd(int, Logs) error { return nil }

// OnTrainEnd does nothing.
func (BaseCallback) OnTrainEnd(Logs) error { return nil }

// ErrStopTraining, returned by a callback, ends Fit without an error.
var ErrStopTraining = errors.New("model: training stopped by a callback")

// NonFiniteError reports a NaN or infinite loss, gradient, or weight after
// the optimizer's update. The step that produced it was not applied: weights, optimizer state, batch-norm moving
// statistics and the shuffling/dropout generator are those of the step
// before, so a checkpoint written afterwards holds the last good step.
type NonFiniteError struct {
	Epoch, Step int // 1-based epoch and step within it
	// Layer is where the non-finite value appeared first: for a loss, the
	// first layer (from the input) whose output is not finite; for a
	// gradient, the layer nearest the output whose parameter gradient is
	// not finite, since backpropagation reaches it first and carries the
	// NaN on to every layer before it; for a weight, the first layer
	// (from the input) whose updated weights are not finite. "" if no
	// layer output is at fault.
	Layer string
	What  string // "loss", "gradient" or "weight"
}

// Error says what was non-finite, where, and what to try.
func (e *NonFiniteError) Error() string {
	where := ""
	if e.Layer != "" {
		where = fmt.Sprintf(", first in layer %q", e.Layer)
	}
	return fmt.Sprintf("model: non-finite %s at epoch %d step %d%s; the step was not applied (try a lower learning rate or gradient clipping)", e.What, e.Epoch, e.Step, where)
}

type fitBuffers struct {
	run        fitRun
	pcgBefore  rand.PCG // the generator before the current step, restored when the step is dropped
	perm       []int
	xb, yb     *tensor.Tensor
	xv, yv     *tensor.Tensor // views of the batch buffers' first rows
	outs       []*autodiff.Var
	logs       Logs
	stepParams []*autodiff.Var
	pass       layers.Pass
	guard      updateGuard
}

// Fit trains the model on samples x (samples, features...) with targets y:
// one-hot or probability rows (samples, classes) for categorical losses,
// class indices (samples,) for sparse ones, values shaped like the output
// otherwise. It builds the model on first use. It returns the history of
// the epochs completed; cancelling ctx stops it between steps with ctx's
// error, the model left as after its last complete step.
func (m *Sequential) Fit(ctx context.Context, x, y *tensor.Tensor, opt FitOptions) (h *History, err error) {
	h = &History{Metrics: map[string][]float64{}}
	if ctx == nil {
		return h, errNilContext("Fit")
	}
	if !m.compiled {
		return h, ErrNotCompiled
	}
	if x == nil || y == nil {
		return h, errors.New("model: Fit: x and y must not be nil")
	}
	if x.Rank() < 2 {
		return h, fmt.Errorf("model: Fit: x has shape %s; want (samples, features...)", x.Shape())
	}
	if !m.built {
		if err := m.Build(x.Shape()[1:]...); err != nil {
			return h, err
		}
	}
	if opt.Resume != nil {
		if err := resumeOptions(&opt); err != nil {
			return h, err
		}
	}
	if opt.Epochs == 0 {
		opt.Epochs = 1
	}
	defaultBatch := opt.BatchSize == 0
	if defaultBatch {
		opt.BatchSize = 32
	}
	if opt.Epochs < 0 || opt.InitialEpoch < 0 || opt.InitialEpoch > opt.Epochs {
		return h, fmt.Errorf("model: Fit: epochs %d and initial epoch %d: want 0 ≤ initial ≤ epochs", opt.Epochs, opt.InitialEpoch)
	}
	if opt.BatchSize < 0 {
		return h, fmt.Errorf("model: Fit: batch size %d must be positive", opt.BatchSize)
	}
	if !(opt.ValidationSplit >= 0 && opt.ValidationSplit < 1) {
		return h, fmt.Errorf("model: Fit: validation split %g outside [0, 1)", opt.ValidationSplit)
	}
	x, y, err = m.checkXY("Fit", x, y)
	if err != nil {
		return h, err
	}
	vx, vy := opt.ValidationX, opt.ValidationY
	if (vx == nil) != (vy == nil) {
		return h, errors.New("model: Fit: give both ValidationX and ValidationY, or neither")
	}
	if vx != nil {
		if vx, vy, err = m.checkXY("Fit (validation data)", vx, vy); err != nil {
			return h, err
		}
	} else if opt.ValidationSplit > 0 {
		n := x.Dim(0)
		nv := int(float64(n) * opt.ValidationSplit)
		if nv == 0 || nv == n {
			return h, fmt.Errorf("model: Fit: validation split %g of %d samples leaves an empty set", opt.ValidationSplit, n)
		}
		vx, vy = x.Rows(n-nv, n), y.Rows(n-nv, n)
		x, y = x.Rows(0, n-nv), y.Rows(0, n-nv)
	}
	n := x.Dim(0)
	if n == 0 {
		return h, errors.New("model: Fit: no training samples")
	}
	if defaultBatch && n < opt.BatchSize {
		opt.BatchSize = n // Keras: one batch of all the samples
	}
	if opt.BatchSize > n {
		return h, fmt.Errorf("model: Fit: batch size %d is larger than the %d training samples", opt.BatchSize, n)
	}
	if n%opt.BatchSize == 1 && !opt.DropIncomplete && m.hasBatchNorm() {
		return h, fmt.Errorf("model: Fit: %d samples in batches of %d leave a last batch of one sample, on which batch normalization cannot train; set DropIncomplete or change the batch size", n, opt.BatchSize)
	}
	out := opt.Output
	if out == nil {
		out = os.Stdout
	}
	defer catchShape(&err)

	steps := n / opt.BatchSize
	if !opt.DropIncomplete && n%opt.BatchSize != 0 {
		steps++
	}
	b := &m.fit
	run := &b.run
	*run = fitRun{
		valid: true, x: x, y: y, epochs: opt.Epochs, steps: steps, epoch: opt.InitialEpoch,
		settings: fitSettings{
			BatchSize: opt.BatchSize, Samples: n, Shuffle: !opt.NoShuffle, DropIncomplete: opt.DropIncomplete,
			ValidationSplit: opt.ValidationSplit, ValidationData: opt.ValidationX != nil,
		},
		history: h, callbacks: opt.Callbacks,
	}
	if vx != nil {
		run.settings.ValidationSamples = vx.Dim(0)
	}
	startEpoch, startStep := opt.InitialEpoch, 0
	ck := opt.Resume
	if ck != nil {
		if err := m.checkResume(ck, run); err != nil {
			return h, err
		}
		startEpoch, startStep = ck.st.Epoch, ck.st.Step
		h.Epochs = append(h.Epochs, ck.History.Epochs...)
		for k, v := range ck.History.Metrics {
			h.Metrics[k] = append([]float64(nil), v...)
		}
		run.epoch, run.step = startEpoch, startStep
	}

	for _, c := range opt.Callbacks {
		if err := c.OnTrainBegin(m); err != nil {
			return h, m.stopErr(h, err)
		}
	}
	if ck != nil {
		if err := restoreCallbacks(ck, opt.Callbacks); err != nil {
			return h, err
		}
	}
	if len(b.perm) != n {
		b.perm = make([]int, n)
	}
	if b.logs == nil {
		b.logs = Logs{}
	}
	var epochLogs Logs
	for epoch := startEpoch; epoch < opt.Epochs; epoch++ {
		if err := eachCallback(opt.Callbacks, func(c Callback) error { return c.OnEpochBegin(epoch) }); err != nil {
			return h, m.stopEarly(h, err, opt.Callbacks, epochLogs)
		}
		// A resumed epoch regenerates its permutation from the generator's
		// state before the shuffle, then takes up the state of its last step.
		first := 0
		if ck != nil && epoch == startEpoch && startStep > 0 {
			first = startStep
			*m.trainPCG = ck.st.permPCG
		}
		run.epoch, run.step, run.permPCG = epoch, first, *m.trainPCG
		for i := range b.perm {
			b.perm[i] = i
		}
		if !opt.NoShuffle {
			m.trainRng.Shuffle(n, func(i, j int) { b.perm[i], b.perm[j] = b.perm[j], b.perm[i] })
		}
		var bar *progress
		if opt.Verbose > 0 {
			bar = newProgress(out, opt.Verbose, epoch+1, opt.Epochs, steps)
		}
		run.lossSum, run.seen = 0, 0
		for _, mt := range m.metrics {
			mt.Reset()
		}
		if first > 0 {
			*m.trainPCG = ck.st.pcg
			run.lossSum, run.seen = ck.st.LossSum, ck.st.Seen
			if err := restoreMetrics(m.metrics, ck.st.Metrics); err != nil {
				return h, err
			}
			m.setLogs(run)
		}
		for step := first; step < steps; step++ {
			if err := ctx.Err(); err != nil {
				h.Stopped = "cancelled"
				return h, fmt.Errorf("model: Fit: %w (epoch %d, step %d; the model holds the weights of the last complete step)", err, epoch+1, step)
			}
			lo := step * opt.BatchSize
			hi := min(lo+opt.BatchSize, n)
			xb, yb := m.batch(x, y, b.perm[lo:hi])
			loss, err := m.trainStep(xb, yb, epoch+1, step+1)
			if err != nil {
				var nf *NonFiniteError
				if errors.As(err, &nf) && opt.StopOnNonFinite {
					if bar != nil {
						bar.abort()
					}
					err := m.stopEarly(h, ErrStopTraining, opt.Callbacks, b.logs)
					h.Stopped = nf.Error()
					return h, err
				}
				return h, err
			}
			run.lossSum += loss * float64(hi-lo)
			run.seen += hi - lo
			run.step = step + 1
			m.setLogs(run)
			if bar != nil {
				bar.update(step+1, b.logs, m.metricNames())
			}
			if err := eachCallback(opt.Callbacks, func(c Callback) error { return c.OnBatchEnd(epoch, step+1, b.logs) }); err != nil {
				return h, m.stopEarly(h, err, opt.Callbacks, b.logs)
			}
		}
		epochLogs = Logs{}
		for k, v := range b.logs {
			epochLogs[k] = v
		}
		if vx != nil {
			res, err := m.Evaluate(ctx, vx, vy, EvalOptions{BatchSize: max(opt.BatchSize, 256)})
			if err != nil {
				return h, err
			}
			for k, v := range res {
				epochLogs["val_"+k] = v
			}
		}
		h.add(epoch+1, epochLogs)
		run.epoch, run.step, run.lossSum, run.seen = epoch+1, 0, 0, 0
		if bar != nil {
			bar.done(epochLogs, m.metricNames(), vx != nil)
		}
		if err := eachCallback(opt.Callbacks, func(c Callback) error { return c.OnEpochEnd(epoch, epochLogs) }); err != nil {
			return h, m.stopEarly(h, err, opt.Callbacks, epochLogs)
		}
	}
	for _, c := range opt.Callbacks {
		if err := c.OnTrainEnd(epochLogs); err != nil {
			return h, m.stopErr(h, err)
		}
	}
	return h, nil
}

// setLogs writes the running loss and metrics of the epoch into the
// reused logs map.
func (m *Sequential) setLogs(run *fitRun) {
	logs := m.fit.logs
	logs["loss"] = run.lossSum / float64(max(run.seen, 1))
	for _, mt := range m.metrics {
		logs[mt.Name()] = mt.Result()
	}
}

// eachCallback calls f for every callback in order. An ErrStopTraining is
// remembered while the rest still run, as Keras finishes the list after a
// callback sets stop_training; any other error returns at once.
func eachCallback(cbs []Callback, f func(Callback) error) error {
	var stop error
	for _, c := range cbs {
		if err := f(c); err != nil {
			if !errors.Is(err, ErrStopTraining) {
				return err
			}
			stop = err
		}
	}
	return stop
}

// stopEarly ends training after a callback returned err. For
// ErrStopTraining it is a clean stop: as in Keras, every callback's
// OnTrainEnd still runs (with a copy of logs), so that callbacks that
// summarize or close files do so. Any other error is returned as it is.
func (m *Sequential) stopEarly(h *History, err error, cbs []Callback, logs Logs) error {
	if err = m.stopErr(h, err); err != nil {
		return err
	}
	end := Logs{}
	for k, v := range logs {
		end[k] = v
	}
	for _, c := range cbs {
		if err := c.OnTrainEnd(end); err != nil && !errors.Is(err, ErrStopTraining) {
			return err
		}
	}
	return nil
}

func (m *Sequential) stopErr(h *History, err error) error {
	if errors.Is(err, ErrStopTraining) {
		h.Stopped = "stopped by a callback"
		return nil
	}
	return err
}

func (m *Sequential) metricNames() []string {
	names := make([]string, 0, len(m.metrics)+1)
	for _, mt := range m.metrics {
		names = append(names, mt.Name())
	}
	return append(names, "loss")
}

// hasBatchNorm reports whether a layer normalizes with batch statistics
// in training, and so cannot train on a batch of one sample.
func (m *Sequential) hasBatchNorm() bool {
	for _, l := range m.Layers {
		if n, ok := l.(layers.Normalizer); ok && n.BatchStatistics() {
			return true
		}
	}
	return false
}

// batch gathers the rows idx of x and y into reused buffers.
func (m *Sequential) batch(x, y *tensor.Tensor, idx []int) (xb, yb *tensor.Tensor) {
	b := &m.fit
	xb0, yb0 := b.xb, b.yb
	b.xb = gatherInto(b.xb, x, idx)
	b.yb = gatherInto(b.yb, y, idx)
	if b.xb == xb0 && b.yb == yb0 && b.xv != nil && b.xv.Dim(0) == len(idx) {
		return b.xv, b.yv // the same views as last step: no allocation
	}
	b.xv, b.yv = b.xb.Rows(0, len(idx)), b.yb.Rows(0, len(idx))
	return b.xv, b.yv
}

// gatherInto copies rows idx of src into dst, growing dst (rows only) when
// it is too small; it returns dst.
func gatherInto(dst, src *tensor.Tensor, idx []int) *tensor.Tensor {
	row := src.Len() / max(src.Dim(0), 1)
	if dst == nil || dst.Dim(0) < len(idx) || dst.DType() != src.DType() || dst.Len()/max(dst.Dim(0), 1) != row {
		s := src.Shape().Clone()
		s[0] = len(idx)
		dst = tensor.New(src.DType(), s...)
	}
	if d := dst.Float32s(); d != nil {
		s := src.Float32s()
		for i, k := range idx {
			copy(d[i*row:(i+1)*row], s[k*row:(k+1)*row])
		}
	} else {
		d, s := dst.Float64s(), src.Float64s()
		for i, k := range idx {
			copy(d[i*row:(i+1)*row], s[k*row:(k+1)*row])
		}
	}
	return dst
}

// trainStep runs forward, backward and the update on one batch and returns
// the batch loss. A non-finite loss or gradient leaves everything unchanged.
func (m *Sequential) trainStep(xb, yb *tensor.Tensor, epoch, step int) (float64, error) {
	tp := m.tape
	tp.Reset()
	b := &m.fit
	b.pcgBefore = *m.trainPCG
	b.pass = layers.Pass{Tape: tp, Training: true, Rand: m.trainRng}
	p := &b.pass // a field, not a local: a local would escape to the heap
	b.outs = b.outs[:0]
	v := m.Forward(p, tp.Const(xb), m.lossWalk(&b.outs))
	loss := m.lossOf(tp, v, yb)
	lv := loss.Value.Item()
	if math.IsNaN(lv) || math.IsInf(lv, 0) {
		m.discard()
		layer := ""
		for i, o := range b.outs {
			if !o.Value.AllFinite() {
				layer = m.Layers[i].Name()
				break
			}
		}
		return 0, &NonFiniteError{Epoch: epoch, Step: step, Layer: layer, What: "loss"}
	}
	tp.Backward(loss)
	for i := len(m.layerParams) - 1; i >= 0; i-- { // nearest the output first: see NonFiniteError
		for _, p := range m.layerParams[i] {
			if tp.HasGrad(p) && !p.Grad.AllFinite() {
				m.discard()
				return 0, &NonFiniteError{Epoch: epoch, Step: step, Layer: m.Layers[i].Name(), What: "gradient"}
			}
		}
	}
	params := m.stepParams()
	b.guard.save(m.opt, params)
	if err := m.opt.Step(params); err != nil {
		m.discard()
		return 0, fmt.Errorf("model: epoch %d step %d: %w", epoch, step, err)
	}
	for i, ps := range m.layerParams { // from the input: the first layer the update broke
		for _, p := range ps {
			if !p.Value.AllFinite() {
				b.guard.restore()
				m.discard()
				return 0, &NonFiniteError{Epoch: epoch, Step: step, Layer: m.Layers[i].Name(), What: "weight"}
			}
		}
	}
	for _, l := range m.Layers {
		if s, ok := l.(layers.Stateful); ok {
			s.Commit()
		}
	}
	pred := m.predictions(tp, v)
	for _, mt := range m.metrics {
		if err := mt.Update(pred.Value, yb); err != nil {
			return 0, fmt.Errorf("model: epoch %d step %d: %w", epoch, step, err)
		}
	}
	return lv, nil
}

func (m *Sequential) stepParams() []*autodiff.Var {
	ps := m.fit.paramsBuf()
	for _, p := range m.params {
		if p.NeedsGrad() && m.tape.HasGrad(p) {
			ps = append(ps, p)
		}
	}
	m.fit.stepParams = ps
	return ps
}

func (b *fitBuffers) paramsBuf() []*autodiff.Var { return b.stepParams[:0] }

// discard drops the step in progress: the batch statistics it computed and
// what it drew from the generator (dropout masks).
func (m *Sequential) discard() {
	*m.trainPCG = m.fit.pcgBefore
	for _, l := range m.Layers {
		if s, ok := l.(layers.Stateful); ok {
			s.Discard()
		}
	}
}

// checkXY validates a dataset against the model and converts it to the
// model's dtype.
func (m *Sequential) checkXY(op string, x, y *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor, error) {
	if x == nil || y == nil {
		return nil, nil, fmt.Errorf("model: %s: x and y must not be nil", op)
	}
	if x.Rank() < 2 || !x.Shape()[1:].Equal(m.inShape) {
		return nil, nil, fmt.Errorf("model: %s: x has shape %s; the model takes (samples, %s)", op, x.Shape(), strings.Trim(m.inShape.String(), "(,)"))
	}
	if y.Rank() < 1 || y.Dim(0) != x.Dim(0) {
		return nil, nil, fmt.Errorf("model: %s: x has %d samples but y has shape %s", op, x.Dim(0), y.Shape())
	}
	x, y = x.As(m.DType), y.As(m.DType)
	classes := m.outShape[len(m.outShape)-1]
	if m.loss != nil && strings.HasPrefix(m.loss.Name(), "sparse") {
		if !(y.Rank() == 1 || y.Rank() == 2 && y.Dim(1) == 1) {
			return nil, nil, fmt.Errorf("model: %s: sparse labels must have shape (samples,), got %s", op, y.Shape())
		}
		for i := range y.Len() {
			v := y.Index(i)
			if v < 0 || v >= float64(classes) || v != math.Trunc(v) {
				return nil, nil, fmt.Errorf("model: %s: label %g of sample %d is not a class index in [0, %d)", op, v, i, classes)
			}
		}
		return x, y.Reshape(y.Dim(0)), nil
	}
	want := append(tensor.Shape{x.Dim(0)}, m.outShape...)
	if y.Rank() == 1 && want.Len() == y.Len() {
		y = y.Reshape(want...)
	}
	if !y.Shape().Equal(want) {
		return nil, nil, fmt.Errorf("model: %s: y has shape %s; the model outputs %s per sample, so want %s (one-hot labels for %d classes)", op, y.Shape(), m.outShape, want, classes)
	}
	if !y.AllFinite() {
		return nil, nil, fmt.Errorf("model: %s: y holds NaN or infinite values", op)
	}
	return x, y, nil
}

// timeNow is replaced in tests.
var timeNow = time.Now
