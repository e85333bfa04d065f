package metrics

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Running state, for checkpoints taken in the middle of an epoch: every
// metric here implements encoding.BinaryMarshaler and BinaryUnmarshaler.
// The encoding is two little-endian uint64s: the counts of correct and of
// all decisions for the accuracies, the bits of the weighted total and of
// the total weight for Mean. Configuration (Threshold, a Mean's name) is
// not part of the state.

// MarshalBinary returns the counts of correct and of all decisions.
func (t *tally) MarshalBinary() ([]byte, error) {
	return pair(uint64(t.correct), uint64(t.total)), nil
}

// UnmarshalBinary restores counts written by MarshalBinary.
func (t *tally) UnmarshalBinary(b []byte) error {
	c, n, err := unpair(b)
	if err != nil {
		return err
	}
	if int64(c) < 0 || int64(n) < 0 || c > n {
		return fmt.Errorf("metrics: state: %d correct of %d decisions", int64(c), int64(n))
	}
	t.correct, t.total = int64(c), int64(n)
	return nil
}

// MarshalBinary returns the weighted total and the total weight.
func (m *Mean) MarshalBinary() ([]byte, error) {
	return pair(math.Float64bits(m.total), math.Float64bits(m.weight)), nil
}

// UnmarshalBinary restores a state written by MarshalBinary.
func (m *Mean) UnmarshalBinary(b []byte) error {
	s, w, err := unpair(b)
	if err != nil {
		return err
	}
	total, weight := math.Float64frombits(s), math.Float64frombits(w)
	if math.IsNaN(total) || math.IsInf(total, 0) || !(weight >= 0) || math.IsInf(weight, 0) {
		return fmt.Errorf("metrics: state: total %g with weight %g", total, weight)
	}
	m.total, m.weight = total, weight
	return nil
}

func pair(a, b uint64) []byte {
	return binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(make([]byte, 0, 16), a), b)
}

func unpair(b []byte) (uint64, uint64, error) {
	if len(b) != 16 {
		return 0, 0, fmt.Errorf("metrics: state of %d bytes, want 16", len(b))
	}
	return binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:]), nil
}
