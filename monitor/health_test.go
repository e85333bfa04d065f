package monitor

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// deepNet returns n hidden layers of width units with activation act and
// kernels drawn from N(0, std²) (Glorot when std is 0), each followed by
// batch normalization when bn is set, and a softmax head of k classes.
func deepNet(n, width int, std float64, act nn.Activation, bn bool, k int) []layers.Layer {
	var ls []layers.Layer
	for range n {
		d := layers.NewDense(width, act)
		if std > 0 {
			d.KernelInitializer = layers.RandomNormal(std)
		}
		if bn {
			d.Activation = nn.Linear
			ls = append(ls, d, layers.NewBatchNormalization(), layers.NewActivation(act))
		} else {
			ls = append(ls, d)
		}
	}
	return append(ls, layers.NewDense(k, nn.ActSoftmax))
}

func fitHealth(t *testing.T, m *model.Sequential, h *Health, x, y *tensor.Tensor, epochs int, cbs ...model.Callback) *model.History {
	t.Helper()
	hist, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: epochs, BatchSize: 32, StopOnNonFinite: true,
		Callbacks: append([]model.Callback{h}, cbs...)})
	if err != nil {
		t.Fatal(err)
	}
	return hist
}

// TestHealthVanishing trains a 10-layer sigmoid net with small weights:
// backpropagation divides the gradient by tens per layer, so the first
// layers must be flagged at every sample. The same net with batch
// normalization after each Dense layer keeps every layer's gradient within
// an order of magnitude of the head's and must not be flagged at all.
func TestHealthVanishing(t *testing.T) {
	x, y := blobs(256, 20, 4, 3)
	for _, bn := range []bool{false, true} {
		t.Run(fmt.Sprintf("bn=%v", bn), func(t *testing.T) {
			m := compiled(t, 20, &optimizers.SGD{LR: 0.1}, deepNet(10, 32, 0.1, nn.ActSigmoid, bn, 4)...)
			var out bytes.Buffer
			h := &Health{Every: 4, Output: &out}
			fitHealth(t, m, h, x, y, 2)
			samples := 16 / 4
			withWeights := map[bool]int{false: 11, true: 21}[bn] // Dense, and BN's gamma and beta
			if got, want := len(h.Records), samples*withWeights; got != want {
				t.Fatalf("got %d records, want %d (%d layers with weights × %d samples)", got, want, withWeights, samples)
			}
			dense := []string{"dense", "dense_1", "dense_2"}
			for _, name := range dense {
				got := h.Count(name, FlagVanishing)
				if want := map[bool]int{false: samples, true: 0}[bn]; got != want {
					t.Errorf("layer %s flagged vanishing at %d of %d samples, want %d", name, got, samples, want)
				}
			}
			flagged := 0
			for _, r := range h.Records {
				if r.Flag != "" {
					flagged++
				}
				if r.Flag == FlagVanishing && r.Layer == "dense_10" {
					t.Errorf("output layer flagged vanishing at step %d", r.Step)
				}
			}
			if bn && flagged > 0 {
				t.Errorf("with batch normalization %d records are flagged, want 0", flagged)
			}
			// One printed line per layer whose flag started, not per sample.
			lines := strings.Count(out.String(), "vanishing gradient")
			starts, last := 0, map[string]string{}
			for _, r := range h.Records {
				if r.Flag != "" && r.Flag != last[r.Layer] {
					starts++
				}
				last[r.Layer] = r.Flag
			}
			if lines != starts || !bn && lines < 3 {
				t.Errorf("printed %d vanishing lines, want %d (flags starting):\n%s", lines, starts, out.String())
			}
			var sum bytes.Buffer
			h.Summary(&sum)
			if !bn && !strings.Contains(sum.String(), fmt.Sprintf("dense: vanishing gradient at %d of %d sampled steps, first at step 4", samples, samples)) {
				t.Errorf("summary lacks dense's vanishing line:\n%s", sum.String())
			}
			if bn && !strings.Contains(sum.String(), "No layer was flagged.") {
				t.Errorf("summary:\n%s", sum.String())
			}
		})
	}
}

