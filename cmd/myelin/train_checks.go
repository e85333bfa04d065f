package main

import (
	"errors"
	"fmt"
	"math"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/optimizers"
)

// checkTrainFlags rejects train's numeric flags that are out of range, as
// usage errors, before anything is loaded.
func checkTrainFlags(epochs, batch, verbose int, lr, valSplit, clipNorm, clipValue float64) error {
	switch {
	case epochs < 1:
		return usagef("--epochs %d must be at least 1", epochs)
	case batch < 1:
		return usagef("--batch-size %d must be at least 1", batch)
	case lr < 0:
		return usagef("--lr %g must not be negative", lr)
	case verbose < 0 || verbose > 2:
		return usagef("--verbose %d: want 0 (none), 1 (a bar per epoch) or 2 (a line per epoch)", verbose)
	case !(valSplit >= 0 && valSplit < 1):
		return usagef("--validation-split %g: want a fraction from 0 up to, not including, 1", valSplit)
	}
	for _, c := range []struct {
		flag string
		v    float64
	}{{"clipnorm", clipNorm}, {"clipvalue", clipValue}} {
		if !(c.v >= 0) || math.IsInf(c.v, 0) {
			return usagef("--%s %g must be a finite number, 0 (off) or more", c.flag, c.v)
		}
	}
	if clipNorm > 0 && clipValue > 0 {
		return usagef("give --clipnorm or --clipvalue, not both")
	}
	return nil
}

// checkBatches rejects a --batch-size that Fit would refuse, in the
// command line's words: n is the number of training samples after the
// validation split.
func checkBatches(batch, n int, m *model.Sequential) error {
	if batch > n {
		return usagef("--batch-size %d is larger than the %d training samples", batch, n)
	}
	if n%batch == 1 && hasBatchNorm(m) {
		return usagef("--batch-size %d leaves a last batch of one of the %d training samples, on which batch normalization cannot train; choose another --batch-size (or --validation-split)", batch, n)
	}
	return nil
}

// hasBatchNorm reports whether a layer of m normalizes with the batch's
// own statistics, and so cannot train on a batch of one sample.
func hasBatchNorm(m *model.Sequential) bool {
	for _, l := range m.Layers {
		if n, ok := l.(layers.Normalizer); ok && n.BatchStatistics() {
			return true
		}
	}
	return false
}

// setClipping sets --clipnorm or --clipvalue on opt; zero leaves what opt
// has (an --arch file's compile section may set clipping).
func setClipping(opt optimizers.Optimizer, norm, value float64) error {
	if norm == 0 && value == 0 {
		return nil
	}
	c := optimizers.ClipOf(opt)
	if c == nil {
		return usagef("--clipnorm and --clipvalue: optimizer %s does not clip", opt.Name())
	}
	c.ClipNorm, c.GlobalClipNorm, c.ClipValue = norm, 0, value
	return nil
}

// cliFitError rewrites the Fit errors whose advice names Go options into
// the flags a command-line user has.
func cliFitError(err error, opt optimizers.Optimizer) error {
	var nf *model.NonFiniteError
	if !errors.As(err, &nf) {
		return err
	}
	where := ""
	if nf.Layer != "" {
		where = fmt.Sprintf(", first in layer %q", nf.Layer)
	}
	return fmt.Errorf("non-finite %s at epoch %d step %d%s; the step was not applied\n\ttry a lower --lr (this run used %g), or clip gradients with --clipnorm 1 or --clipvalue 0.5",
		nf.What, nf.Epoch, nf.Step, where, opt.LearningRate())
}
