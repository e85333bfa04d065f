// Package model is the Keras-like front door of myelin: a Sequential stack
// of layers that is compiled with an optimizer, a loss and metrics, then
// fitted, evaluated, used for prediction, summarized, saved and loaded.
//
// Functions here return errors for bad input (shapes, labels, options);
// a *tensor.ShapeError panic from inside an op is recovered into an error
// at this door, and any other panic is a bug and is not hidden.
//
// A model is deterministic: the same Seed and settings give bit-identical
// weights and metrics, run after run. Checkpoints keep that promise across
// interruptions: BackupAndRestore (or SaveCheckpoint, from a callback or
// after Fit returns) saves the run's exact position, and a Fit given
// FitOptions.Resume with the model and Checkpoint that LoadCheckpoint or
// LatestCheckpoint returned ends bit for bit as if never stopped. Predict
// and Evaluate may be called from several goroutines at once; Fit must not
// run concurrently with anything else on the same model.
package model

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// ErrNotCompiled is returned by Fit and Evaluate before Compile.
var ErrNotCompiled = errors.New("model: not compiled: call Compile(optimizer, loss, metrics...) first")

// ErrNotBuilt is returned when a model's input shape is not known yet.
var ErrNotBuilt = errors.New("model: not built: call Build(inputShape...) or Fit first")

// Sequential is a linear stack of layers.
type Sequential struct {
	// Name is the model's name, "sequential" by default.
	Name string
	// Layers in order; add them before Build.
	Layers []layers.Layer
	// DType is the element type of weights and activations (Float32 by default).
	DType tensor.DType
	// Seed seeds weight initialization, shuffling and dropout.
	Seed uint64
	// Dataset records what the model was trained on; nil when unknown.
	// Save stores it in the file's metadata (see dataset.go).
	Dataset *DatasetInfo

	inShape  tensor.Shape
	outShape tensor.Shape
	shapes   []tensor.Shape // output feature shape of each layer
	built    bool

	trainPCG *rand.PCG // shuffling and dropout; saved in checkpoints
	trainRng *rand.Rand

	opt       optimizers.Optimizer
	loss      losses.Loss
	fusedLoss losses.Loss   // loss on the last layer's pre-activations, when its activation fuses into the loss; see fusion.go
	fusedAct  nn.Activation // the activation fused away
	metrics   []metrics.Metric
	compiled  bool
	// lrSchedule is CompileFrom's LRSchedule, kept for Architecture and
	// myelin train; Compile clears it.
	lrSchedule string

	tape        *autodiff.Tape
	params      []*autodiff.Var
	layerParams [][]*autodiff.Var // parameters of each layer, for per-layer checks
	tapes       sync.Pool         // inference tapes, one per concurrent caller
	fit         fitBuffers
}

// NewSequential returns a model made of ls.
func NewSequential(ls ...layers.Layer) *Sequential {
	return &Sequential{Name: "sequential", Layers: ls, DType: tensor.Float32, Seed: 1}
}

// Add appends a layer; it must come before Build.
func (m *Sequential) Add(l layers.Layer) error {
	if l == nil {
		return errors.New("model: Add: the layer is nil")
	}
	if m.built {
		return fmt.Errorf("model: Add %s after Build", l.Type())
	}
	m.Layers = append(m.Layers, l)
	return nil
}

// Built reports whether Build has run.
func (m *Sequential) Built() bool { return m.built }

// InputShape returns the feature shape of one sample (nil before Build).
func (m *Sequential) InputShape() tensor.Shape { return m.inShape }

// OutputShape returns the feature shape of one prediction (nil before Build).
func (m *Sequential) OutputShape() tensor.Shape { return m.outShape }

// LayerShape returns the feature shape of layer i's output (without the
// batch axis), nil before Build.
func (m *Sequential) LayerShape(i int) tensor.Shape {
	if !m.built || i < 0 || i >= len(m.shapes) {
		return nil
	}
	return m.shapes[i]
}

