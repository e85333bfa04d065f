package model_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/reduce"
	"github.com/myelin-go/myelin/tensor"
)

// uint8Data returns n training and k test samples of MNIST with x and tx
// as uint8 pixels over 255 (the Sets' bytes, not copied) and their
// float32 values, the data converted as every caller did before.
func uint8Data(t *testing.T, n, k int) (x, tx, xf, txf, y, ty *tensor.Tensor) {
	t.Helper()
	xf, y, txf, ty = data(t, n, k)
	var err error
	if x, err = mnistTrain.Slice(0, n).X(); err != nil {
		t.Fatal(err)
	}
	if tx, err = mnistTest.Slice(0, k).X(); err != nil {
		t.Fatal(err)
	}
	if x.DType() != tensor.Uint8 || xf.DType() != tensor.Float32 {
		t.Fatalf("x is %s, xf %s", x.DType(), xf.DType())
	}
	return
}

// uint8Model is the founding model with dropout (so that the generator's
// draws are compared too) in dtype dt.
func uint8Model(t *testing.T, dt tensor.DType) *model.Sequential {
	m := founding(true)
	m.Layers = append(m.Layers[:1], append([]layers.Layer{layers.NewDropout(0.2)}, m.Layers[1:]...)...)
	m = compiled(t, m)
	m.DType, m.Seed = dt, 9
	return m
}

// sameTensor reports the first element where a and b differ in bits, or "".
func sameTensor(a, b *tensor.Tensor) string {
	if a.DType() != b.DType() || !a.Shape().Equal(b.Shape()) {
		return fmt.Sprintf("%s %s, want %s %s", a.DType(), a.Shape(), b.DType(), b.Shape())
	}
	for i := range a.Len() {
		if math.Float64bits(a.Index(i)) != math.Float64bits(b.Index(i)) {
			return fmt.Sprintf("element %d: %v, want %v", i, a.Index(i), b.Index(i))
		}
	}
	return ""
}

// TestFitUint8MatchesFloat: Fit on uint8 pixels (set.X(), converted in the
// batch gather) trains bit for bit as Fit on the same pixels converted to
// float32 beforehand, in whole batches, in shards (each shard converting
// its own rows), with a validation split and with uint8 validation data,
// for float32 and float64 models; Evaluate, Predict and PredictInto then
// give the same bits too.
func TestFitUint8MatchesFloat(t *testing.T) {
	x, tx, xf, txf, y, ty := uint8Data(t, 320, 200)
	ctx := context.Background()
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, c := range []struct {
			name string
			opt  model.FitOptions
		}{
			{"whole batches", model.FitOptions{Epochs: 2, BatchSize: 32, ValidationSplit: 0.2}},
			{"shards of 16", model.FitOptions{Epochs: 2, BatchSize: 48, ShardSize: 16, ValidationSplit: 0.2}},
			{"validation data", model.FitOptions{Epochs: 2, BatchSize: 32, ValidationX: tx}},
		} {
			t.Run(fmt.Sprintf("%s/%s", dt, c.name), func(t *testing.T) {
				ref, m := uint8Model(t, dt), uint8Model(t, dt)
				o := c.opt
				if o.ValidationX != nil {
					o.ValidationX, o.ValidationY = txf, ty
				}
				want, err := fitWithin(t, ref, xf, y, o)
				if err != nil {
					t.Fatal(err)
				}
				if o.ValidationX != nil {
					o.ValidationX = tx
				}
				got, err := fitWithin(t, m, x, y, o)
				if err != nil {
					t.Fatal(err)
				}
				if g, w := stateHash(t, m), stateHash(t, ref); g != w {
					t.Errorf("uint8 x trained state %s, float32 x %s", g, w)
				}
				if d := ckSameHistory(got, want); d != "" {
					t.Errorf("history: %s", d)
				}
				if len(want.Metrics["val_loss"]) != 2 {
					t.Fatalf("no validation in the history: %v", want.Metrics)
				}

				for _, bs := range []int{0, 64} { // 200 rows: a short last batch
					eo := model.EvalOptions{BatchSize: bs}
					ge, err := m.Evaluate(ctx, tx, ty, eo)
					if err != nil {
						t.Fatal(err)
					}
					we, err := m.Evaluate(ctx, txf, ty, eo)
					if err != nil {
						t.Fatal(err)
					}
					for k, v := range we {
						if math.Float64bits(ge[k]) != math.Float64bits(v) {
							t.Errorf("Evaluate batch %d: %s %v on uint8, %v on float32", bs, k, ge[k], v)
						}
					}
					gp, err := m.Predict(ctx, tx, eo)
					if err != nil {
						t.Fatal(err)
					}
					wp, err := m.Predict(ctx, txf, eo)
					if err != nil {
						t.Fatal(err)
					}
					if d := sameTensor(gp, wp); d != "" {
						t.Errorf("Predict batch %d: %s", bs, d)
					}
				}
				dst, want1 := tensor.New(dt, 7, 10), tensor.New(dt, 7, 10)
				if err := m.PredictInto(dst, tx.Rows(3, 10)); err != nil {
					t.Fatal(err)
				}
				if err := m.PredictInto(want1, txf.Rows(3, 10).As(dt)); err != nil {
					t.Fatal(err)
				}
				if d := sameTensor(dst, want1); d != "" {
					t.Errorf("PredictInto: %s", d)
				}
				outs, err := m.Trace(tx.Rows(0, 5))
				if err != nil {
					t.Fatal(err)
				}
				wouts, err := m.Trace(txf.Rows(0, 5))
				if err != nil {
					t.Fatal(err)
				}
				if d := sameTensor(outs[len(outs)-1], wouts[len(wouts)-1]); d != "" {
					t.Errorf("Trace: %s", d)
				}
			})
		}
	}
}

