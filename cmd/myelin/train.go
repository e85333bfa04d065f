package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/myelin-go/myelin/distributed"
	"github.com/myelin-go/myelin/internal/term"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensorboard"
)

var trainCmd = &command{
	name:  "train",
	usage: "myelin train [flags]",
	short: "train a model (the founding model on MNIST by default) and save it",
	long: `Train trains a model, evaluates it on the test set and saves it.

The default model is the founding one: Dense(64, relu), BatchNormalization,
Dense(64, relu), BatchNormalization, Dense(10, softmax), trained with Adam on
categorical cross-entropy. --no-batchnorm drops the two BatchNormalization
layers, to compare. --arch trains any Sequential model written as
architecture JSON instead (see examples/founding.json), myelin's own or
Keras's model.to_json() output (Keras 2 or 3; InputLayer, Dense,
Activation, BatchNormalization and Dropout); its "compile" section, when
it has one, sets the optimizer, learning rate and "lr_schedule" unless
--optimizer, --lr or --lr-schedule are given. The saved model file records
the dataset (name, image shape, classes and their names), which evaluate
and predict use.

Progress goes to standard output, or to standard error with --json, which
prints one JSON object with the results on standard output. --tensorboard DIR
also writes the run as TensorBoard event files in DIR (tensorboard --logdir).
--report DIR watches gradient health (and batch norm, when the model has it)
and writes plots, CSV files and an index.html that opens from disk.

Example:

	myelin train --epochs 5 --batch-size 32 --out model.safetensors
	myelin train --no-batchnorm --lr 0.01 --json

With --checkpoint-dir, train saves checkpoints (weights, optimizer and
batch-norm state, position in the shuffled data, history) at the end of
each epoch or every --checkpoint-every steps, keeping the last --keep.
Interrupted with Ctrl-C, it saves the last complete step, prints how to
continue, and exits with status 1. --resume DIR continues from the latest
checkpoint in DIR exactly as if never stopped, with the run's flags
(--epochs may be raised to train longer):

	myelin train --checkpoint-dir ckpt --checkpoint-every 500
	myelin train --resume ckpt

SIGTERM is handled like Ctrl-C. A resumed run saves the model to the
interrupted run's --out unless --out is given again.

--clipnorm and --clipvalue clip the gradients before each update (Keras's
clipnorm, per weight, and clipvalue); give at most one.

` + extrasUsage + "\n" + outputRule,
	flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
		epochs := fs.Int("epochs", 5, "number of `epochs`")
		batch := fs.Int("batch-size", 32, "samples per training `step`")
		lr := fs.Float64("lr", 0, "learning `rate` (0: the optimizer's default, 0.001 for adam)")
		optName := fs.String("optimizer", "adam", "optimizer: adam, adamw, nadam, sgd, rmsprop or adagrad")
		clipNorm := fs.Float64("clipnorm", 0, "rescale each weight's gradient to an L2 norm of at most `c` (0: off)")
		clipValue := fs.Float64("clipvalue", 0, "clamp each gradient element to [-`v`, v] (0: off)")
		seed := fs.Uint64("seed", 1, "random `seed` for weights, shuffling and dropout")
		noBN := fs.Bool("no-batchnorm", false, "train the founding model without its BatchNormalization layers")
		data := fs.String("data", "mnist", "dataset: mnist (built in) or fashion-mnist (Debian's dataset-fashion-mnist)")
		dataDir := fs.String("data-dir", "", "read the dataset's four IDX files from `dir` instead")
		out := fs.String("out", "model.safetensors", "save the trained model to `file` (\"\" to skip)")
		asJSON := fs.Bool("json", false, "print the results as one JSON object on standard output")
		arch := fs.String("arch", "", "train the Sequential model described by architecture JSON `file`")
		valSplit := fs.Float64("validation-split", 0, "hold out this `fraction` (0 to 1, excluding 1) of the training data for validation")
		verbose := fs.Int("verbose", 1, "progress: 0 none, 1 a bar per epoch, 2 a line per epoch")
		tbDir := fs.String("tensorboard", "", "write TensorBoard event files (epoch and batch scalars, weight histograms) to `dir`")
		reportDir := fs.String("report", "", "write plots, CSV files and a self-contained index.html of the run to `dir`")
		shardSize := fs.Int("shard-size", 0, "cut each batch into shards of `rows` trained on all cores at once (0: whole batches; see BENCHMARKS.md)")
		splitFirst := fs.Bool("split-first-layer", false, "with --shard-size: share the first Dense layer among the shards by its inputs instead of by rows (changes float rounding; see BENCHMARKS.md)")
		noSyncBN := fs.Bool("no-sync-bn", false, "with --distributed: batch normalization takes each process's own rows' statistics (PyTorch DDP without SyncBatchNorm) instead of the whole batch's")
		dist := fs.Bool("distributed", false, "train data-parallel on the processes of an MPI job (mpirun -np N myelin train --distributed; needs a binary built with -tags mpi)")
		ckpt := checkpointFlags(fs)
		extras := extraFlags(fs)
		return func(ctx context.Context, e *env) (err error) {
			if len(e.args) > 0 {
				return usagef("unexpected arguments %q", e.args)
			}
			if err := ckpt.prepare(fs, e); err != nil { // --resume sets the run's flags
				return err
			}
			if err := checkTrainFlags(*epochs, *batch, *verbose, *lr, *valSplit, *clipNorm, *clipValue); err != nil {
				return err
			}
			if err := extras.check(); err != nil {
				return err
			}
			if *shardSize < 0 {
				return usagef("--shard-size %d: want 0 (whole batches) or a positive number of rows", *shardSize)
			}
			if *splitFirst && *shardSize == 0 && ckpt.resumed() == nil {
				return usagef("--split-first-layer needs --shard-size")
			}
			if *noSyncBN && !*dist {
				return usagef("--no-sync-bn applies to --distributed runs")
			}
			var world *distributed.World
			if *dist {
				if *shardSize > 0 {
					return usagef("--shard-size with --distributed: each process trains its part of a batch in one pass")
				}
				w, werr := startWorld()
				if werr != nil {
					return werr
				}
				defer func() { // err: the command's result
					if err == nil {
						w.Finalize()
						return
					}
					// The other ranks wait in a collective call that
					// this one will never make, and MPI_Finalize would
					// wait for them: end the job with the error.
					fmt.Fprintf(e.stderr, "myelin: error: rank %d: %v\n", w.Rank(), err)
					w.Abort(1)
				}()
				world = w
			}
			// In a distributed run rank 0 alone writes files and prints;
			// the others train the same steps and keep quiet.
			lead := world == nil || world.Rank() == 0
			if !lead {
				*out, *tbDir, *reportDir, *asJSON = "", "", "", false
				*extras.csvLog = ""
			}
			if *arch != "" && *noBN {
				return usagef("--no-batchnorm applies to the founding model, not to --arch")
			}
			if err := ckpt.checkEpochs(*epochs); err != nil {
				return err
			}
			if ckpt.ck != nil && *extras.schedule == "cosine" && ckpt.ck.Metadata["flag/epochs"] != strconv.Itoa(*epochs) {
				return usagef("--epochs: a run with --lr-schedule cosine decays over its --epochs (%s), which a resumed run keeps", ckpt.ck.Metadata["flag/epochs"])
			}
			for _, f := range []struct{ flag, dir string }{{"report", *reportDir}, {"checkpoint-dir", *ckpt.dir}, {"tensorboard", *tbDir}} {
				if err := prepareDir(f.flag, f.dir); err != nil {
					return err
				}
			}
			if err := prepareFile("out", *out); err != nil {
				return err
			}
			ds, err := loadData(*data, *dataDir, false)
			if err != nil {
				return err
			}
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			var m *model.Sequential
			if *arch != "" {
				if m, err = readArchSeed(*arch, *seed, set["seed"]); err != nil {
					return err
				}
			} else {
				m = foundingModel(ds.train.Classes, !*noBN)
				m.Seed = *seed
			}
			// An --arch file's compile section chooses the optimizer, its
			// learning rate and schedule unless --optimizer, --lr or
			// --lr-schedule say otherwise.
			if s := m.LRSchedule(); s != "" && !set["lr-schedule"] {
				fs.Set("lr-schedule", s) // recorded in checkpoints like the flag
				if err := extras.check(); err != nil {
					return usagef("%v (lr_schedule %q comes from %s)", err, s, *arch)
				}
			}
			opt := m.Optimizer()
			if opt == nil || set["optimizer"] {
				if opt, err = optimizers.ByName(*optName, *lr); err != nil {
					return usagef("%v", err)
				}
			} else if *lr > 0 {
				opt.SetLearningRate(*lr)
			}
			if err := setClipping(opt, *clipNorm, *clipValue); err != nil {
				return err
			}
			if err := extras.setDecay(opt); err != nil {
				return err
			}
			// Record the learning rate in use, not 0 for "the default", in
			// the checkpoints' flags and the report's configuration.
			fs.Set("lr", strconv.FormatFloat(opt.LearningRate(), 'g', -1, 64))
			loss := m.Loss()
			ms := m.Metrics()
			if loss == nil {
				loss = losses.CategoricalCrossentropy{}
				ms = []metrics.Metric{metrics.NewAccuracy()}
			}
			if err := m.Compile(opt, loss, ms...); err != nil {
				return err
			}
			if !m.Built() {
				if err := m.Build(ds.train.Features()); err != nil {
					return err
				}
			}
			if ckpt.m != nil { // --resume: the checkpoint's model, optimizer state and all
				m, opt, loss = ckpt.m, ckpt.m.Optimizer(), ckpt.m.Loss()
			}
			nTrain := ds.train.N - int(float64(ds.train.N)*(*valSplit))
			if err := checkBatches(*batch, nTrain, m); err != nil {
				return err
			}
			classes := m.OutputShape()[len(m.OutputShape())-1]
			sparse := losses.Sparse(loss)
			x, y, err := xy(ds.train, m.InputShape(), classes, sparse)
			if err != nil {
				return err
			}
			progress := e.stdout
			if *asJSON {
				progress = e.stderr
			}
			if !lead {
				progress = io.Discard
			}
			if f, ok := progress.(*os.File); ok {
				progress = term.Progress(f) // width, NO_COLOR, TERM=dumb
			}
			var callbacks []model.Callback
			if *tbDir != "" {
				tb := tensorboard.NewCallback(*tbDir)
				defer tb.Close() // Fit skips OnTrainEnd when it fails
				callbacks = append(callbacks, tb)
			}
			perEpoch := (nTrain + *batch - 1) / max(*batch, 1)
			steps := *epochs * perEpoch
			rep := newTrainReport(*reportDir, m, ds.test, steps, progress, *verbose) // nil without --report
			callbacks = append(callbacks, rep.callbacks()...)
			monitor := "loss"
			if *valSplit > 0 {
				monitor = "val_loss"
			}
			// *lr is the run's base rate (recorded on --resume), not the
			// rate a schedule left in a resumed optimizer.
			more, err := extras.callbacks(*lr, steps, perEpoch, monitor)
			if err != nil {
				return err
			}
			callbacks = append(callbacks, more...) // before the checkpoints, which save their state
			if mc := ckpt.callback(fs); mc != nil && lead {
				callbacks = append(callbacks, mc)
			}
			seen := &sampleCounter{batch: *batch, n: nTrain}
			callbacks = append(callbacks, seen)
			start := time.Now()
			fo := model.FitOptions{Resume: ckpt.resumed(),
				Epochs: *epochs, BatchSize: *batch, ValidationSplit: *valSplit,
				Verbose: *verbose, Output: progress, Callbacks: callbacks,
				ShardSize: *shardSize, SplitFirstLayer: *splitFirst,
			}
			if world != nil {
				fo.Ranks, fo.BatchNormPerRank = world, *noSyncBN
			}
			h, err := m.Fit(ctx, x, y, fo)
			trainSecs := time.Since(start).Seconds()
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return ckpt.interrupted(err)
				}
				return cliFitError(err, opt)
			}
			tx, ty, err := xy(ds.test, m.InputShape(), classes, sparse)
			if err != nil {
				return err
			}
			res, err := m.Evaluate(ctx, tx, ty, model.EvalOptions{BatchSize: 1000})
			if err != nil {
				return err
			}
			if *out != "" {
				m.Dataset = ds.info()
				if err := m.Save(*out); err != nil {
					return err
				}
			}
			if err := rep.write(progress, fs, m, h, res, trainSecs); err != nil {
				return err
			}
			acc := res["accuracy"]
			if *asJSON {
				tr, nt := m.ParamCounts()
				return writeJSON(e.stdout, map[string]any{
					"data": ds.name, "model": *out, "epochs": len(h.Epochs), "batch_size": *batch,
					"optimizer": opt.Name(), "learning_rate": *lr, "batchnorm": !*noBN, "seed": *seed,
					"train_seconds": trainSecs, "samples_per_second": float64(seen.samples) / trainSecs,
					"test_loss": res["loss"], "test_accuracy": acc, "test": res,
					"history": h.Metrics, "stopped": h.Stopped,
					"params": map[string]int{"trainable": tr, "non_trainable": nt, "total": tr + nt},
				})
			}
			if !lead {
				return nil
			}
			fmt.Fprintf(e.stdout, "Test: loss %.4f - accuracy %.4f (%d samples); trained in %.1fs\n", res["loss"], acc, tx.Dim(0), trainSecs)
			if *out != "" {
				fmt.Fprintf(e.stdout, "Saved the model to %s\n", *out)
			}
			return nil
		}
	},
}