// snakeRE splits words before a capital that follows a lower-case letter,
// not a digit, so that Conv2D is conv2d and MaxPooling2D max_pooling2d, as
// in Keras.
var snakeRE = regexp.MustCompile(`([a-z])([A-Z])`)

func snake(s string) string { return strings.ToLower(snakeRE.ReplaceAllString(s, "${1}_${2}")) }

// Build creates every layer's weights for samples of feature shape in
// (784 for flattened MNIST), naming unnamed layers Keras's way (dense,
// dense_1, batch_normalization, ...).
func (m *Sequential) Build(in ...int) (err error) {
	defer catchShape(&err) // a layer too large for a tensor
	for i, l := range m.Layers {
		if l == nil {
			return fmt.Errorf("model: Build: layer %d is nil", i)
		}
	}
	if m.built {
		if !tensor.Shape(in).Equal(m.inShape) {
			return fmt.Errorf("model: already built for inputs %s, not %s", m.inShape, tensor.Shape(in))
		}
		return nil
	}
	if len(m.Layers) == 0 {
		return errors.New("model: Build: the model has no layers")
	}
	if len(in) == 0 {
		return errors.New("model: Build: no input shape given")
	}
	for _, d := range in {
		if d <= 0 {
			return fmt.Errorf("model: Build: input shape %s has a non-positive dimension", tensor.Shape(in))
		}
	}
	if m.DType == 0 {
		m.DType = tensor.Float32
	}
	if m.Name == "" {
		m.Name = "sequential"
	}
	seen := map[string]int{}
	names := map[string]bool{}
	for _, l := range m.Layers {
		if l.Name() != "" {
			if names[l.Name()] {
				return fmt.Errorf("model: two layers are named %q", l.Name())
			}
			names[l.Name()] = true
		}
	}
	for _, l := range m.Layers {
		if l.Name() != "" {
			continue
		}
		base := snake(l.Type())
		for {
			n := base
			if k := seen[base]; k > 0 {
				n = fmt.Sprintf("%s_%d", base, k)
			}
			seen[base]++
			if !names[n] {
				l.SetName(n)
				names[n] = true
				break
			}
		}
	}
	initRng := rand.New(rand.NewPCG(m.Seed, 0x6d79656c696e)) // weights: their own stream
	shape := tensor.Shape(in).Clone()
	m.shapes = m.shapes[:0]
	for _, l := range m.Layers {
		out, err := l.Build(shape, m.DType, initRng)
		if err != nil {
			return fmt.Errorf("model: building layer %q: %w", l.Name(), err)
		}
		m.shapes = append(m.shapes, out)
		shape = out
	}
	m.inShape, m.outShape = tensor.Shape(in).Clone(), shape
	m.trainPCG = rand.NewPCG(m.Seed, 0x747261696e) // shuffling and dropout
	m.trainRng = rand.New(m.trainPCG)
	m.params = m.params[:0]
	m.layerParams = make([][]*autodiff.Var, len(m.Layers))
	for i, l := range m.Layers {
		for _, w := range l.Weights() {
			if w.Param != nil {
				m.params = append(m.params, w.Param)
				m.layerParams[i] = append(m.layerParams[i], w.Param)
			}
		}
	}
	m.tape = autodiff.NewTape()
	m.built = true
	m.resolveFusion()
	return nil
}