// TestHealthExploding trains nets whose gradients blow up, through a huge
// initialization or a huge learning rate, and a healthy control.
func TestHealthExploding(t *testing.T) {
	x, y := blobs(256, 20, 4, 3)
	for _, c := range []struct {
		name    string
		ls      []layers.Layer
		lr      float64
		explode bool
	}{
		{"init-std-1", deepNet(8, 64, 1, nn.ActReLU, false, 4), 0.01, true},
		{"lr-50", deepNet(4, 64, 0, nn.ActReLU, false, 4), 50, true},
		{"healthy", deepNet(4, 64, 0, nn.ActReLU, false, 4), 0.01, false},
		{"init-std-1-bn", deepNet(8, 64, 1, nn.ActReLU, true, 4), 0.01, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := compiled(t, 20, &optimizers.SGD{LR: c.lr}, c.ls...)
			var out bytes.Buffer
			h := &Health{Every: 1, Output: &out}
			fitHealth(t, m, h, x, y, 2)
			n := 0
			for _, r := range h.Records {
				if r.Flag == FlagExploding {
					n++
					if r.GradNorm <= DefaultExploding {
						t.Errorf("step %d layer %s flagged with norm %g", r.Step, r.Layer, r.GradNorm)
					}
				} else if r.GradNorm > DefaultExploding {
					t.Errorf("step %d layer %s: norm %g above %g not flagged", r.Step, r.Layer, r.GradNorm, DefaultExploding)
				}
			}
			if c.explode && (n == 0 || !strings.Contains(out.String(), "exploding gradient")) {
				t.Errorf("no exploding flag in %d records; output %q", len(h.Records), out.String())
			}
			if !c.explode && n > 0 {
				t.Errorf("%d records flagged exploding, want none", n)
			}
		})
	}
}

// checker recomputes, at every step, what Health should record: norms of
// p.Grad and p.Value read element by element, and ‖Δw‖/‖w‖ against its own
// copy of the weights.
type checker struct {
	model.BaseCallback
	m     *model.Sequential
	h     *Health
	t     *testing.T
	prev  map[*autodiff.Var][]float64
	steps int
	seen  int
}

func (c *checker) OnTrainBegin(m *model.Sequential) error {
	c.m, c.prev = m, map[*autodiff.Var][]float64{}
	for _, p := range m.Params() {
		c.prev[p] = flat(p.Value)
	}
	return nil
}

func flat(t *tensor.Tensor) []float64 {
	out := make([]float64, t.Len())
	for i := range out {
		out[i] = t.Index(i)
	}
	return out
}

func (c *checker) OnBatchEnd(epoch, _ int, _ model.Logs) error {
	c.steps++
	byLayer := map[string][3]float64{} // grad², weight², Δ²
	prevSq := map[string]float64{}
	for _, l := range c.m.Layers {
		for _, w := range l.Weights() {
			if !w.Trainable() {
				continue
			}
			s := byLayer[l.Name()]
			old := c.prev[w.Param]
			for k := range w.Value.Len() {
				g, v := w.Param.Grad.Index(k), w.Value.Index(k)
				s[0] += g * g
				s[1] += v * v
				s[2] += (v - old[k]) * (v - old[k])
				prevSq[l.Name()] += old[k] * old[k]
			}
			byLayer[l.Name()] = s
			c.prev[w.Param] = flat(w.Value)
		}
	}
	if c.steps%c.h.Every != 0 {
		return nil
	}
	for _, r := range c.h.Records {
		if r.Step != c.steps {
			continue
		}
		c.seen++
		s := byLayer[r.Layer]
		want := [...]float64{math.Sqrt(s[0]), math.Sqrt(s[1]), math.Sqrt(s[2] / prevSq[r.Layer])}
		got := [...]float64{r.GradNorm, r.WeightNorm, r.UpdateRatio}
		for k, name := range []string{"GradNorm", "WeightNorm", "UpdateRatio"} {
			if !near(got[k], want[k], 1e-9) {
				c.t.Errorf("step %d layer %s: %s = %g, want %g", c.steps, r.Layer, name, got[k], want[k])
			}
		}
		if r.Epoch != epoch+1 {
			c.t.Errorf("step %d: epoch %d, want %d", c.steps, r.Epoch, epoch+1)
		}
	}
	return nil
}

