package model

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/tensor"
)

// Resuming: the checks that a checkpoint continues the run a Fit is about
// to start (same settings, same data), and the restoring of what runs
// inside an epoch (callback and metric states, the generators).

// checkResume verifies that ck continues the run Fit is about to start.
func (m *Sequential) checkResume(ck *Checkpoint, run *fitRun) error {
	if ck.m != m {
		return errors.New("model: Fit: Resume: the checkpoint was loaded into another model; use the model LoadCheckpoint returned")
	}
	if ck.used {
		return errors.New("model: Fit: Resume: the checkpoint was already resumed from; load it again")
	}
	st, got := &ck.st, run.settings
	want := st.Settings
	var diffs []string
	diff := func(name string, g, w any) {
		if g == w {
			return
		}
		// A number left at zero was not set, rather than chosen: say so,
		// and name the value the run recorded.
		if g == 0 || g == 0.0 {
			diffs = append(diffs, fmt.Sprintf("%s not set (the checkpoint has %v; set it to that)", name, w))
			return
		}
		diffs = append(diffs, fmt.Sprintf("%s %v (the checkpoint has %v)", name, g, w))
	}
	diff("BatchSize", got.BatchSize, want.BatchSize)
	diff("training samples", got.Samples, want.Samples)
	diff("shuffle", got.Shuffle, want.Shuffle)
	diff("DropIncomplete", got.DropIncomplete, want.DropIncomplete)
	diff("ValidationSplit", got.ValidationSplit, want.ValidationSplit)
	diff("validation data given", got.ValidationData, want.ValidationData)
	diff("validation samples", got.ValidationSamples, want.ValidationSamples)
	diff("steps per epoch", run.steps, st.StepsPerEpoch)
	diff("StepsPerEpoch", got.StepsLimit, want.StepsLimit)
	diff("ValidationFreq", got.ValidationFreq, want.ValidationFreq)
	if got.ShardSize != want.ShardSize {
		diffs = append(diffs, fmt.Sprintf("ShardSize %s (the checkpoint has %s)", shardWords(got.ShardSize), shardWords(want.ShardSize)))
	}
	if got.SplitFirstLayer != want.SplitFirstLayer {
		diffs = append(diffs, fmt.Sprintf("SplitFirstLayer %v (the checkpoint has %v)", got.SplitFirstLayer, want.SplitFirstLayer))
	}
	if got.Ranks != want.Ranks {
		diffs = append(diffs, fmt.Sprintf("%d ranks (the checkpoint has %d)", max(got.Ranks, 1), max(want.Ranks, 1)))
	}
	if got.BatchNormPerRank != want.BatchNormPerRank {
		diffs = append(diffs, fmt.Sprintf("BatchNormPerRank %v (the checkpoint has %v)", got.BatchNormPerRank, want.BatchNormPerRank))
	}
	if got.SampleWeights != want.SampleWeights {
		switch {
		case want.SampleWeights == "":
			diffs = append(diffs, "sample or class weights set (the run had none)")
		case got.SampleWeights == "":
			diffs = append(diffs, "sample or class weights not set (the run had them)")
		default:
			diffs = append(diffs, "sample or class weights (their SHA-256 differs)")
		}
	}
	if len(diffs) == 0 && st.DataSHA256 != "" {
		run.dataSum = dataSHA256(run.x, run.y)
		if run.dataSum != st.DataSHA256 {
			diffs = append(diffs, "training data (its SHA-256 differs)")
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("model: Fit: Resume: %s: %s", ck.Path, strings.Join(diffs, "; "))
	}
	ck.used = true // the model moves on from here
	return nil
}

// resumeOptions fills the zero BatchSize and Epochs of a resumed Fit from
// the checkpoint and checks InitialEpoch and Epochs against it.
func resumeOptions(opt *FitOptions) error {
	ck := opt.Resume
	if opt.InitialEpoch != 0 {
		return fmt.Errorf("model: Fit: InitialEpoch %d with Resume: the checkpoint sets the epoch", opt.InitialEpoch)
	}
	if opt.BatchSize == 0 {
		opt.BatchSize = ck.st.Settings.BatchSize
	}
	if opt.Epochs == 0 {
		opt.Epochs = ck.st.Epochs
	}
	if opt.ShardSize == 0 {
		opt.ShardSize = ck.st.Settings.ShardSize
		opt.SplitFirstLayer = opt.SplitFirstLayer || ck.st.Settings.SplitFirstLayer
	}
	if opt.Epochs < ck.st.Epoch || opt.Epochs == ck.st.Epoch && ck.st.Step > 0 {
		pos := fmt.Sprintf("epoch %d, step %d", ck.st.Epoch+1, ck.st.Step)
		if ck.st.Step == 0 {
			pos = fmt.Sprintf("the end of epoch %d", ck.st.Epoch)
		}
		return fmt.Errorf("model: Fit: Epochs %d ends before the checkpoint's position (%s; the run it continues had Epochs %d)", opt.Epochs, pos, ck.st.Epochs)
	}
	opt.InitialEpoch = ck.st.Epoch
	return nil
}

func restoreCallbacks(ck *Checkpoint, cbs []Callback) error {
	for i, c := range cbs {
		sc, ok := c.(StatefulCallback)
		if !ok {
			continue
		}
		for _, s := range ck.st.Callbacks {
			if s.Key == cbKey(i, c) {
				if err := sc.RestoreCheckpointState(s.State); err != nil {
					return fmt.Errorf("model: Fit: Resume: callback %T: %w", c, err)
				}
			}
		}
	}
	return nil
}

func cbKey(i int, c Callback) string { return fmt.Sprintf("%d/%T", i, c) }

func pcgHex(p *rand.PCG) string {
	b, _ := p.MarshalBinary() // cannot fail
	return hex.EncodeToString(b)
}

// dataSHA256 hashes the shapes and elements of x and y. A uint8 x is
// hashed as the values the model sees, in y's dtype (the model's), so that
// a run on bytes resumes one on the same data as floats, and back.
func dataSHA256(x, y *tensor.Tensor) string {
	h := sha256.New()
	buf := make([]byte, 0, 64<<10)
	for _, t := range []*tensor.Tensor{x, y} {
		if t.DType() == tensor.Uint8 {
			hashUint8(h, t, y.DType(), buf)
			continue
		}
		fmt.Fprintf(h, "%s %s;", t.DType(), t.Shape())
		if d := t.Float32s(); d != nil {
			for _, v := range d {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				if len(buf) == cap(buf) {
					h.Write(buf)
					buf = buf[:0]
				}
			}
		} else {
			for _, v := range t.Float64s() {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
				if len(buf) == cap(buf) {
					h.Write(buf)
					buf = buf[:0]
				}
			}
		}
		h.Write(buf)
		buf = buf[:0]
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashUint8 writes to h what dataSHA256 writes for t converted to dt,
// converting a block at a time through buf's memory.
func hashUint8(h io.Writer, t *tensor.Tensor, dt tensor.DType, buf []byte) {
	fmt.Fprintf(h, "%s %s;", dt, t.Shape())
	q, div := t.Uint8s(), t.Divisor()
	const block = 4096
	var f32 []float32
	var f64 []float64
	if dt == tensor.Float64 {
		f64 = make([]float64, block)
	} else {
		f32 = make([]float32, block)
	}
	for lo := 0; lo < len(q); lo += block {
		part := q[lo:min(lo+block, len(q))]
		buf = buf[:0]
		if f64 != nil {
			kernel.Uint8ToFloat64(f64[:len(part)], part, div)
			for _, v := range f64[:len(part)] {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
			}
		} else {
			kernel.Uint8ToFloat32(f32[:len(part)], part, div)
			for _, v := range f32[:len(part)] {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
		}
		h.Write(buf)
	}
}

// Metric state: a metric saves its running counts through
// encoding.BinaryMarshaler and BinaryUnmarshaler, as every metric of
// package metrics does; one that does not can be checkpointed only at
// epoch ends, where no running state is needed.

func metricStateOf(mt metrics.Metric) ([]byte, error) {
	bm, ok1 := mt.(encoding.BinaryMarshaler)
	_, ok2 := mt.(encoding.BinaryUnmarshaler)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("model: checkpoint: metric %q (%T) cannot save its running state; implement encoding.BinaryMarshaler and BinaryUnmarshaler, or checkpoint at epoch ends only", mt.Name(), mt)
	}
	return bm.MarshalBinary()
}

func restoreMetrics(ms []metrics.Metric, saved []metricState) error {
	if len(saved) != len(ms) {
		return fmt.Errorf("model: Fit: Resume: the checkpoint has %d metric states for %d metrics", len(saved), len(ms))
	}
	for i, mt := range ms {
		s := saved[i]
		if s.Name != mt.Name() {
			return fmt.Errorf("model: Fit: Resume: metric %d is %q, the checkpoint has %q", i, mt.Name(), s.Name)
		}
		bu, ok := mt.(encoding.BinaryUnmarshaler)
		if !ok {
			return fmt.Errorf("model: Fit: Resume: metric %q (%T) cannot restore its running state", mt.Name(), mt)
		}
		if err := bu.UnmarshalBinary(s.State); err != nil {
			return fmt.Errorf("model: Fit: Resume: metric %q: %w", mt.Name(), err)
		}
	}
	return nil
}

func shardWords(n int) string {
	if n == 0 {
		return "0 (whole batches)"
	}
	return fmt.Sprint(n)
}
