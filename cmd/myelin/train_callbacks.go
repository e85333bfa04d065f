package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/myelin-go/myelin/callbacks"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/optimizers/schedules"
)

// trainExtras holds train's flags for Keras's callbacks, learning-rate
// schedules and weight decay. Each is recorded in checkpoints (see
// resumedFlags), so that a resumed run continues with the same ones.
type trainExtras struct {
	weightDecay *float64
	schedule    *string
	warmup      *int
	decayRate   *float64
	early       *int
	plateau     *int
	csvLog      *string
}

const extrasUsage = `--lr-schedule sets the learning rate at every step: constant (the default),
exponential (times --lr-decay-rate each epoch, Keras's ExponentialDecay) or
cosine (Keras's CosineDecay from --lr down to 0 over the run's steps, after
--warmup-steps steps rising linearly from 0 to --lr). --weight-decay applies
Keras 3's decoupled decay (w -= lr·wd·w before each update; biases and batch
norm's gamma and beta are left out) with any optimizer; adamw decays by 0.004
unless told otherwise.

--early-stopping N stops after N epochs without a better validation loss
(the training loss without --validation-split) and puts back the best
epoch's weights (Keras's EarlyStopping with restore_best_weights).
--reduce-lr-on-plateau N divides the learning rate by 10 after N such
epochs (Keras's ReduceLROnPlateau). --csv-log FILE writes one row per epoch,
learning_rate included when a schedule or plateau sets it (Keras's
CSVLogger); a resumed run continues the same file.
`

func extraFlags(fs *flag.FlagSet) *trainExtras {
	return &trainExtras{
		weightDecay: fs.Float64("weight-decay", -1, "decoupled weight `decay` (Keras 3's weight_decay; -1: the optimizer's default, 0 for all but adamw)"),
		schedule:    fs.String("lr-schedule", "constant", "learning-rate `schedule`: constant, exponential or cosine"),
		warmup:      fs.Int("warmup-steps", 0, "with --lr-schedule cosine, `steps` of linear warm-up from 0 to --lr"),
		decayRate:   fs.Float64("lr-decay-rate", 0.9, "with --lr-schedule exponential, the `factor` applied each epoch"),
		early:       fs.Int("early-stopping", 0, "stop after `n` epochs without improvement and restore the best weights (0: off)"),
		plateau:     fs.Int("reduce-lr-on-plateau", 0, "divide the learning rate by 10 after `n` epochs without improvement (0: off)"),
		csvLog:      fs.String("csv-log", "", "write one CSV row per epoch to `file`"),
	}
}

// check rejects bad values as usage errors, before anything is loaded.
func (x *trainExtras) check() error {
	*x.schedule = strings.ToLower(*x.schedule)
	switch *x.schedule {
	case "constant", "exponential", "cosine":
	default:
		return usagef("--lr-schedule %q: want constant, exponential or cosine", *x.schedule)
	}
	switch {
	case *x.weightDecay < 0 && *x.weightDecay != -1:
		return usagef("--weight-decay %g must not be negative", *x.weightDecay)
	case *x.warmup < 0:
		return usagef("--warmup-steps %d must not be negative", *x.warmup)
	case *x.warmup > 0 && *x.schedule != "cosine":
		return usagef("--warmup-steps applies to --lr-schedule cosine")
	case !(*x.decayRate > 0 && *x.decayRate <= 1):
		return usagef("--lr-decay-rate %g outside (0, 1]", *x.decayRate)
	case *x.early < 0:
		return usagef("--early-stopping %d must not be negative", *x.early)
	case *x.plateau < 0:
		return usagef("--reduce-lr-on-plateau %d must not be negative", *x.plateau)
	case *x.plateau > 0 && *x.schedule != "constant":
		return usagef("--reduce-lr-on-plateau and --lr-schedule %s both set the learning rate: give one", *x.schedule)
	}
	return nil
}

// setDecay sets --weight-decay on opt.
func (x *trainExtras) setDecay(opt optimizers.Optimizer) error {
	if *x.weightDecay < 0 {
		return nil
	}
	d := optimizers.DecayOf(opt)
	if d == nil {
		return usagef("--weight-decay: optimizer %s has no weight decay", opt.Name())
	}
	d.WeightDecay = *x.weightDecay
	return nil
}

// callbacks returns the callbacks the flags ask for, to be listed before
// the checkpoint callback so that its checkpoints hold their state after
// each epoch. lr is the base learning rate, steps the steps of the run and
// perEpoch those of one epoch; monitor is the logs key to watch.
func (x *trainExtras) callbacks(lr float64, steps, perEpoch int, monitor string) ([]model.Callback, error) {
	var cbs []model.Callback
	switch *x.schedule {
	case "exponential":
		cbs = append(cbs, &callbacks.LearningRateSchedule{Schedule: &schedules.ExponentialDecay{
			InitialLearningRate: lr, DecaySteps: float64(perEpoch), DecayRate: *x.decayRate, Staircase: true}})
	case "cosine":
		if *x.warmup >= steps {
			return nil, usagef("--warmup-steps %d leaves none of the run's %d steps to decay over", *x.warmup, steps)
		}
		s := &schedules.CosineDecay{InitialLearningRate: lr, DecaySteps: steps - *x.warmup}
		if *x.warmup > 0 {
			target := lr
			s.InitialLearningRate, s.WarmupTarget, s.WarmupSteps = 0, &target, *x.warmup
		}
		cbs = append(cbs, &callbacks.LearningRateSchedule{Schedule: s})
	}
	if *x.plateau > 0 {
		p := callbacks.NewReduceLROnPlateau()
		p.Monitor, p.Patience = monitor, *x.plateau
		cbs = append(cbs, p)
	}
	if *x.early > 0 {
		cbs = append(cbs, &callbacks.EarlyStopping{Monitor: monitor, Patience: *x.early, RestoreBestWeights: true})
	}
	if *x.csvLog != "" {
		cbs = append(cbs, &callbacks.CSVLogger{Path: *x.csvLog})
	}
	for _, c := range cbs {
		if v, ok := c.(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				return nil, fmt.Errorf("%v", err)
			}
		}
	}
	return cbs, nil
}
