package nn_test

import (
	"fmt"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/golden"
	"github.com/myelin-go/myelin/internal/gradcheck"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

func TestLayerNormGradient(t *testing.T) {
	for _, shape := range []tensor.Shape{{1, 3}, {4, 5}, {2, 3, 6}, {2, 3, 2, 4}} {
		t.Run(shape.String(), func(t *testing.T) {
			c := shape[len(shape)-1]
			x, g, b := gradcheck.Randn(shape...), gradcheck.Randn(c), gradcheck.Randn(c)
			// Project on a random r: Σy has a zero x-gradient under any normalization.
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				return project(tp, nn.LayerNorm(tp, v[0], v[1], v[2], 1e-3))
			}, 1e-6, x, g, b)
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				return project(tp, nn.LayerNorm(tp, v[0], nil, nil, 1e-3))
			}, 1e-6, x)
		})
	}
}

func TestGroupNormGradient(t *testing.T) {
	for _, c := range []struct {
		shape  tensor.Shape
		groups int
	}{{tensor.Shape{3, 8}, 4}, {tensor.Shape{2, 5, 6}, 3}, {tensor.Shape{2, 3, 4, 6}, 2},
		{tensor.Shape{2, 2, 3, 4}, 4}, {tensor.Shape{2, 3, 2, 4}, 1}, {tensor.Shape{1, 2, 2, 6}, 6}} {
		t.Run(fmt.Sprintf("%s/groups=%d", c.shape, c.groups), func(t *testing.T) {
			ch := c.shape[len(c.shape)-1]
			x, g, b := gradcheck.Randn(c.shape...), gradcheck.Randn(ch), gradcheck.Randn(ch)
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				return project(tp, nn.GroupNorm(tp, v[0], v[1], v[2], c.groups, 1e-3))
			}, 1e-6, x, g, b)
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				return project(tp, nn.GroupNorm(tp, v[0], nil, v[1], c.groups, 1e-3))
			}, 1e-6, x, b)
		})
	}
}

// TestGroupNormOneGroupPerRowIsLayerNorm checks the two against each other
// where they must agree: a rank-2 input in one group is layer normalization.
func TestGroupNormOneGroupPerRowIsLayerNorm(t *testing.T) {
	x, g, b := gradcheck.Randn(5, 6), gradcheck.Randn(6), gradcheck.Randn(6)
	tp := autodiff.NewTape()
	gn := nn.GroupNorm(tp, tp.Const(x), tp.Const(g), tp.Const(b), 1, 1e-3).Value
	ln := nn.LayerNorm(tp, tp.Const(x), tp.Const(g), tp.Const(b), 1e-3).Value
	for i := range gn.Len() {
		if gn.Index(i) != ln.Index(i) {
			t.Fatalf("element %d: GroupNorm with 1 group %g, LayerNorm %g", i, gn.Index(i), ln.Index(i))
		}
	}
}

func TestGroupNormRejectsGroupsNotDividingChannels(t *testing.T) {
	for _, groups := range []int{0, -1, 4, 7} {
		t.Run(fmt.Sprint(groups), func(t *testing.T) {
			defer func() {
				if _, ok := recover().(*tensor.ShapeError); !ok {
					t.Fatalf("groups %d of 6 channels: want a *tensor.ShapeError panic", groups)
				}
			}()
			tp := autodiff.NewTape()
			nn.GroupNorm(tp, tp.Const(tensor.New(tensor.Float64, 2, 6)), nil, nil, groups, 1e-3)
		})
	}
}

func TestPenaltyGradient(t *testing.T) {
	w := gradcheck.Randn(3, 4)
	for _, f := range [][2]float64{{0.01, 0}, {0, 0.01}, {0.3, 0.7}} {
		t.Run(fmt.Sprintf("l1=%g,l2=%g", f[0], f[1]), func(t *testing.T) {
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				return nn.Penalty(tp, v[0], f[0], f[1])
			}, 1e-6, w)
		})
	}
}