// readArchSeed reads an --arch file. Its model uses the file's seed unless
// --seed was given; a file with an input shape comes back built (weights
// drawn from its seed), so another seed means building it again from the
// architecture with that seed.
func readArchSeed(path string, seed uint64, given bool) (*model.Sequential, error) {
	m, err := model.ReadArchitecture(path)
	if err != nil || !given || m.Seed == seed {
		return m, err
	}
	if !m.Built() {
		m.Seed = seed
		return m, nil
	}
	b, err := m.Architecture()
	if err != nil {
		return nil, err
	}
	var a model.Arch
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, err
	}
	a.Config.Seed = seed
	if b, err = json.Marshal(a); err != nil {
		return nil, err
	}
	return model.FromArchitecture(b)
}

// startWorld joins the MPI job this process was started in, or says why
// it cannot.
func startWorld() (*distributed.World, error) {
	if !distributed.Available() {
		return nil, usagef("--distributed: this myelin was built without MPI; build it with `go build -tags mpi ./cmd/myelin` (Debian: apt-get install libopenmpi-dev) and start it with mpirun")
	}
	if !distributed.Launched() {
		return nil, usagef("--distributed: this process was not started by mpirun; run `mpirun -np N myelin train --distributed ...`")
	}
	return distributed.Init()
}

// foundingModel is the founding text's Keras program, with or without its
// BatchNormalization layers.
func foundingModel(classes int, bn bool) *model.Sequential {
	m := model.NewSequential()
	m.Add(layers.NewDense(64, nn.ActReLU))
	if bn {
		m.Add(layers.NewBatchNormalization())
	}
	m.Add(layers.NewDense(64, nn.ActReLU))
	if bn {
		m.Add(layers.NewBatchNormalization())
	}
	m.Add(layers.NewDense(classes, nn.ActSoftmax))
	return m
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// sampleCounter counts the samples this run trained on (not those of
// epochs done before a resume), for samples_per_second.
type sampleCounter struct {
	model.BaseCallback
	batch, n int // batch size and training samples per epoch
	samples  int
}

// OnBatchEnd adds the samples of batch step (the last one of an epoch may be short).
func (c *sampleCounter) OnBatchEnd(_, step int, _ model.Logs) error {
	c.samples += max(0, min(c.batch, c.n-(step-1)*c.batch))
	return nil
}
