package layers

import (
	"encoding/json"
	"fmt"
)

// Size2 is a pair (rows, columns): a kernel or pool size, strides, a
// dilation rate. In JSON it is a two-element array; as in Keras, a single
// number n also reads as (n, n).
type Size2 [2]int

// UnmarshalJSON reads [rows, columns] or a single number.
func (s *Size2) UnmarshalJSON(b []byte) error {
	var n int
	if json.Unmarshal(b, &n) == nil {
		*s = Size2{n, n}
		return nil
	}
	var a [2]int
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) != 2 {
		return fmt.Errorf("layers: size %s: want a number or [rows, columns]", b)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("layers: size %s: %w", b, err)
	}
	*s = a
	return nil
}

// positive returns an error naming the layer and field unless both values
// are positive.
func (s Size2) positive(typ, field string) error {
	if s[0] < 1 || s[1] < 1 {
		return fmt.Errorf("layers: %s: %s %v must be positive", typ, field, [2]int(s))
	}
	return nil
}

// spatial returns (height, width, channels) from a feature shape, or an
// error naming the layer.
func spatial(typ, name string, in []int) (h, w, c int, err error) {
	if len(in) != 3 || in[0] <= 0 || in[1] <= 0 || in[2] <= 0 {
		return 0, 0, 0, fmt.Errorf("layers: %s %q: input feature shape %v, want (height, width, channels)", typ, name, in)
	}
	return in[0], in[1], in[2], nil
}
