package monitor

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/term"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Default thresholds of Health; see Health for why these values.
const (
	DefaultVanishing = 1e-4
	DefaultExploding = 1e3
)

// Flags a HealthRecord can carry.
const (
	FlagVanishing = "vanishing"
	FlagExploding = "exploding"
)

// Health records the health of each layer's gradients while Fit trains.
// On every Every-th step it records, for each layer with trainable
// parameters (all of a layer's parameters taken together, e.g. kernel and
// bias):
//
//   - GradNorm, the L2 norm of this step's gradient;
//   - WeightNorm, the L2 norm of the weights after the step;
//   - UpdateRatio, ‖Δw‖/‖w‖ of the step, from a copy of the weights taken
//     at the end of the step before (a healthy rate is near 1e-3; far above
//     it the step rewrites the layer, far below it the layer does not learn);
//   - DeadFraction, for ReLU layers, the share of units that output zero for
//     every sample of the batch (and so get no gradient from it).
//
// A layer is flagged "exploding" when its gradient norm exceeds Exploding
// (default 1e3). Losses here are batch means, so a net whose activations
// are of order one has gradient norms of order one per layer (typically
// 1e-3 to 10); at 1e3 a plain SGD step with learning rate 0.01 moves the
// layer by 10, the whole norm of a Glorot-initialized 100×100 kernel, and
// training has left the regime where a gradient step is a small change.
//
// A layer is flagged "vanishing" when its gradient norm is below Vanishing
// (default 1e-4) times that of the output layer (the last layer with
// trainable parameters) at the same step. The ratio, not an absolute value,
// is what depth does to a gradient: each layer multiplies it by its
// Jacobian, so a sigmoid net with small weights divides it by tens per
// layer, while Glorot or He scaling, or batch normalization, keeps layers
// within an order or two of each other. Below 1e-4 of the head, a layer
// shares the learning rate of plain SGD but moves ten thousand times slower
// than the head, so it is effectively frozen. (Adam rescales each weight
// and hides this from the update, not from the gradient.) The output layer
// itself is never flagged vanishing, and nothing is when its gradient is
// zero (the loss is at a stationary point).
//
// When Output is set, a layer's flag is printed on one line when it starts
// (not again while it persists), after clearing Fit's progress bar on a
// terminal. Summary tells the whole story at the end.
//
// Unsampled steps cost a counter and, on the step before a sampled one, a
// copy of the weights; they allocate nothing. Steps count from 1 across
// epochs and Fit calls; Reset starts over.
type Health struct {
	model.BaseCallback

	// Every is the sampling period in steps; 0 means 10.
	Every int
	// Vanishing and Exploding are the thresholds described above; 0 means
	// DefaultVanishing and DefaultExploding.
	Vanishing, Exploding float64
	// Output receives a line when a flag starts; nil is silent.
	Output io.Writer

	// Records holds one entry per layer per sampled step, in step order
	// and, within a step, in layer order.
	Records []HealthRecord

	m      *model.Sequential
	ls     []healthLayer
	step   int
	every  int
	tty    bool
	first  int // step of the first sample, 0 before any
	sample int // number of sampled steps
}

// HealthRecord is one layer at one sampled step.
type HealthRecord struct {
	Step         int     // global step, from 1 across epochs and Fit calls
	Epoch        int     // epoch, from 1 as in History.Epochs
	Layer        string  // layer name
	GradNorm     float64 // ‖g‖ over the layer's trainable parameters
	WeightNorm   float64 // ‖w‖ after the step
	UpdateRatio  float64 // ‖Δw‖/‖w‖ of the step, w taken before it (after it when that is zero; 0 when both are)
	DeadFraction float64 // share of ReLU units dead on the whole batch; 0 when ReLU is false
	ReLU         bool    // the layer has ReLU units, so DeadFraction applies
	Flag         string  // "", FlagVanishing or FlagExploding
}

type healthLayer struct {
	name   string
	params []*autodiff.Var
	prev   []*tensor.Tensor // weights at the end of the step before a sampled one
	relu   int              // index in LayerOutputs of the ReLU output; -1 when none
	top    []int64          // deadFraction's scratch
	flag   string           // flag at the last sample, to print only when one starts
	counts [2]int           // vanishing, exploding
	firsts [2]int           // step each flag first fired
	last   HealthRecord
}