// TestNormGolden compares nn.LayerNorm and nn.GroupNorm, forward and
// backward, with PyTorch's values in testdata/golden/norm.json (GroupNorm
// with channels last; torch computed it on the channels-first transpose).
func TestNormGolden(t *testing.T) {
	f, err := golden.Load("norm")
	if err != nil {
		t.Fatal(err)
	}
	cases := append(f.Kind("layernorm"), f.Kind("groupnorm")...)
	if len(cases) != 11 {
		t.Fatalf("norm.json has %d cases, want 11", len(cases))
	}
	for _, c := range cases {
		kind, _ := c.String("kind")
		for _, dt := range []struct {
			dt         tensor.DType
			rtol, atol float64
		}{{tensor.Float64, 1e-12, 1e-12}, {tensor.Float32, 1e-4, 1e-5}} {
			t.Run(c.Name()+"/"+dt.dt.String(), func(t *testing.T) {
				tp := autodiff.NewTape()
				x := tp.Variable(fromGolden(c.MustTensor(t, "x"), dt.dt))
				g := autodiff.NewParam(fromGolden(c.MustTensor(t, "gamma"), dt.dt), "gamma")
				b := autodiff.NewParam(fromGolden(c.MustTensor(t, "beta"), dt.dt), "beta")
				eps := c.MustFloat(t, "eps")
				var y *autodiff.Var
				if kind == "groupnorm" {
					y = nn.GroupNorm(tp, x, g, b, c.MustInt(t, "groups"), eps)
				} else {
					y = nn.LayerNorm(tp, x, g, b, eps)
				}
				r := tp.Const(fromGolden(c.MustTensor(t, "r"), dt.dt))
				tp.Backward(nn.Sum(tp, nn.Mul(tp, y, r), nn.AllAxes))
				for _, v := range []struct {
					field string
					got   *tensor.Tensor
				}{{"y", y.Value}, {"dx", x.Grad}, {"dgamma", g.Grad}, {"dbeta", b.Grad}} {
					want := c.MustTensor(t, v.field)
					if !v.got.Shape().Equal(tensor.Shape(want.Shape)) {
						t.Fatalf("%s: got shape %v, want %v", v.field, v.got.Shape(), want.Shape)
					}
					got := flat(v.got)
					if i, ok := golden.Close(got, want.Data, dt.rtol, dt.atol); !ok {
						t.Errorf("%s element %d: got %.17g, want %.17g", v.field, i, got[i], want.Data[i])
					}
				}
			})
		}
	}
}

// TestPenaltyGolden compares nn.Penalty with Keras's formula as PyTorch
// computed it in testdata/golden/regularizers.json.
func TestPenaltyGolden(t *testing.T) {
	f, err := golden.Load("regularizers")
	if err != nil {
		t.Fatal(err)
	}
	cases := f.Kind("penalty")
	if len(cases) != 3 {
		t.Fatalf("regularizers.json has %d penalty cases, want 3", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			tp := autodiff.NewTape()
			w := autodiff.NewParam(fromGolden(c.MustTensor(t, "w"), tensor.Float64), "w")
			p := nn.Penalty(tp, w, c.MustFloat(t, "l1"), c.MustFloat(t, "l2"))
			tp.Backward(p)
			if _, ok := golden.Close([]float64{p.Value.Item()}, []float64{c.MustFloat(t, "value")}, 1e-12, 0); !ok {
				t.Errorf("value: got %.17g, want %.17g", p.Value.Item(), c.MustFloat(t, "value"))
			}
			want := c.MustTensor(t, "dw")
			if i, ok := golden.Close(flat(w.Grad), want.Data, 1e-12, 1e-15); !ok {
				t.Errorf("dw element %d: got %.17g, want %.17g", i, flat(w.Grad)[i], want.Data[i])
			}
		})
	}
}
