package monitor

import (
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

// BatchNorm records, for each batch-norm layer (each layers.Normalizer,
// such as BatchNormalization), how its moving statistics compare with the
// statistics of a fixed held-out batch X, and what that difference does to
// its output. At Step 0 (before the first step of the first Fit) and every
// Every-th step it runs X through the model twice — in training mode (X's
// own batch statistics, no dropout) and in inference mode (the moving
// statistics) — leaving the model unchanged, and records per layer:
//
//   - MeanDrift, the root mean square over features of (μ_X − μ_moving)/√(σ²_moving + ε):
//     how far the moving mean is from X's mean, in moving standard deviations;
//   - VarDrift, the root mean square over features of ln((σ²_X + ε)/(σ²_moving + ε)):
//     0 when the variances agree, ln 2 ≈ 0.69 when one is twice the other;
//   - TrainInferGap, ‖y_train − y_infer‖/‖y_train‖ over the layer's output on
//     X, each pass the whole network in its mode, so the gap includes what
//     earlier layers' drift did to this layer's input;
//   - GammaNorm and BetaNorm, the L2 norms of the scale and shift (0 when
//     the layer has none).
//
// X's statistics stand for a training batch's: using the same samples at
// every record makes records comparable across steps. The drifts are zero,
// and the gap is zero up to rounding, when the moving statistics are X's
// population statistics (Recalibrate on X). A model without batch
// normalization gets no records. Each record costs two forward passes of X.
type BatchNorm struct {
	model.BaseCallback

	// X is the held-out batch, shaped like the model's input, of at least
	// two samples.
	X *tensor.Tensor
	// Every is the sampling period in steps; 0 means 100.
	Every int

	// Records holds one entry per batch-norm layer per sampled step.
	Records []BatchNormRecord

	m        *model.Sequential
	x        *tensor.Tensor
	bns      []int // indices of the batch-norm layers (layers.Normalizer)
	trainTp  *autodiff.Tape
	inferTp  *autodiff.Tape
	trainOut []*autodiff.Var
	inferOut []*autodiff.Var
	acc      moments
	step     int
	every    int
}

// BatchNormRecord is one batch-norm layer at one sampled step.
type BatchNormRecord struct {
	Step          int    // global step, from 1 across epochs and Fit calls; 0 is before training
	Layer         string // layer name
	MeanDrift     float64
	VarDrift      float64
	TrainInferGap float64
	GammaNorm     float64
	BetaNorm      float64
}

// OnTrainBegin finds the batch-norm layers and, on the first Fit, records
// Step 0.
func (b *BatchNorm) OnTrainBegin(m *model.Sequential) error {
	x, err := checkBatch("BatchNorm", m, b.X, 2)
	if err != nil {
		return err
	}
	b.m, b.x, b.every = m, x, every(b.Every, 100)
	b.bns = b.bns[:0]
	for i, l := range m.Layers {
		if _, ok := l.(layers.Normalizer); ok {
			b.bns = append(b.bns, i)
		}
	}
	if b.trainTp == nil {
		b.trainTp, b.inferTp = newTape(), newTape()
	}
	if b.step == 0 {
		b.record()
	}
	return nil
}

// OnBatchEnd records on sampled steps.
func (b *BatchNorm) OnBatchEnd(_, _ int, _ model.Logs) error {
	b.step++
	if b.step%b.every == 0 {
		b.record()
	}
	return nil
}

// Reset forgets the records and restarts the step count.
func (b *BatchNorm) Reset() {
	b.Records = b.Records[:0]
	b.step = 0
}

func (b *BatchNorm) record() {
	if len(b.bns) == 0 {
		return
	}
	// The layers before the first batch norm compute the same in both
	// modes (dropout is skipped or is the identity): run them once.
	first, upto := b.bns[0], b.bns[len(b.bns)-1]+1
	b.trainOut = forward(b.trainOut, b.m, b.trainTp, b.x, upto, true, false)
	b.inferTp.Reset()
	p := layers.Pass{Tape: b.inferTp}
	in := b.inferTp.Const(b.x)
	if first > 0 {
		in = b.trainOut[first-1]
	}
	b.inferOut = append(b.inferOut[:0], b.trainOut[:first]...)
	b.m.Forward(&p, in, model.Walk{From: first, Upto: upto, Outputs: &b.inferOut})
	for _, i := range b.bns {
		bn := b.m.Layers[i].(layers.Normalizer)
		movMean, movVar, eps := bn.Moving()
		gamma, beta := bn.Affine()
		in := b.x
		if i > 0 {
			in = b.trainOut[i-1].Value
		}
		b.acc.n = 0
		b.acc.add(in)
		r := BatchNormRecord{Step: b.step, Layer: bn.Name()}
		f := len(b.acc.mean)
		md, vd := 0.0, 0.0
		for j := range f {
			mv := movVar.Index(j) + eps
			d := b.acc.mean[j] - movMean.Index(j)
			md += d * d / mv
			l := math.Log((b.acc.m2[j]/b.acc.n + eps) / mv)
			vd += l * l
		}
		r.MeanDrift = math.Sqrt(md / float64(f))
		r.VarDrift = math.Sqrt(vd / float64(f))
		yt, yi := b.trainOut[i].Value, b.inferOut[i].Value
		if d, t := diffSumSq(yt, yi), sumSq(yt); t > 0 {
			r.TrainInferGap = math.Sqrt(d / t)
		} else {
			r.TrainInferGap = math.Sqrt(d)
		}
		if gamma != nil {
			r.GammaNorm = math.Sqrt(sumSq(gamma.Value))
		}
		if beta != nil {
			r.BetaNorm = math.Sqrt(sumSq(beta.Value))
		}
		b.Records = append(b.Records, r)
	}
}