// OnTrainBegin finds the layers to watch.
func (h *Health) OnTrainBegin(m *model.Sequential) error {
	if h.Vanishing < 0 || h.Exploding < 0 || math.IsNaN(h.Vanishing) || math.IsNaN(h.Exploding) {
		return fmt.Errorf("monitor: Health: thresholds Vanishing %g and Exploding %g must not be negative", h.Vanishing, h.Exploding)
	}
	if h.m != m || len(h.ls) == 0 {
		h.m, h.ls = m, h.ls[:0]
		for i, l := range m.Layers {
			hl := healthLayer{name: l.Name(), relu: -1}
			for _, w := range l.Weights() {
				if w.Trainable() {
					hl.params = append(hl.params, w.Param)
					hl.prev = append(hl.prev, w.Value.Clone())
				}
			}
			if len(hl.params) == 0 {
				continue
			}
			if a, ok := l.(layers.Activated); ok {
				if a.Act() == nn.ActReLU {
					hl.relu = i
				} else if r, ok := next(m, i).(layers.Activated); ok && a.Act() == nn.Linear && r.Act() == nn.ActReLU && len(r.Weights()) == 0 {
					hl.relu = i + 1 // a linear layer, then a ReLU of its own (an Activation layer)
				}
				if hl.relu >= 0 {
					hl.top = make([]int64, m.LayerShape(hl.relu).Len())
				}
			}
			h.ls = append(h.ls, hl)
		}
	}
	h.every = every(h.Every, 10)
	h.tty = h.Output != nil && term.IsTerminal(h.Output)
	h.snapshot()
	return nil
}

// next returns the layer after i, or nil.
func next(m *model.Sequential, i int) layers.Layer {
	if i+1 < len(m.Layers) {
		return m.Layers[i+1]
	}
	return nil
}

// snapshot copies the weights when the next step will be sampled.
func (h *Health) snapshot() {
	if (h.step+1)%h.every != 0 {
		return
	}
	for i := range h.ls {
		hl := &h.ls[i]
		for k, p := range hl.params {
			hl.prev[k].CopyFrom(p.Value)
		}
	}
}

// OnBatchEnd records on sampled steps.
func (h *Health) OnBatchEnd(epoch, _ int, _ model.Logs) error {
	h.step++
	if h.step%h.every == 0 {
		h.record(epoch + 1)
	}
	h.snapshot()
	return nil
}

func (h *Health) vanishing() float64 {
	if h.Vanishing == 0 {
		return DefaultVanishing
	}
	return h.Vanishing
}

func (h *Health) exploding() float64 {
	if h.Exploding == 0 {
		return DefaultExploding
	}
	return h.Exploding
}

func (h *Health) record(epoch int) {
	if h.first == 0 {
		h.first = h.step
	}
	h.sample++
	outs := h.m.LayerOutputs()
	start := len(h.Records)
	for i := range h.ls {
		hl := &h.ls[i]
		g2, w2, d2, p2 := 0.0, 0.0, 0.0, 0.0
		for k, p := range hl.params {
			if p.Grad != nil {
				g2 += sumSq(p.Grad)
			}
			w, d, q := updateSums(p.Value, hl.prev[k])
			w2, d2, p2 = w2+w, d2+d, p2+q
		}
		r := HealthRecord{Step: h.step, Epoch: epoch, Layer: hl.name,
			GradNorm: math.Sqrt(g2), WeightNorm: math.Sqrt(w2)}
		switch {
		case p2 > 0:
			r.UpdateRatio = math.Sqrt(d2 / p2)
		case w2 > 0:
			r.UpdateRatio = math.Sqrt(d2 / w2)
		}
		if hl.relu >= 0 && hl.relu < len(outs) {
			r.ReLU = true
			r.DeadFraction = deadFraction(outs[hl.relu].Value, hl.top)
		}
		h.Records = append(h.Records, r)
	}
	recs := h.Records[start:]
	ref := recs[len(recs)-1].GradNorm
	for i := range recs {
		r := &recs[i]
		switch {
		case r.GradNorm > h.exploding():
			r.Flag = FlagExploding
		case i < len(recs)-1 && ref > 0 && r.GradNorm < h.vanishing()*ref:
			r.Flag = FlagVanishing
		}
		hl := &h.ls[i]
		if r.Flag != "" {
			k := 0
			if r.Flag == FlagExploding {
				k = 1
			}
			if hl.counts[k] == 0 {
				hl.firsts[k] = r.Step
			}
			hl.counts[k]++
			if r.Flag != hl.flag && h.Output != nil {
				h.print(r, ref)
			}
		}
		hl.flag = r.Flag
		hl.last = *r
	}
}

