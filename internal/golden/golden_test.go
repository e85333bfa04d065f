package golden

import (
	"math"
	"slices"
	"testing"
)

// schema lists, per case kind, the fields every case of that kind must have.
type schema struct {
	tensors, sequences, numbers, strings []string
}

var common = []string{"name", "kind", "note"}

var schemas = map[string]schema{
	"batchnorm": {
		tensors: []string{"x", "gamma", "beta", "batch_mean", "batch_var", "y", "dy", "dx", "dgamma", "dbeta",
			"x_infer", "y_infer_keras", "y_infer_torch", "dy_infer", "dx_infer_keras"},
		sequences: []string{"x_steps", "moving_mean_keras", "moving_variance_keras", "running_mean_torch", "running_var_torch"},
		numbers:   []string{"n", "c", "eps", "eps_torch", "momentum_keras", "momentum_torch", "momentum_torch_for_keras"},
	},
	"losses": {
		tensors: []string{"logits", "targets_onehot", "targets_int", "softmax", "ce_logits_grad",
			"probs", "probs_row_scale", "cce_keras_grad", "cce_clip_grad",
			"bce_targets", "bce_probs", "bce_keras_grad", "bce_logits_grad", "mse_targets", "mse_grad"},
		numbers: []string{"n", "c", "clip_eps", "ce_logits_loss", "cce_keras_loss", "cce_clip_loss",
			"bce_keras_loss", "bce_logits_loss", "mse_loss"},
		strings: []string{"reduction", "probs_from"},
	},
	"loss": {
		tensors: []string{"pred", "target", "grad"},
		numbers: []string{"value"},
		strings: []string{"loss"},
	},
	"optimizer": {
		tensors:   []string{"w0"},
		sequences: []string{"grads", "params"},
		numbers:   []string{"lr"},
		strings:   []string{"optimizer", "form"},
	},
	"clip": {
		tensors:   []string{"norms"},
		sequences: []string{"grads", "clip_global_norm_torch", "clip_global_norm_keras", "clipnorm_torch", "clipnorm_keras", "clipvalue"},
		numbers:   []string{"max_norm", "clip_value", "global_norm"},
	},
	"dense": {
		tensors: []string{"x", "w", "b", "r", "z", "y", "dx", "dw", "db"},
		strings: []string{"activation"},
	},
	"layernorm": {
		tensors: []string{"x", "gamma", "beta", "r", "y", "dx", "dgamma", "dbeta"},
		numbers: []string{"eps"},
	},
	"groupnorm": {
		tensors: []string{"x", "gamma", "beta", "r", "y", "dx", "dgamma", "dbeta"},
		numbers: []string{"eps", "groups"},
	},
	"penalty": {
		tensors: []string{"w", "dw"},
		numbers: []string{"l1", "l2", "value"},
		strings: []string{"class_name"},
	},
	"conv2d": {
		tensors: []string{"x", "w", "b", "r", "y", "dx", "dw", "db", "strides", "dilation"},
		strings: []string{"padding", "activation"},
	},
	"pool2d": {
		tensors: []string{"x", "r", "y", "dx", "pool_size", "strides"},
		strings: []string{"pool", "padding"},
	},
}

// optimizerNumbers lists the hyperparameters each optimizer's cases record.
var optimizerNumbers = map[string][]string{
	"adam":    {"beta1", "beta2", "eps"},
	"sgd":     {"momentum", "nesterov"},
	"rmsprop": {"rho", "eps"},
	"adamw":   {"beta1", "beta2", "eps", "weight_decay"},
	"nadam":   {"beta1", "beta2", "eps"},
	"adagrad": {"initial_accumulator_value", "eps"},
}

var expectedFiles = []string{"batchnorm", "conv2d", "dense", "losses2", "norm", "optimizers", "optimizers2", "regularizers", "softmax_ce"}

func TestAllFilesWellFormed(t *testing.T) {
	names, err := Names()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range expectedFiles {
		if !slices.Contains(names, want) {
			t.Errorf("missing golden file %s.json (have %v)", want, names)
		}
	}
	for _, name := range names {
		f, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Generator != "internal/golden/gen.py" || f.Torch == "" {
			t.Errorf("%s: generator %q torch %q", name, f.Generator, f.Torch)
		}
		if len(f.Cases) == 0 {
			t.Errorf("%s: no cases", name)
		}
		seen := map[string]bool{}
		for _, c := range f.Cases {
			checkCase(t, name, c)
			if seen[c.Name()] {
				t.Errorf("%s: duplicate case name %q", name, c.Name())
			}
			seen[c.Name()] = true
		}
	}
}