func TestHealthNorms(t *testing.T) {
	x, y := blobs(200, 6, 3, 4)
	m := compiled(t, 6, optimizers.NewAdam(), layers.NewDense(8, nn.ActReLU), layers.NewBatchNormalization(),
		layers.NewDense(5, nn.ActTanh), layers.NewDense(3, nn.ActSoftmax))
	h := &Health{Every: 3}
	c := &checker{h: h, t: t}
	fitHealth(t, m, h, x, y, 2, c)
	// 7 steps per epoch (the last batch is short): samples at 3, 6, 9, 12.
	if c.steps != 14 || c.seen != 4*4 {
		t.Errorf("saw %d steps and checked %d records; want 14 and 16", c.steps, c.seen)
	}
	names := []string{"dense", "batch_normalization", "dense_1", "dense_2"}
	if got := h.Layers(); !slices.Equal(got, names) {
		t.Errorf("Layers() = %v, want %v", got, names)
	}
	steps, norms := h.Series("dense_1")
	if !slices.Equal(steps, []int{3, 6, 9, 12}) || norms[3] != h.Records[14].GradNorm {
		t.Errorf("Series(dense_1) = %v, %v; want steps [3 6 9 12] ending in %g", steps, norms, h.Records[14].GradNorm)
	}
	for i, r := range h.Records {
		if want := names[i%4]; r.Layer != want {
			t.Errorf("record %d: layer %s, want %s", i, r.Layer, want)
		}
	}
}

// TestHealthDead crafts Dense layers whose bias makes 3 of 8 units negative
// on every input (and the other 5 positive), with a learning rate of zero
// so that it stays so.
func TestHealthDead(t *testing.T) {
	x, y := blobs(64, 4, 2, 5)
	for _, split := range []bool{false, true} {
		t.Run(fmt.Sprintf("activation-layer=%v", split), func(t *testing.T) {
			d := layers.NewDense(8, nn.ActReLU)
			ls := []layers.Layer{d}
			if split {
				d.Activation = nn.Linear
				ls = append(ls, layers.NewActivation(nn.ActReLU))
			}
			ls = append(ls, layers.NewDense(2, nn.ActSoftmax))
			m := compiled(t, 4, &optimizers.SGD{LR: 0}, ls...)
			for j := range 8 {
				b := 1e3
				if j%3 == 0 {
					b = -1e3
				}
				d.Bias.Value.SetIndex(j, b)
			}
			h := &Health{Every: 1}
			fitHealth(t, m, h, x, y, 1)
			for _, r := range h.Records {
				want, relu := 0.0, false
				if r.Layer == d.Name() {
					want, relu = 3.0/8, true
				}
				if r.DeadFraction != want || r.ReLU != relu {
					t.Errorf("step %d layer %s: dead fraction %g (ReLU %v), want %g (%v)", r.Step, r.Layer, r.DeadFraction, r.ReLU, want, relu)
				}
			}
		})
	}
}

// TestDeadFractionRows checks the counting itself: a unit is dead only when
// no row is positive.
func TestDeadFractionRows(t *testing.T) {
	negZero, tiny := math.Copysign(0, -1), float64(math.SmallestNonzeroFloat32)
	out := tensor.FromFloat64([]float64{
		0, 1, 0, -2, 0,
		negZero, 0, 0, 0, tiny,
		0, 0, 3, math.Inf(-1), 0,
	}, 3, 5)
	if got := deadFraction(out, make([]int64, 5)); got != 0.4 {
		t.Errorf("got %g, want 0.4", got)
	}
	if got := deadFraction(out.As(tensor.Float32), make([]int64, 5)); got != 0.4 {
		t.Errorf("float32: got %g, want 0.4", got)
	}
}

// TestHealthNoAllocs checks that unsampled steps, including the one before
// a sample that copies the weights, allocate nothing.
func TestHealthNoAllocs(t *testing.T) {
	m := compiled(t, 6, optimizers.NewAdam(), layers.NewDense(8, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(3, nn.ActSoftmax))
	h := &Health{Every: 1000}
	if err := h.OnTrainBegin(m); err != nil {
		t.Fatal(err)
	}
	// 1 + 998 calls: steps 1 to 999, the last of which copies the weights.
	allocs := testing.AllocsPerRun(998, func() { h.OnBatchEnd(0, 1, nil) })
	if allocs != 0 || h.step != 999 || len(h.Records) != 0 {
		t.Errorf("%g allocations per unsampled step at step %d (%d records), want 0", allocs, h.step, len(h.Records))
	}
}

func TestHealthErrors(t *testing.T) {
	m := compiled(t, 6, optimizers.NewAdam(), layers.NewDense(3, nn.ActSoftmax))
	for _, h := range []*Health{{Vanishing: -1}, {Exploding: math.NaN()}} {
		if err := h.OnTrainBegin(m); err == nil || !strings.HasPrefix(err.Error(), "monitor: Health: thresholds") {
			t.Errorf("%+v: got error %v", h, err)
		}
	}
}