func (h *Health) print(r *HealthRecord, ref float64) {
	if h.tty {
		io.WriteString(h.Output, "\r\x1b[K")
	}
	if r.Flag == FlagExploding {
		fmt.Fprintf(h.Output, "monitor: step %d: layer %s: exploding gradient: norm %.3g is above %.3g\n", r.Step, r.Layer, r.GradNorm, h.exploding())
		return
	}
	fmt.Fprintf(h.Output, "monitor: step %d: layer %s: vanishing gradient: norm %.3g is %.2g times the output layer's %.3g (threshold %.3g)\n", r.Step, r.Layer, r.GradNorm, r.GradNorm/ref, ref, h.vanishing())
}

// deadFraction returns the share of columns of out (batch, units) that
// are not positive in any row; top is scratch of one int64 per unit. A
// value is positive when its bits, read as a signed integer, are above
// zero (so +Inf and positive NaNs count as alive); taking the largest with
// max, not an if, keeps the loop free of branches that ReLU outputs would
// mispredict half the time.
func deadFraction(out *tensor.Tensor, top []int64) float64 {
	units := out.Dim(out.Rank() - 1)
	if units != len(top) || units == 0 {
		return 0
	}
	clear(top)
	if f := out.Float32s(); f != nil {
		for i := 0; i+units <= len(f); i += units {
			for j, v := range f[i : i+units] {
				top[j] = max(top[j], int64(int32(math.Float32bits(v))))
			}
		}
	} else {
		f := out.Float64s()
		for i := 0; i+units <= len(f); i += units {
			for j, v := range f[i : i+units] {
				top[j] = max(top[j], int64(math.Float64bits(v)))
			}
		}
	}
	dead := 0
	for _, t := range top {
		if t <= 0 {
			dead++
		}
	}
	return float64(dead) / float64(units)
}

// Count returns how many sampled steps flagged layer with flag
// (FlagVanishing or FlagExploding).
func (h *Health) Count(layer, flag string) int {
	for i := range h.ls {
		if h.ls[i].name == layer {
			switch flag {
			case FlagVanishing:
				return h.ls[i].counts[0]
			case FlagExploding:
				return h.ls[i].counts[1]
			}
		}
	}
	return 0
}

// Layers returns the names of the layers Health watches (those with
// trainable parameters), in model order, as of the last OnTrainBegin.
func (h *Health) Layers() []string {
	names := make([]string, len(h.ls))
	for i := range h.ls {
		names[i] = h.ls[i].name
	}
	return names
}

// Series returns the steps and gradient norms recorded for layer.
func (h *Health) Series(layer string) (steps []int, gradNorms []float64) {
	for _, r := range h.Records {
		if r.Layer == layer {
			steps = append(steps, r.Step)
			gradNorms = append(gradNorms, r.GradNorm)
		}
	}
	return steps, gradNorms
}

// Reset forgets the records and counts and restarts the step count.
func (h *Health) Reset() {
	h.Records = h.Records[:0]
	h.step, h.first, h.sample = 0, 0, 0
	h.m, h.ls = nil, h.ls[:0]
}

// Summary writes a table of the last sample of each layer and of how
// often each flag fired, then one line per flagged layer.
func (h *Health) Summary(w io.Writer) {
	if h.sample == 0 {
		fmt.Fprintln(w, "Gradient health: no step sampled.")
		return
	}
	fmt.Fprintf(w, "Gradient health: %d sampled steps, every %d from step %d to %d (vanishing below %.3g× the output layer's norm, exploding above %.3g)\n",
		h.sample, h.every, h.first, h.first+(h.sample-1)*h.every, h.vanishing(), h.exploding())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "layer\tgrad norm\tweight norm\tupdate ratio\tdead ReLU\tvanishing\texploding\t")
	for _, hl := range h.ls {
		r := hl.last
		dead := "-"
		if r.ReLU {
			dead = fmt.Sprintf("%.1f%%", 100*r.DeadFraction)
		}
		fmt.Fprintf(tw, "%s\t%.3g\t%.3g\t%.3g\t%s\t%d\t%d\t\n", hl.name, r.GradNorm, r.WeightNorm, r.UpdateRatio, dead, hl.counts[0], hl.counts[1])
	}
	tw.Flush()
	flagged := false
	for _, hl := range h.ls {
		for k, name := range []string{FlagVanishing, FlagExploding} {
			if hl.counts[k] > 0 {
				flagged = true
				fmt.Fprintf(w, "%s: %s gradient at %d of %d sampled steps, first at step %d\n", hl.name, name, hl.counts[k], h.sample, hl.firsts[k])
			}
		}
	}
	if !flagged {
		fmt.Fprintln(w, "No layer was flagged.")
	}
}
