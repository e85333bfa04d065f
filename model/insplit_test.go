package model_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// TestSplitFirstLayerGradients: one step with the first layer split by
// its inputs computes the gradients of the plain shard path, up to the
// float32 rounding of a sum taken in two parts, for every parameter, with
// a last shard shorter than the others, on float32 and uint8 inputs, and
// for a first layer without activation or bias.
func TestSplitFirstLayerGradients(t *testing.T) {
	x, y, _, _ := data(t, 200, 3)
	x8 := tensor.FromUint8(make([]uint8, x.Len()), 255, x.Shape()...)
	for i, v := range x.Float32s() {
		x8.Uint8s()[i] = uint8(math.Round(float64(v) * 255))
	}
	plainDense := func() *model.Sequential {
		d := layers.NewDense(48, nn.Linear)
		d.UseBias = false
		return model.NewSequential(d, layers.NewActivation(nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
	}
	cases := []struct {
		name         string
		mk           func() *model.Sequential
		x            *tensor.Tensor
		batch, shard int
	}{
		{"founding, batch 32 in 16s", func() *model.Sequential { return founding(true) }, x, 32, 16},
		{"founding, batch 40 in 16s, uint8", func() *model.Sequential { return founding(true) }, x8, 40, 16},
		{"linear, no bias, batch 48 in 8s", plainDense, x, 48, 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var grads [2][][]float32
			for i, split := range []bool{false, true} {
				m := c.mk()
				m.Seed = 11
				if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}); err != nil {
					t.Fatal(err)
				}
				o := model.FitOptions{Epochs: 1, StepsPerEpoch: 1, BatchSize: c.batch, ShardSize: c.shard, SplitFirstLayer: split}
				if _, err := fitWithin(t, m, c.x, y, o); err != nil {
					t.Fatal(err)
				}
				for _, p := range m.Params() {
					if p.Grad == nil {
						t.Fatalf("split %v: %s has no gradient", split, p.Name)
					}
					grads[i] = append(grads[i], append([]float32(nil), p.Grad.Float32s()...))
				}
			}
			for j, want := range grads[0] {
				got := grads[1][j]
				scale := 0.0
				for _, v := range want {
					scale = math.Max(scale, math.Abs(float64(v)))
				}
				if scale == 0 {
					t.Fatalf("parameter %d: a zero gradient tests nothing", j)
				}
				for k := range want {
					if d := math.Abs(float64(got[k] - want[k])); d > 2e-5*scale {
						t.Fatalf("parameter %d element %d: %g split, %g plain (largest element %g)", j, k, got[k], want[k], scale)
					}
				}
			}
		})
	}
}

// TestSplitFirstLayerSameBitsAcrossGOMAXPROCS: the split, like the shards,
// depends on the shard size and not on the number of threads.
func TestSplitFirstLayerSameBitsAcrossGOMAXPROCS(t *testing.T) {
	x, y, _, _ := data(t, 200, 1)
	sameStateAcrossGOMAXPROCS(t, []int{1, 2, 3, 4}, func() *model.Sequential {
		m := compiled(t, founding(true))
		m.Seed = 5
		if _, err := fitWithin(t, m, x, y, model.FitOptions{BatchSize: 48, ShardSize: 16, SplitFirstLayer: true}); err != nil {
			t.Fatal(err)
		}
		return m
	})
}

// TestSplitFirstLayerResumeBitwise: a split run resumed from its
// checkpoint ends as the uninterrupted run; the checkpoint keeps the
// option, and resuming it with the option turned on where the run had it
// off is an error that names it.
func TestSplitFirstLayerResumeBitwise(t *testing.T) {
	x, y, _, _ := data(t, 600, 10)
	opts := model.FitOptions{Epochs: 2, BatchSize: 40, ShardSize: 16, SplitFirstLayer: true}
	ref := compiled(t, founding(true))
	hRef, err := fitWithin(t, ref, x, y, opts)
	if err != nil {
		t.Fatal(err)
	}
	m := compiled(t, founding(true))
	o := opts
	o.Callbacks = []model.Callback{&ckStopAt{at: 20}}
	if _, err := fitWithin(t, m, x, y, o); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/ck.safetensors"
	if err := m.SaveCheckpoint(path, nil); err != nil {
		t.Fatal(err)
	}
	m2, ck, err := model.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := fitWithin(t, m2, x, y, model.FitOptions{Epochs: 2, BatchSize: 40, Resume: ck})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stateHash(t, m2), stateHash(t, ref); got != want {
		t.Errorf("resumed state %s, uninterrupted %s", got, want)
	}
	if d := ckSameHistory(h2, hRef); d != "" {
		t.Errorf("history: %s", d)
	}

	plain := compiled(t, founding(true))
	o = opts
	o.SplitFirstLayer = false
	o.Callbacks = []model.Callback{&ckStopAt{at: 5}}
	if _, err := fitWithin(t, plain, x, y, o); err != nil {
		t.Fatal(err)
	}
	if err := plain.SaveCheckpoint(path, nil); err != nil {
		t.Fatal(err)
	}
	m3, ck, err := model.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fitWithin(t, m3, x, y, model.FitOptions{Epochs: 2, BatchSize: 40, SplitFirstLayer: true, Resume: ck})
	if err == nil || !strings.Contains(err.Error(), "SplitFirstLayer true (the checkpoint has false)") {
		t.Fatalf("resuming a plain run with SplitFirstLayer: err = %v", err)
	}
}

