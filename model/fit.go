package model

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/reduce"
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
	// ValidationX, ValidationY are validation data; they override
	// ValidationSplit. ValidationX may be uint8, as x may.
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
	// SampleWeight (samples,) weighs each sample's loss, Keras's
	// sample_weight: a batch's loss is Σ wᵢ·Lᵢ / batch size (Keras 3's
	// "sum_over_batch_size", not a mean over Σw), so weights of 1 train
	// exactly as no weights. The weights follow the shuffle, and with
	// ValidationSplit the last ones go with the held-out samples and weigh
	// the validation loss, as in Keras (with ValidationX and ValidationY
	// the validation loss is not weighted). The metrics are not weighted
	// (Keras's metrics are not; its weighted_metrics have no counterpart
	// here). The loss must implement losses.Weighted.
	SampleWeight *tensor.Tensor
	// ClassWeight weighs each sample's loss by the weight of its class,
	// Keras's class_weight: the class is the argmax of a one-hot or soft
	// target row, or the rounded target value (a sparse label, a binary
	// 0/1 target). A class missing from the map weighs 1, as Keras 3 does
	// for in-memory arrays; as there, it cannot be combined with
	// SampleWeight. Class weights weigh the training loss only, not the
	// validation loss, as in Keras.
	ClassWeight map[int]float64
	// StepsPerEpoch ends each epoch after that many batches (0: all of
	// them; more than there are: all of them, where Keras warns that the
	// input ran out). Each epoch still starts with a fresh shuffle of all
	// the samples and takes its first StepsPerEpoch batches, so every
	// epoch draws a new random subset. Keras 3 instead continues the
	// interrupted pass over the arrays in the next epoch and reshuffles
	// only when the pass is complete; the choice here keeps an epoch a
	// self-contained unit for checkpoints and the non-finite rewind.
	StepsPerEpoch int
	// ValidationFreq validates only at the end of every ValidationFreq-th
	// epoch (epochs ValidationFreq, 2·ValidationFreq, ... counting from
	// 1, as Keras's integer validation_freq); 0 or 1 means every epoch.
	// The other epochs' logs and History have no val_ values, so a val_
	// series in History is shorter than Epochs.
	ValidationFreq int
	// Ranks, when it has more than one member, trains data-parallel
	// across processes (package distributed), each on its part of every
	// batch: rows [r·B/N, (r+1)·B/N) of a batch of B rows on N ranks (see
	// ranks.go). Every rank calls Fit with the same data and options;
	// rank 0 alone prints progress. Batch normalization takes the
	// statistics of the whole batch, and the weights stay identical on
	// every rank.
	Ranks reduce.Ranks
	// BatchNormPerRank makes batch normalization, on Ranks, normalize each
	// rank's rows with their own statistics, as PyTorch's
	// DistributedDataParallel does without SyncBatchNorm: the weights stay
	// identical across ranks (the gradients are still summed), but each
	// rank's moving statistics are its own, and rank 0's are the ones it
	// saves. By default the statistics are the whole batch's (Keras's
	// BatchNormalization(synchronized=True)).
	BatchNormPerRank bool
	// ShardSize, when positive, cuts each training batch into shards of
	// this many rows that train on all cores at once, batch
	// normalization still taking the statistics of the whole batch (see
	// shards.go). The shard size, never the number of threads, fixes the
	// arithmetic: a batch of at most ShardSize rows trains exactly as in
	// one pass, and a larger one differs from that in float rounding
	// only. 0 trains each batch in one pass, sharing only the large
	// products between cores. Whether shards are faster depends on the
	// machine: see BENCHMARKS.md before choosing.
	ShardSize int
	// SplitFirstLayer, with ShardSize, shares a first Dense layer among
	// the shards by its inputs instead of by rows: each shard's worker
	// owns a block of the layer's kernel rows for the whole batch, so the
	// largest weights never move between cores, and the first worker runs
	// the rest of the network on the whole batch (see insplit.go). The
	// layer's sums then add the blocks' parts, which changes their
	// rounding: the result still depends on the shard size and not on the
	// number of threads, but it is not ShardSize's alone, nor a
	// distributed run's. It needs a float32 model whose first layer is a
	// Dense of ReLU or no activation, without a kernel regularizer, on
	// inputs of one dimension, and an optimizer that updates by ranges
	// (Adam, AdamW).
	SplitFirstLayer bool
	// Resume continues the run that wrote this checkpoint, from the step
	// after the last one it holds, so that the weights, optimizer and
	// batch-norm state, and the History, end bit for bit as an
	// uninterrupted run would. It must come from LoadCheckpoint or
	// LatestCheckpoint with this model; x and y must be the same data;
	// BatchSize, NoShuffle, DropIncomplete and ValidationSplit must match
	// the run's, and so must StepsPerEpoch, ValidationFreq and the sample
	// or class weights (a zero BatchSize or Epochs takes the checkpoint's), and
	// InitialEpoch must be 0. Epochs may be larger than the run's, to
	// train longer. The returned History includes the epochs before the
	// checkpoint.
	Resume *Checkpoint
}