func checkCase(t *testing.T, file string, c Case) {
	t.Helper()
	for _, k := range common {
		if _, err := c.String(k); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
	kind, _ := c.String("kind")
	s, ok := schemas[kind]
	if !ok {
		t.Errorf("%s/%s: unknown kind %q", file, c.Name(), kind)
		return
	}
	for _, k := range s.tensors {
		if _, err := c.Tensor(k); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
	for _, k := range s.sequences {
		ts, err := c.Tensors(k)
		if err != nil {
			t.Errorf("%s: %v", file, err)
		} else if len(ts) == 0 {
			t.Errorf("%s/%s: %s is empty", file, c.Name(), k)
		}
	}
	numbers := s.numbers
	if kind == "optimizer" {
		opt, _ := c.String("optimizer")
		extra, ok := optimizerNumbers[opt]
		if !ok {
			t.Errorf("%s/%s: unknown optimizer %q", file, c.Name(), opt)
		}
		numbers = append(slices.Clone(numbers), extra...)
	}
	for _, k := range numbers {
		if v, err := c.Float(k); err != nil {
			t.Errorf("%s: %v", file, err)
		} else if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("%s/%s: %s = %v", file, c.Name(), k, v)
		}
	}
	for _, k := range s.strings {
		if _, err := c.String(k); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
	// Every tensor anywhere in the case must be valid (Tensor/Tensors validate).
	for _, k := range c.Keys() {
		if _, err := c.Tensor(k); err == nil {
			continue
		}
		if _, err := c.Tensors(k); err == nil {
			continue
		}
		if _, err := c.Float(k); err == nil {
			continue
		}
		if _, err := c.String(k); err == nil {
			continue
		}
		t.Errorf("%s/%s: field %q is neither tensor, tensor list, number nor string", file, c.Name(), k)
	}
}

func mustLoad(t *testing.T, name string) *File {
	t.Helper()
	f, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func expectClose(t *testing.T, what string, got, want []float64, rtol, atol float64) {
	t.Helper()
	if i, ok := Close(got, want, rtol, atol); !ok {
		if i < len(got) && i < len(want) {
			t.Errorf("%s: element %d: got %v want %v", what, i, got[i], want[i])
		} else {
			t.Errorf("%s: length %d, want %d", what, len(got), len(want))
		}
	}
}

// TestBatchNormConsistent recomputes, in plain Go, the training forward pass
// and the Keras running statistics from the stored inputs: a check of the
// row-major layout and of the documented conventions, not of any library code.
func TestBatchNormConsistent(t *testing.T) {
	for _, c := range mustLoad(t, "batchnorm").Cases {
		n, ch := c.MustInt(t, "n"), c.MustInt(t, "c")
		eps, mk := c.MustFloat(t, "eps"), c.MustFloat(t, "momentum_keras")
		x := c.MustTensor(t, "x")
		gamma, beta := c.MustTensor(t, "gamma").Data, c.MustTensor(t, "beta").Data
		if !slices.Equal(x.Shape, []int{n, ch}) || len(gamma) != ch {
			t.Fatalf("%s: shapes %v %d", c.Name(), x.Shape, len(gamma))
		}
		mean, variance := moments(x.Data, n, ch)
		y := make([]float64, n*ch)
		for i := range n {
			for j := range ch {
				y[i*ch+j] = gamma[j]*(x.Data[i*ch+j]-mean[j])/math.Sqrt(variance[j]+eps) + beta[j]
			}
		}
		expectClose(t, c.Name()+" batch_var", variance, c.MustTensor(t, "batch_var").Data, 1e-12, 1e-14)
		expectClose(t, c.Name()+" y", y, c.MustTensor(t, "y").Data, 1e-11, 1e-12)

		xs := c.MustTensors(t, "x_steps")
		mmK, mvK := c.MustTensors(t, "moving_mean_keras"), c.MustTensors(t, "moving_variance_keras")
		rmT, rvT := c.MustTensors(t, "running_mean_torch"), c.MustTensors(t, "running_var_torch")
		if len(xs) != 3 || len(mmK) != 3 || len(mvK) != 3 || len(rmT) != 3 || len(rvT) != 3 {
			t.Fatalf("%s: want 3 steps", c.Name())
		}
		mt := c.MustFloat(t, "momentum_torch")
		mm, mv := make([]float64, ch), make([]float64, ch)
		rm, rv := make([]float64, ch), make([]float64, ch)
		for j := range ch {
			mv[j], rv[j] = 1, 1
		}
		for s, xb := range xs {
			bm, bv := moments(xb.Data, n, ch)
			for j := range ch {
				mm[j] = mk*mm[j] + (1-mk)*bm[j]
				mv[j] = mk*mv[j] + (1-mk)*bv[j]
				rm[j] = (1-mt)*rm[j] + mt*bm[j]
				rv[j] = (1-mt)*rv[j] + mt*bv[j]*float64(n)/float64(n-1)
			}
			expectClose(t, c.Name()+" moving_mean_keras", mm, mmK[s].Data, 1e-12, 1e-14)
			expectClose(t, c.Name()+" moving_variance_keras", mv, mvK[s].Data, 1e-12, 1e-14)
			expectClose(t, c.Name()+" running_mean_torch", rm, rmT[s].Data, 1e-12, 1e-14)
			expectClose(t, c.Name()+" running_var_torch", rv, rvT[s].Data, 1e-12, 1e-14)
		}
	}
}

func moments(x []float64, n, c int) (mean, variance []float64) {
	mean, variance = make([]float64, c), make([]float64, c)
	for i := range n {
		for j := range c {
			mean[j] += x[i*c+j]
		}
	}
	for j := range c {
		mean[j] /= float64(n)
	}
	for i := range n {
		for j := range c {
			d := x[i*c+j] - mean[j]
			variance[j] += d * d
		}
	}
	for j := range c {
		variance[j] /= float64(n)
	}
	return mean, variance
}

// TestLossesConsistent checks the softmax and the logits cross-entropy
// gradient (softmax - onehot)/n against the stored values.
func TestLossesConsistent(t *testing.T) {
	for _, c := range mustLoad(t, "softmax_ce").Cases {
		n, ch := c.MustInt(t, "n"), c.MustInt(t, "c")
		logits := c.MustTensor(t, "logits").Data
		onehot := c.MustTensor(t, "targets_onehot").Data
		ti := c.MustTensor(t, "targets_int").Data
		sm := make([]float64, n*ch)
		grad := make([]float64, n*ch)
		loss := 0.0
		for i := range n {
			row := logits[i*ch : (i+1)*ch]
			m := slices.Max(row)
			sum := 0.0
			for _, v := range row {
				sum += math.Exp(v - m)
			}
			for j, v := range row {
				sm[i*ch+j] = math.Exp(v-m) / sum
				grad[i*ch+j] = (sm[i*ch+j] - onehot[i*ch+j]) / float64(n)
			}
			k := int(ti[i])
			if onehot[i*ch+k] != 1 {
				t.Errorf("%s: targets_int and targets_onehot disagree at row %d", c.Name(), i)
			}
			loss -= (row[k] - m - math.Log(sum)) / float64(n)
		}
		expectClose(t, c.Name()+" softmax", sm, c.MustTensor(t, "softmax").Data, 1e-12, 1e-300)
		expectClose(t, c.Name()+" ce_logits_grad", grad, c.MustTensor(t, "ce_logits_grad").Data, 1e-12, 1e-16)
		expectClose(t, c.Name()+" ce_logits_loss", []float64{loss}, []float64{c.MustFloat(t, "ce_logits_loss")}, 1e-12, 1e-14)
	}
}

// TestDenseConsistent checks z = x @ w + b in the Keras kernel layout.
func TestDenseConsistent(t *testing.T) {
	for _, c := range mustLoad(t, "dense").Cases {
		x, w, b := c.MustTensor(t, "x"), c.MustTensor(t, "w"), c.MustTensor(t, "b")
		n, in, out := x.Shape[0], x.Shape[1], w.Shape[1]
		if w.Shape[0] != in || len(b.Data) != out {
			t.Fatalf("%s: shapes %v %v %v", c.Name(), x.Shape, w.Shape, b.Shape)
		}
		z := make([]float64, n*out)
		for i := range n {
			for j := range out {
				s := b.Data[j]
				for k := range in {
					s += x.Data[i*in+k] * w.Data[k*out+j]
				}
				z[i*out+j] = s
			}
		}
		expectClose(t, c.Name()+" z", z, c.MustTensor(t, "z").Data, 1e-12, 1e-14)
	}
}

// TestOptimizerSequences checks that every optimizer case has one parameter
// tensor per gradient, all shaped like w0, and that the Keras-form SGD series
// match the torch ones as recorded.
func TestOptimizerSequences(t *testing.T) {
	f := mustLoad(t, "optimizers")
	for _, c := range f.Kind("optimizer") {
		w0 := c.MustTensor(t, "w0")
		gs, ps := c.MustTensors(t, "grads"), c.MustTensors(t, "params")
		if len(gs) != 5 || len(ps) != len(gs) {
			t.Errorf("%s: %d grads, %d params", c.Name(), len(gs), len(ps))
		}
		for _, s := range append(gs, ps...) {
			if !slices.Equal(s.Shape, w0.Shape) {
				t.Errorf("%s: shape %v, w0 %v", c.Name(), s.Shape, w0.Shape)
			}
		}
	}
	for _, kind := range []string{"plain", "momentum", "nesterov"} {
		tc, err := f.Case("sgd_" + kind + "_torch")
		if err != nil {
			t.Fatal(err)
		}
		kc, err := f.Case("sgd_" + kind + "_keras")
		if err != nil {
			t.Fatal(err)
		}
		tp, kp := tc.MustTensors(t, "params"), kc.MustTensors(t, "params")
		for s := range tp {
			expectClose(t, kc.Name(), kp[s].Data, tp[s].Data, 1e-12, 1e-14)
		}
	}
	if len(f.Kind("clip")) == 0 {
		t.Error("no clip cases")
	}
}

func TestClose(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		got, want  []float64
		rtol, atol float64
		i          int
		ok         bool
	}{
		{[]float64{1, 2, 3}, []float64{1, 2, 3}, 0, 0, -1, true},
		{[]float64{1, 2.001, 3}, []float64{1, 2, 3}, 1e-3, 0, -1, true},
		{[]float64{1, 2.01, 3}, []float64{1, 2, 3}, 1e-3, 0, 1, false},
		{[]float64{0, 1e-9}, []float64{0, 0}, 0, 1e-8, -1, true},
		{[]float64{1, 2}, []float64{1, 2, 3}, 0, 0, 2, false},
		{[]float64{9, 2}, []float64{1, 2, 3}, 0, 0, 0, false},
		{[]float64{nan}, []float64{nan}, 0, 0, -1, true},
		{[]float64{nan}, []float64{1}, 1, 1, 0, false},
		{[]float64{1}, []float64{nan}, 1, 1, 0, false},
		{[]float64{inf}, []float64{inf}, 0, 0, -1, true},
		{[]float64{inf}, []float64{-inf}, 1, 1, 0, false},
		{[]float64{1e308}, []float64{inf}, 1, 1, 0, false},
		{nil, nil, 0, 0, -1, true},
	}
	for k, tt := range tests {
		i, ok := Close(tt.got, tt.want, tt.rtol, tt.atol)
		if i != tt.i || ok != tt.ok {
			t.Errorf("case %d: Close(%v, %v) = %d, %v; want %d, %v", k, tt.got, tt.want, i, ok, tt.i, tt.ok)
		}
	}
}

func TestAccessorErrors(t *testing.T) {
	f := mustLoad(t, "dense")
	c := f.Cases[0]
	if _, err := c.Tensor("nope"); err == nil {
		t.Error("Tensor on a missing field: no error")
	}
	if _, err := c.Tensor("name"); err == nil {
		t.Error("Tensor on a string: no error")
	}
	if _, err := c.Float("x"); err == nil {
		t.Error("Float on a 4x3 tensor: no error")
	}
	if _, err := c.Tensors("x"); err == nil {
		t.Error("Tensors on a tensor: no error")
	}
	if _, err := f.Case("nope"); err == nil {
		t.Error("Case(nope): no error")
	}
	bad := Case{"name": []byte(`"bad"`), "t": []byte(`{"shape":[2,2],"data":[1,2,3]}`)}
	if _, err := bad.Tensor("t"); err == nil {
		t.Error("data length 3 for shape [2,2]: no error")
	}
	if _, err := Load("does_not_exist"); err == nil {
		t.Error("Load(does_not_exist): no error")
	}
}
