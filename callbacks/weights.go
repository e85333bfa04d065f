package callbacks

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

// snapshot is a copy of every weight of a model, parameters and state
// (batch-norm moving statistics) alike: what Keras's get_weights returns.
// Its buffers are allocated once, by alloc, and reused by every take.
type snapshot struct {
	f32 [][]float32 // one per weight of a float32 model, in layer and Weights order
	f64 [][]float64 // the same for a float64 model
}

// eachWeight calls fn with every weight tensor of m in a fixed order.
func eachWeight(m *model.Sequential, fn func(t *tensor.Tensor)) {
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			fn(w.Value)
		}
	}
}

// alloc sizes the buffers for m's weights.
func (s *snapshot) alloc(m *model.Sequential) {
	s.f32, s.f64 = s.f32[:0], s.f64[:0]
	eachWeight(m, func(t *tensor.Tensor) {
		if t.Float32s() != nil {
			s.f32 = append(s.f32, make([]float32, t.Len()))
		} else {
			s.f64 = append(s.f64, make([]float64, t.Len()))
		}
	})
}

// take copies m's weights into the buffers.
func (s *snapshot) take(m *model.Sequential) {
	i, j := 0, 0
	eachWeight(m, func(t *tensor.Tensor) {
		if d := t.Float32s(); d != nil {
			copy(s.f32[i], d)
			i++
		} else {
			copy(s.f64[j], t.Float64s())
			j++
		}
	})
}

// restore copies the buffers into m's weights, in place.
func (s *snapshot) restore(m *model.Sequential) {
	i, j := 0, 0
	eachWeight(m, func(t *tensor.Tensor) {
		if d := t.Float32s(); d != nil {
			copy(d, s.f32[i])
			i++
		} else {
			copy(t.Float64s(), s.f64[j])
			j++
		}
	})
}

// size returns the length of the bytes appendTo writes.
func (s *snapshot) size() int {
	n := 0
	for _, b := range s.f32 {
		n += 4 * len(b)
	}
	for _, b := range s.f64 {
		n += 8 * len(b)
	}
	return n
}

// appendTo appends the buffers to b, little-endian, bit for bit.
func (s *snapshot) appendTo(b []byte) []byte {
	for _, w := range s.f32 {
		for _, v := range w {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	for _, w := range s.f64 {
		for _, v := range w {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b
}

// setFrom reads what appendTo wrote into the buffers, which alloc sized.
func (s *snapshot) setFrom(b []byte) error {
	if len(b) != s.size() {
		return fmt.Errorf("saved weights hold %d bytes, the model's weights %d", len(b), s.size())
	}
	for _, w := range s.f32 {
		for i := range w {
			w[i] = math.Float32frombits(binary.LittleEndian.Uint32(b))
			b = b[4:]
		}
	}
	for _, w := range s.f64 {
		for i := range w {
			w[i] = math.Float64frombits(binary.LittleEndian.Uint64(b))
			b = b[8:]
		}
	}
	return nil
}