// TestRanksUint8MatchesFloat: ranks training on uint8 pixels end with the
// bits and History of ranks training on their float32 values.
func TestRanksUint8MatchesFloat(t *testing.T) {
	x, _, xf, _, y, _ := uint8Data(t, 256, 1)
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			opts := model.FitOptions{Epochs: 2, BatchSize: 32, ValidationSplit: 0.25}
			run := func(x *tensor.Tensor) ([]*model.Sequential, []*model.History) {
				return fitRanks(t, 2, func() *model.Sequential { return uint8Model(t, dt) }, func(m *model.Sequential, g reduce.Ranks) (*model.History, error) {
					o := opts
					o.Ranks = g
					return m.Fit(context.Background(), x, y, o)
				})
			}
			ms, hs := run(x)
			ref, hRef := run(xf)
			for r := range ms {
				if g, w := stateHash(t, ms[r]), stateHash(t, ref[r]); g != w {
					t.Errorf("rank %d: uint8 x trained state %s, float32 x %s", r, g, w)
				}
				if d := ckSameHistory(hs[r], hRef[r]); d != "" {
					t.Errorf("rank %d: history: %s", r, d)
				}
			}
		})
	}
}

// TestResumeAcrossUint8: a run on float32 pixels, checkpointed part way,
// resumes on the same pixels as uint8 (the checkpoint's data hash is of
// the values the model sees) and ends as the uninterrupted run.
func TestResumeAcrossUint8(t *testing.T) {
	x, _, xf, _, y, _ := uint8Data(t, 256, 1)
	ctx := context.Background()
	opts := model.FitOptions{Epochs: 2, BatchSize: 32}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		whole := uint8Model(t, dt)
		if _, err := whole.Fit(ctx, xf, y, opts); err != nil {
			t.Fatal(err)
		}
		m := uint8Model(t, dt)
		o := opts
		o.Callbacks = []model.Callback{&ckStopAt{at: 11}}
		if _, err := m.Fit(ctx, xf, y, o); err != nil {
			t.Fatal(err)
		}
		path := t.TempDir() + "/ck.safetensors"
		if err := m.SaveCheckpoint(path, nil); err != nil {
			t.Fatal(err)
		}
		m, ck, err := model.LoadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		o = opts
		o.Resume = ck
		if _, err := m.Fit(ctx, x, y, o); err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
		if g, w := stateHash(t, m), stateHash(t, whole); g != w {
			t.Errorf("%s: resumed on uint8: state %s, uninterrupted %s", dt, g, w)
		}
	}
}

// TestUint8Refused: uint8 targets and weights are errors naming them; a
// uint8 tensor handed to the tape directly is a *tensor.ShapeError, not a
// silent computation on nothing.
func TestUint8Refused(t *testing.T) {
	x, tx, _, _, y, ty := uint8Data(t, 64, 16)
	ctx := context.Background()
	yu := tensor.FromUint8(make([]uint8, y.Len()), 1, y.Shape()...)
	m := uint8Model(t, tensor.Float32)
	for _, c := range []struct {
		name string
		err  func() error
		want string
	}{
		{"Fit y", func() error { _, err := m.Fit(ctx, x, yu, model.FitOptions{}); return err }, "model: Fit: y is uint8"},
		{"Fit validation y", func() error {
			_, err := m.Fit(ctx, x, y, model.FitOptions{ValidationX: tx, ValidationY: tensor.FromUint8(make([]uint8, ty.Len()), 1, ty.Shape()...)})
			return err
		}, "model: Fit (validation data): y is uint8"},
		{"Fit sample weights", func() error {
			_, err := m.Fit(ctx, x, y, model.FitOptions{SampleWeight: tensor.FromUint8(make([]uint8, 64), 1, 64)})
			return err
		}, "model: Fit: SampleWeight is uint8"},
		{"Evaluate y", func() error { _, err := m.Evaluate(ctx, x, yu, model.EvalOptions{}); return err }, "model: Evaluate: y is uint8"},
		{"PredictInto shape", func() error {
			return m.PredictInto(tensor.New(tensor.Float32, 2, 10), tensor.FromUint8(make([]uint8, 10), 255, 2, 5))
		}, "x must be float32 or uint8"},
	} {
		if err := c.err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.want)
		}
	}
	tp := autodiff.NewTape()
	func() {
		defer func() {
			var se *tensor.ShapeError
			if err, _ := recover().(error); !errors.As(err, &se) {
				t.Errorf("Forward of a uint8 Const: recovered %v, want a *tensor.ShapeError", err)
			}
		}()
		m.Forward(&layers.Pass{Tape: tp}, tp.Const(x.Rows(0, 2)), model.Walk{})
	}()
}
