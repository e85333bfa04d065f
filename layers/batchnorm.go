package layers

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// BatchNormalization normalizes each feature over the batch, then scales it
// by Gamma and shifts it by Beta (Ioffe and Szegedy 2015, arXiv:1502.03167).
// Features are the last axis.
//
// Training normalizes with the batch mean and biased variance, and folds
// them into the moving statistics:
//
//	moving = Momentum·moving + (1 − Momentum)·batch
//
// Inference normalizes with the moving statistics. Defaults are Keras's:
// Momentum 0.99, Epsilon 1e-3, Center and Scale on.
//
// Two conventions differ from PyTorch's BatchNorm1d. Momentum is the share
// kept, so PyTorch's momentum is 1 − Momentum: Keras's 0.99 is PyTorch's
// 0.01, and PyTorch's default 0.1 is Momentum 0.9. And Keras (and this
// layer, by default) folds the biased batch variance into MovingVariance,
// while PyTorch folds the unbiased one, m/(m−1) times larger for a batch of
// m; set UnbiasedMovingVariance to follow PyTorch. Its ε default is 1e-5,
// not 1e-3.
//
// A training batch of one sample is an error: its variance is zero.
type BatchNormalization struct {
	Base
	Momentum float64 `json:"momentum"` // share of the moving statistics kept at each step
	Epsilon  float64 `json:"epsilon"`  // added to the variance before the square root
	Center   bool    `json:"center"`   // learn Beta
	Scale    bool    `json:"scale"`    // learn Gamma
	// UnbiasedMovingVariance folds the unbiased batch variance into
	// MovingVariance, as PyTorch does.
	UnbiasedMovingVariance bool `json:"unbiased_moving_variance,omitempty"`

	Gamma, Beta                *autodiff.Var  `json:"-"` // trainable; nil when off
	MovingMean, MovingVariance *tensor.Tensor `json:"-"` // state: saved, never trained

	pendMean, pendVar *tensor.Tensor // batch statistics awaiting Commit
	pendM             int
}

// NewBatchNormalization returns the layer with Keras's defaults.
func NewBatchNormalization() *BatchNormalization {
	return &BatchNormalization{Momentum: 0.99, Epsilon: 1e-3, Center: true, Scale: true}
}

func init() { Register("BatchNormalization", func() Layer { return NewBatchNormalization() }) }

// Type returns "BatchNormalization".
func (l *BatchNormalization) Type() string { return "BatchNormalization" }

func (l *BatchNormalization) validate() error {
	if !(l.Momentum >= 0 && l.Momentum <= 1) {
		return fmt.Errorf("layers: BatchNormalization: momentum %g outside [0, 1]", l.Momentum)
	}
	if !(l.Epsilon > 0) || math.IsInf(l.Epsilon, 0) {
		return fmt.Errorf("layers: BatchNormalization: epsilon %g must be positive and finite", l.Epsilon)
	}
	return nil
}

// Build sizes the layer for inputs whose last axis holds the features.
func (l *BatchNormalization) Build(in tensor.Shape, dt tensor.DType, _ *rand.Rand) (tensor.Shape, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	n, err := featureLen("BatchNormalization", in)
	if err != nil {
		return nil, err
	}
	l.Gamma, l.Beta = nil, nil
	if l.Scale {
		l.Gamma = autodiff.NewParam(tensor.Ones(dt, n), l.Name()+"/gamma")
	}
	if l.Center {
		l.Beta = autodiff.NewParam(tensor.Zeros(dt, n), l.Name()+"/beta")
	}
	l.freeze(l.Gamma, l.Beta)
	l.MovingMean, l.MovingVariance = tensor.Zeros(dt, n), tensor.Ones(dt, n)
	l.pendMean, l.pendVar = nil, nil
	l.built = true
	return in.Clone(), nil
}

// Forward normalizes x with batch statistics when p.Training (and the layer
// is not Frozen), holding their moving-average update until Commit;
// otherwise with the moving statistics.
func (l *BatchNormalization) Forward(p *Pass, x *autodiff.Var) *autodiff.Var {
	return l.forward(p, x, false)
}

// ForwardReLU is Forward followed by a ReLU, in one op (nn.BatchNormReLU
// and its kin): the same values and gradients, one pass over memory
// fewer each way.
func (l *BatchNormalization) ForwardReLU(p *Pass, x *autodiff.Var) *autodiff.Var {
	return l.forward(p, x, true)
}