// Compile sets the optimizer, the loss and the metrics reported by Fit and
// Evaluate. When the last layer ends in softmax (or sigmoid) and the loss
// is categorical (or binary) cross-entropy on probabilities, training
// computes the loss from the logits instead, as Keras's from_logits would:
// the same function without the log of a rounded probability, and without
// Keras's clipping of probabilities to [1e-7, 1-1e-7] (tf.keras and PyTorch
// do not clip either), so on saturated predictions the loss is larger than
// Keras's backend-neutral rule gives. For Keras's numbers use
// losses.CategoricalCrossentropy{KerasClip: true}. Compile rejects an
// optimizer whose Validate fails (a bare &optimizers.Adam{LR: 0.01} has
// ε = 0: use optimizers.NewAdam and set LR).
func (m *Sequential) Compile(opt optimizers.Optimizer, loss losses.Loss, ms ...metrics.Metric) error {
	if opt == nil {
		return errors.New("model: Compile: optimizer is nil")
	}
	if loss == nil {
		return errors.New("model: Compile: loss is nil")
	}
	if err := opt.Validate(); err != nil {
		return fmt.Errorf("model: Compile: %w", err)
	}
	seen := map[string]bool{"loss": true}
	for _, mt := range ms {
		if mt == nil {
			return errors.New("model: Compile: a metric is nil")
		}
		if seen[mt.Name()] {
			return fmt.Errorf("model: Compile: metric name %q used twice", mt.Name())
		}
		seen[mt.Name()] = true
	}
	m.opt, m.loss, m.metrics = opt, loss, ms
	m.compiled = true
	m.resolveFusion()
	m.lrSchedule = ""
	return nil
}

// CompileNames is Compile with Keras's names and default learning rate,
// e.g. CompileNames("adam", "categorical_crossentropy", "accuracy"). Use
// CompileFrom to set the learning rate too.
func (m *Sequential) CompileNames(opt, loss string, ms ...string) error {
	return m.CompileFrom(CompileConfig{Optimizer: opt, Loss: loss, Metrics: ms})
}

// CompileFrom is Compile with Keras's names, as c gives them: the
// optimizer with learning rate c.LearningRate (0 means its default), the
// loss and the metrics. c is the record a model file keeps of Compile, so
// CompileFrom(CompileConfig{Optimizer: "adam", LearningRate: 0.01, Loss:
// "categorical_crossentropy"}) compiles what such a file describes.
func (m *Sequential) CompileFrom(c CompileConfig) error {
	switch c.LRSchedule {
	case "", "constant", "exponential", "cosine":
	default:
		return fmt.Errorf("model: compile: lr_schedule %q: want constant, exponential or cosine", c.LRSchedule)
	}
	o, err := optimizers.ByName(c.Optimizer, c.LearningRate)
	if err != nil {
		return err
	}
	l, err := losses.ByName(c.Loss)
	if err != nil {
		return err
	}
	var mts []metrics.Metric
	for _, n := range c.Metrics {
		mt, err := metrics.ByName(n)
		if err != nil {
			return err
		}
		mts = append(mts, mt)
	}
	if err := m.Compile(o, l, mts...); err != nil {
		return err
	}
	m.lrSchedule = c.LRSchedule
	if m.lrSchedule == "constant" {
		m.lrSchedule = ""
	}
	return nil
}

// LRSchedule returns the learning-rate schedule the compile configuration
// named (CompileConfig.LRSchedule), "" for constant.
func (m *Sequential) LRSchedule() string { return m.lrSchedule }

// Optimizer returns the compiled optimizer (nil before Compile).
func (m *Sequential) Optimizer() optimizers.Optimizer { return m.opt }

// Loss returns the compiled loss (nil before Compile).
func (m *Sequential) Loss() losses.Loss { return m.loss }

// Metrics returns the compiled metrics.
func (m *Sequential) Metrics() []metrics.Metric { return m.metrics }

// Params returns the trainable parameters in layer order.
func (m *Sequential) Params() []*autodiff.Var {
	var ps []*autodiff.Var
	for _, p := range m.params {
		if p.NeedsGrad() {
			ps = append(ps, p)
		}
	}
	return ps
}

// errNilContext is the error for a nil context.Context given to op.
func errNilContext(op string) error {
	return fmt.Errorf("model: %s: nil context (pass context.Background() or a context that can be cancelled)", op)
}

// catchShape turns a *tensor.ShapeError panic into *err; others re-panic.
func catchShape(err *error) {
	if r := recover(); r != nil {
		if se, ok := r.(*tensor.ShapeError); ok {
			*err = fmt.Errorf("model: %w", se)
			return
		}
		panic(r)
	}
}