// Fit trains the model on samples x (samples, features...) with targets y:
// one-hot or probability rows (samples, classes) for categorical losses,
// class indices (samples,) for sparse ones, values shaped like the output
// otherwise. x may be uint8 (tensor.FromUint8: pixels as bytes, say),
// which stays in memory as it is: each batch converts its rows to the
// model's dtype, the same values As would give. It builds the model on
// first use. It returns the history of the epochs completed; cancelling
// ctx stops it between steps with ctx's error, the model left as after its
// last complete step.
//
// A step whose update writes a NaN or an infinity into a weight is undone
// without a copy of the weights per step: Fit copies the training state
// once per epoch, before its first step, records the learning rate of each
// step, and on such a step restores the copy and replays the epoch's steps
// before it (the same batches and learning rates, without callbacks). Since
// training is deterministic that rebuilds the state after the last good
// step bit for bit, unless a callback changed something other than the
// learning rate between steps, or an optimizer or layer keeps state that
// State, Iterations and the layers' weights do not hold; when the replay
// then ends elsewhere than the run did, Fit says so in its error and leaves
// the model as the epoch started.
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
	if opt.ShardSize < 0 {
		return h, fmt.Errorf("model: Fit: ShardSize %d: want 0 (whole batches) or a positive number of rows", opt.ShardSize)
	}
	if opt.SplitFirstLayer {
		if opt.ShardSize == 0 {
			return h, fmt.Errorf("model: Fit: SplitFirstLayer needs a ShardSize: it splits the first layer among a batch's shards")
		}
		if why := m.inSplitProblem(); why != "" {
			return h, fmt.Errorf("model: Fit: SplitFirstLayer: %s", why)
		}
	}
	if opt.StepsPerEpoch < 0 || opt.ValidationFreq < 0 {
		return h, fmt.Errorf("model: Fit: StepsPerEpoch %d and ValidationFreq %d must not be negative", opt.StepsPerEpoch, opt.ValidationFreq)
	}
	if !(opt.ValidationSplit >= 0 && opt.ValidationSplit < 1) {
		return h, fmt.Errorf("model: Fit: validation split %g outside [0, 1)", opt.ValidationSplit)
	}
	x, y, err = m.checkXY("Fit", x, y)
	if err != nil {
		return h, err
	}
	w, err := m.sampleWeights(y, &opt)
	if err != nil {
		return h, err
	}
	vx, vy := opt.ValidationX, opt.ValidationY
	var vw *tensor.Tensor // the held-out samples' weights
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
		if w != nil {
			if opt.SampleWeight != nil { // Keras splits sample_weight with x and y; class_weight is for training only
				vw = w.Rows(n-nv, n)
			}
			w = w.Rows(0, n-nv)
		}
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
	ranks := ranksOf(&opt)
	if ranks != nil {
		if opt.ShardSize > 0 {
			return h, fmt.Errorf("model: Fit: ShardSize %d with %d Ranks: a rank's part of a batch is trained in one pass; set ShardSize 0", opt.ShardSize, ranks.Size())
		}
		if last := n % opt.BatchSize; opt.BatchSize < ranks.Size() || !opt.DropIncomplete && last != 0 && last < ranks.Size() {
			return h, fmt.Errorf("model: Fit: %d samples in batches of %d on %d Ranks: every batch needs a row for each rank; change the batch size or set DropIncomplete", n, opt.BatchSize, ranks.Size())
		}
	}
	out := opt.Output
	if out == nil {
		out = os.Stdout
	}
	if ranks != nil && ranks.Rank() != 0 {
		opt.Verbose = 0 // rank 0 reports
	}
	defer catchShape(&err)

	steps := n / opt.BatchSize
	if !opt.DropIncomplete && n%opt.BatchSize != 0 {
		steps++
	}
	if opt.StepsPerEpoch > 0 && opt.StepsPerEpoch < steps {
		steps = opt.StepsPerEpoch
	}
	freq := max(opt.ValidationFreq, 1)
	b := &m.fit
	run := &b.run
	*run = fitRun{
		valid: true, x: x, y: y, w: w, epochs: opt.Epochs, steps: steps, epoch: opt.InitialEpoch,
		settings: fitSettings{
			BatchSize: opt.BatchSize, Samples: n, Shuffle: !opt.NoShuffle, DropIncomplete: opt.DropIncomplete,
			ValidationSplit: opt.ValidationSplit, ValidationData: opt.ValidationX != nil,
			StepsLimit: opt.StepsPerEpoch, ValidationFreq: opt.ValidationFreq,
			ShardSize: opt.ShardSize, SplitFirstLayer: opt.SplitFirstLayer,
		},
		history: h, callbacks: opt.Callbacks,
	}
	b.shards.size = run.settings.ShardSize
	b.shards.split = run.settings.SplitFirstLayer
	b.ranks.g, b.ranks.perRank = ranks, opt.BatchNormPerRank
	if ranks != nil {
		run.settings.Ranks = ranks.Size()
		run.settings.BatchNormPerRank = opt.BatchNormPerRank
	}
	defer m.stopShards()
	if vx != nil {
		run.settings.ValidationSamples = vx.Dim(0)
	}
	if freq == 1 {
		run.settings.ValidationFreq = 0 // every epoch, as checkpoints before ValidationFreq recorded it
	}
	if w != nil {
		run.settings.SampleWeights = weightsSHA256(w, vw)
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
	if ranks != nil {
		m.broadcastWeights(ranks)
	}
	b.snap.collect(m, steps)
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
		var resumed []metricState
		if first > 0 {
			*m.trainPCG = ck.st.pcg
			run.lossSum, run.seen = ck.st.LossSum, ck.st.Seen
			if err := restoreMetrics(m.metrics, ck.st.Metrics); err != nil {
				return h, err
			}
			m.setLogs(run)
			resumed = ck.st.Metrics
		}
		b.snap.take(m, first, resumed)
		for step := first; step < steps; step++ {
			if err := ctx.Err(); err != nil {
				if bar != nil {
					bar.abort() // the caller's message starts on its own line
				}
				if step == 0 {
					// Position (epoch, step 0) is the epoch before its
					// shuffle, as an epoch-end checkpoint records it: put
					// the generator back, or a checkpoint written now
					// would shuffle the epoch again from the shuffled
					// state.
					*m.trainPCG = run.permPCG
				}
				h.Stopped = "cancelled"
				return h, fmt.Errorf("model: Fit: %w (epoch %d, step %d; the model holds the weights of the last complete step)", err, epoch+1, step)
			}
			lo := step * opt.BatchSize
			hi := min(lo+opt.BatchSize, n)
			b.snap.lrs[step] = m.opt.LearningRate()
			var loss float64
			if ranks != nil {
				rlo, rhi := rankRows(lo, hi, ranks.Rank(), ranks.Size())
				xb, yb := m.batch(x, y, b.perm[rlo:rhi])
				loss, err = m.trainStepRanks(xb, yb, hi-lo, epoch+1, step+1)
			} else {
				xb, yb := m.batch(x, y, b.perm[lo:hi])
				m.prefetch(x, b.perm[min(hi, n):min(hi+opt.BatchSize, n)])
				loss, err = m.trainStep(xb, yb, epoch+1, step+1)
			}
			if err != nil {
				var nf *NonFiniteError
				if errors.As(err, &nf) && (nf.What == "weight" || nf.rewind) {
					if err = m.rewind(nf, step); err != nf {
						return h, err
					}
				}
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
		validated := vx != nil && (epoch+1)%freq == 0
		if validated {
			res, err := m.evaluate(ctx, vx, vy, vw, EvalOptions{BatchSize: max(opt.BatchSize, 256)})
			if err != nil {
				return h, err
			}
			for k, v := range res {
				epochLogs["val_"+k] = v
			}
		}
		for _, c := range opt.Callbacks {
			if l, ok := c.(EpochLogger); ok {
				l.AddEpochLogs(epoch, epochLogs)
			}
		}
		h.add(epoch+1, epochLogs)
		run.epoch, run.step, run.lossSum, run.seen = epoch+1, 0, 0, 0
		if bar != nil {
			bar.done(epochLogs, m.metricNames(), validated)
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

// timeNow is replaced in tests.
var timeNow = time.Now