// InferenceNorm returns the moving statistics, gamma, beta and epsilon
// when Forward normalizes with the moving statistics in p's mode, for
// InferenceNormer.
func (l *BatchNormalization) InferenceNorm(p *Pass) (nn.Norm, bool) {
	if p.Training && !l.Frozen {
		return nn.Norm{}, false
	}
	return nn.Norm{Mean: l.MovingMean, Variance: l.MovingVariance, Gamma: l.Gamma, Beta: l.Beta, Epsilon: l.Epsilon}, true
}

func (l *BatchNormalization) forward(p *Pass, x *autodiff.Var, relu bool) *autodiff.Var {
	if n, ok := l.InferenceNorm(p); ok {
		if relu {
			return nn.NormalizeReLU(p.Tape, x, n.Mean, n.Variance, n.Gamma, n.Beta, n.Epsilon)
		}
		return nn.Normalize(p.Tape, x, n.Mean, n.Variance, n.Gamma, n.Beta, n.Epsilon)
	}
	if p.Shards != nil {
		bn := nn.BatchNormSync
		if relu {
			bn = nn.BatchNormSyncReLU
		}
		y, mean, variance, n := bn(p.Tape, x, l.Gamma, l.Beta, l.Epsilon, p.Shards)
		if p.Replica || p.Shards.Rank() == 0 { // every member has the same statistics
			l.pendMean, l.pendVar, l.pendM = mean, variance, n
		}
		return y
	}
	bn := nn.BatchNorm
	if relu {
		bn = nn.BatchNormReLU
	}
	y, mean, variance := bn(p.Tape, x, l.Gamma, l.Beta, l.Epsilon)
	l.pendMean, l.pendVar = mean, variance
	l.pendM = x.Value.Len() / max(mean.Len(), 1)
	return y
}

// Commit folds the batch statistics of the last training Forward into the
// moving statistics. Non-finite statistics are never committed.
func (l *BatchNormalization) Commit() {
	if l.pendMean == nil {
		return
	}
	mean, variance := l.pendMean, l.pendVar
	l.pendMean, l.pendVar = nil, nil
	if !mean.AllFinite() || !variance.AllFinite() {
		return
	}
	w := 1 - l.Momentum
	tensor.Lerp(l.MovingMean, mean, w)
	if l.UnbiasedMovingVariance && l.pendM > 1 {
		c := float64(l.pendM) / float64(l.pendM-1)
		for i := range l.MovingVariance.Len() {
			mv := l.MovingVariance.Index(i)
			l.MovingVariance.SetIndex(i, mv+w*(c*variance.Index(i)-mv))
		}
		return
	}
	tensor.Lerp(l.MovingVariance, variance, w)
}

// Discard drops the batch statistics of the last training Forward.
func (l *BatchNormalization) Discard() { l.pendMean, l.pendVar = nil, nil }

// Weights returns gamma and beta (when on) as parameters, then
// moving_mean and moving_variance as state.
func (l *BatchNormalization) Weights() []Weight {
	if !l.built {
		return nil
	}
	var ws []Weight
	if l.Gamma != nil {
		ws = append(ws, Weight{Name: "gamma", Value: l.Gamma.Value, Param: l.Gamma})
	}
	if l.Beta != nil {
		ws = append(ws, Weight{Name: "beta", Value: l.Beta.Value, Param: l.Beta})
	}
	return append(ws,
		Weight{Name: "moving_mean", Value: l.MovingMean},
		Weight{Name: "moving_variance", Value: l.MovingVariance})
}

// Moving returns MovingMean, MovingVariance and Epsilon, for Normalizer.
func (l *BatchNormalization) Moving() (mean, variance *tensor.Tensor, epsilon float64) {
	return l.MovingMean, l.MovingVariance, l.Epsilon
}

// Affine returns Gamma and Beta, for Normalizer.
func (l *BatchNormalization) Affine() (gamma, beta *autodiff.Var) { return l.Gamma, l.Beta }

// BatchStatistics reports whether the layer is not Frozen, for Normalizer.
func (l *BatchNormalization) BatchStatistics() bool { return !l.Frozen }

// Unbiased returns UnbiasedMovingVariance, for Normalizer.
func (l *BatchNormalization) Unbiased() bool { return l.UnbiasedMovingVariance }

// WeightCount returns (2 + Scale + Center)·features: the moving mean and
// variance, and gamma and beta when on.
func (l *BatchNormalization) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) {
	if len(in) == 0 {
		return 0, nil, false
	}
	k := uint64(2)
	if l.Scale {
		k++
	}
	if l.Center {
		k++
	}
	return SatMul(k, uint64(in[len(in)-1])), in, true
}
