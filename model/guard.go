package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/myelin-go/myelin/tensor"
)

// Undoing an update that wrote a NaN or an infinity into a weight (a
// learning rate too large for Adam's ε, a numerically broken rule), so that
// such a step, like one with a non-finite gradient, stops training with
// nothing applied and a model never holds a non-finite weight after Fit.
//
// A copy of the weights and optimizer slots before every update would do
// it, at the price of one more pass over them per step (about a tenth of a
// step of the founding model at batch 32). Training is deterministic
// instead (a checkpoint resumes bit for bit), so Fit copies the training
// state once per epoch, right before its first step, and records the
// learning rate each step uses; when an update breaks a weight, rewind
// puts the copy back and replays the epoch's steps up to the failing one,
// which rebuilds the state after the last good step bit for bit.
//
// The limits of a replay: it repeats the steps with the recorded learning
// rates and without callbacks, so a callback that changes anything else
// between steps (other hyperparameters, the weights), an optimizer that
// keeps state outside State and Iterations, or a layer with hidden state
// that is neither a weight nor batch-norm's held-back statistics, is not
// replayed exactly. Rewind notices a replay that differs from the run in a
// loss (the epoch's loss sum, compared bit for bit) or in the generator's
// state, or whose step fails again, and then says so in its error, leaving
// the model as the epoch started; a difference no loss shows goes unseen.

// epochSnapshot is the training state before the first step Fit takes in
// an epoch, in buffers made once per Fit and refilled each epoch.
type epochSnapshot struct {
	live  []*tensor.Tensor // every weight, batch-norm statistic and optimizer slot
	saved []*tensor.Tensor // their values at the snapshot
	iters int              // the optimizer's step count
	pcg   rand.PCG         // the shuffling and dropout generator
	first int              // the 0-based step of the epoch the snapshot precedes
	// metrics holds the metrics' states to restore, from a resumed
	// checkpoint; nil means they were reset, as at an epoch's start.
	metrics []metricState
	lossSum float64
	seen    int
	lrs     []float64 // lrs[s] is the learning rate step s of the epoch used
}

// collect lists the tensors the snapshot covers, in the checkpoint's
// walk, and sizes the buffers for them and for steps learning rates,
// reusing the buffers of the last Fit where they fit. Fit calls it once;
// the optimizer or the weights may have changed since the last Fit.
func (s *epochSnapshot) collect(m *Sequential, steps int) {
	s.live = s.live[:0]
	m.eachCheckpointTensor(func(_ string, t *tensor.Tensor) error { // creates missing slots, as a first Step would
		s.live = append(s.live, t)
		return nil
	})
	for i, t := range s.live {
		if i < len(s.saved) && s.saved[i].DType() == t.DType() && s.saved[i].Len() == t.Len() {
			continue
		}
		if i < len(s.saved) {
			s.saved[i] = t.Clone()
		} else {
			s.saved = append(s.saved, t.Clone())
		}
	}
	s.saved = s.saved[:len(s.live)]
	if cap(s.lrs) < steps {
		s.lrs = make([]float64, steps)
	}
	s.lrs = s.lrs[:steps]
}

// take copies the state Fit holds before step first of the epoch. It
// allocates nothing.
func (s *epochSnapshot) take(m *Sequential, first int, ms []metricState) {
	for i, t := range s.live {
		s.saved[i].CopyFrom(t)
	}
	run := &m.fit.run
	s.iters, s.pcg, s.first, s.metrics = m.opt.Iterations(), *m.trainPCG, first, ms
	s.lossSum, s.seen = run.lossSum, run.seen
}

// restore puts back the state take copied, the run's position included.
// It leaves Fit's logs alone: a replay that succeeds ends with the values
// they hold.
func (s *epochSnapshot) restore(m *Sequential) error {
	for i, t := range s.live {
		t.CopyFrom(s.saved[i])
	}
	m.opt.SetIterations(s.iters)
	*m.trainPCG = s.pcg
	run := &m.fit.run
	run.step, run.lossSum, run.seen = s.first, s.lossSum, s.seen
	if s.metrics != nil {
		if err := restoreMetrics(m.metrics, s.metrics); err != nil {
			return err
		}
	} else {
		for _, mt := range m.metrics {
			mt.Reset()
		}
	}
	return nil
}

// rewind undoes the update of step (0-based) of the epoch, which wrote
// the non-finite weight nf reports: it restores the snapshot and replays
// the steps before it, as Fit's loop takes them but without callbacks or
// progress, each with the learning rate it used. It returns nf when the
// replay ends where the run stood before the step, and an error saying
// the state could not be restored otherwise.
func (m *Sequential) rewind(nf *NonFiniteError, step int) error {
	b := &m.fit
	s, run := &b.snap, &b.run
	// Where the run stood after its last good step; trainStep has already
	// put the generator back to it.
	wantSum, wantSeen, wantPCG, lr := run.lossSum, run.seen, *m.trainPCG, m.opt.LearningRate()
	if err := s.restore(m); err != nil {
		return err
	}
	why := ""
	n, bs := run.x.Dim(0), run.settings.BatchSize
	for k := s.first; k < step; k++ {
		m.opt.SetLearningRate(s.lrs[k])
		lo, hi := k*bs, min((k+1)*bs, n)
		xb, yb := m.batch(run.x, run.y, b.perm[lo:hi])
		loss, err := m.trainStep(xb, yb, nf.Epoch, k+1)
		if err != nil {
			why = fmt.Sprintf("an error at its step %d: %v", k+1, err)
			if again := (*NonFiniteError)(nil); errors.As(err, &again) {
				why = fmt.Sprintf("a non-finite %s in layer %q at its step %d", again.What, again.Layer, k+1)
			}
			break
		}
		run.lossSum += loss * float64(hi-lo)
		run.seen += hi - lo
		run.step = k + 1
	}
	if why == "" && (math.Float64bits(run.lossSum) != math.Float64bits(wantSum) || run.seen != wantSeen) {
		why = fmt.Sprintf("a loss sum of %v over %d samples where the run had %v over %d", run.lossSum, run.seen, wantSum, wantSeen)
	}
	if why == "" && *m.trainPCG != wantPCG {
		why = "another state of the shuffling and dropout generator"
	}
	if why != "" {
		if err := s.restore(m); err != nil {
			return err
		}
		lr = s.lrs[s.first]
	}
	m.opt.SetLearningRate(lr)
	if run.step == 0 {
		// The run stands at the end of the epoch before, where a
		// checkpoint holds the generator before this epoch's shuffle.
		*m.trainPCG = run.permPCG
	}
	if why != "" {
		return fmt.Errorf("model: non-finite %s at epoch %d step %d, first in layer %q, and the state before it could not be restored: replaying the epoch from its step %d gave %s (an optimizer, layer or callback that is not deterministic); the model holds the state from before step %d of epoch %d", nf.What, nf.Epoch, nf.Step, nf.Layer, s.first+1, why, s.first+1, nf.Epoch)
	}
	return nf
}