// TestSplitFirstLayerErrors: Fit names why the option cannot apply.
func TestSplitFirstLayerErrors(t *testing.T) {
	x, y, _, _ := data(t, 64, 1)
	mk := func(ls ...layers.Layer) *model.Sequential { return model.NewSequential(ls...) }
	cases := []struct {
		name string
		m    func() *model.Sequential
		opt  optimizers.Optimizer
		o    model.FitOptions
		want string
	}{
		{"no shards", func() *model.Sequential { return founding(true) }, optimizers.NewAdam(),
			model.FitOptions{SplitFirstLayer: true}, "SplitFirstLayer needs a ShardSize"},
		{"SGD", func() *model.Sequential { return founding(true) }, optimizers.NewSGD(),
			model.FitOptions{ShardSize: 8, SplitFirstLayer: true}, "does not update by ranges"},
		{"sigmoid", func() *model.Sequential {
			return mk(layers.NewDense(16, nn.ActSigmoid), layers.NewDense(10, nn.ActSoftmax))
		}, optimizers.NewAdam(), model.FitOptions{ShardSize: 8, SplitFirstLayer: true}, "activation is sigmoid"},
		{"dropout first", func() *model.Sequential {
			return mk(layers.NewDropout(0.1), layers.NewDense(10, nn.ActSoftmax))
		}, optimizers.NewAdam(), model.FitOptions{ShardSize: 8, SplitFirstLayer: true}, "first layer is a Dropout, not a Dense"},
		{"regularizer", func() *model.Sequential {
			d := layers.NewDense(16, nn.ActReLU)
			d.KernelRegularizer = layers.L2(1e-4)
			return mk(d, layers.NewDense(10, nn.ActSoftmax))
		}, optimizers.NewAdam(), model.FitOptions{ShardSize: 8, SplitFirstLayer: true}, "kernel regularizer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := c.m()
			if err := m.Compile(c.opt, losses.CategoricalCrossentropy{}); err != nil {
				t.Fatal(err)
			}
			c.o.Epochs = 1
			_, err := fitWithin(t, m, x, y, c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
	m := compiled(t, founding(true))
	m.DType = tensor.Float64
	if _, err := fitWithin(t, m, x.As(tensor.Float64), y.As(tensor.Float64), model.FitOptions{Epochs: 1, ShardSize: 8, SplitFirstLayer: true}); err == nil || !strings.Contains(err.Error(), "must be float32") {
		t.Fatalf("float64 model: err = %v", err)
	}
}

// TestSplitNonFiniteKernelGradient: on the input split a member updates
// its rows of the first kernel without hearing whether the others' rows
// have a finite gradient. When one has not, Fit reports a non-finite
// gradient in the first layer and leaves the model as after the last
// good step, undoing the rows already updated.
func TestSplitNonFiniteKernelGradient(t *testing.T) {
	x, y, _, _ := data(t, 96, 1)
	// Sample 70, in the third batch of 32, has an enormous pixel 700,
	// in the second member's block, whose kernel row is zero: the
	// pre-activations and the loss stay finite, and that row's gradient
	// (the pixel times the pre-activation gradient, which the weights
	// make large) overflows.
	x.Float32s()[70*784+700] = 3e38
	w := tensor.New(tensor.Float32, 96)
	w.Fill(1e6)
	for _, clip := range []bool{false, true} {
		// With ClipNorm, Prepare reads every gradient: the members
		// meet before they update (runSplit), and none does.
		mk := func() *model.Sequential {
			m := founding(true)
			opt := optimizers.NewAdam()
			if clip {
				opt.ClipNorm = 1e9
			}
			if err := m.Compile(opt, losses.CategoricalCrossentropy{}); err != nil {
				t.Fatal(err)
			}
			m.Seed = 3
			if err := m.Build(784); err != nil {
				t.Fatal(err)
			}
			clear(m.Layers[0].(*layers.Dense).Kernel.Value.Float32s()[700*64 : 701*64])
			return m
		}
		o := model.FitOptions{BatchSize: 32, ShardSize: 16, SplitFirstLayer: true, NoShuffle: true, SampleWeight: w}
		m := mk()
		_, err := fitWithin(t, m, x, y, o)
		var nf *model.NonFiniteError
		if !errors.As(err, &nf) || nf.What != "gradient" || nf.Step != 3 || nf.Layer != m.Layers[0].Name() {
			t.Fatalf("clip %v: err = %v, want a non-finite gradient at step 3 in layer %q", clip, err, m.Layers[0].Name())
		}
		ref := mk()
		o.StepsPerEpoch = 2
		if _, err := fitWithin(t, ref, x, y, o); err != nil {
			t.Fatal(err)
		}
		if got, want := stateHash(t, m), stateHash(t, ref); got != want {
			t.Errorf("clip %v: state after the failed step %s, after the two good steps %s", clip, got, want)
		}
	}
}
