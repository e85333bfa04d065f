package nn

import (
	"fmt"

	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/tensor"
)

// Padding is how a convolution or pooling window treats the border, by
// Keras's names: Valid keeps only windows inside the image; Same pads so
// that the output has ceil(in/stride) pixels per axis.
type Padding uint8

// The paddings.
const (
	Valid Padding = iota
	Same
)

// String returns "valid" or "same".
func (p Padding) String() string {
	switch p {
	case Valid:
		return "valid"
	case Same:
		return "same"
	}
	return fmt.Sprintf("padding(%d)", int(p))
}

// MarshalText writes the Keras name.
func (p Padding) MarshalText() ([]byte, error) {
	if p > Same {
		return nil, fmt.Errorf("nn: unknown padding %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText reads "valid" or "same".
func (p *Padding) UnmarshalText(b []byte) error {
	switch string(b) {
	case "valid":
		*p = Valid
	case "same":
		*p = Same
	default:
		return fmt.Errorf("nn: unknown padding %q (want valid or same)", b)
	}
	return nil
}

// OutSize returns the output length along one axis of a window of k taps
// spaced d apart (dilation), moved s per output (stride), over n inputs,
// and the padding before the first input, as TensorFlow (and so Keras)
// computes them:
//
//	valid: out = floor((n − (k−1)·d − 1)/s) + 1, no padding
//	same:  out = ceil(n/s), total padding max((out−1)·s + (k−1)·d + 1 − n, 0),
//	       of which floor(total/2) before and the rest (the odd pixel) after
//
// PyTorch's padding is symmetric: matching "same" with an odd total there
// takes an explicit F.pad. out ≤ 0 means the window does not fit.
func OutSize(n, k, s, d int, p Padding) (out, before int) {
	span := (k-1)*d + 1
	if p == Valid {
		if n < span {
			return 0, 0
		}
		return (n-span)/s + 1, 0
	}
	out = (n + s - 1) / s
	total := max((out-1)*s+span-n, 0)
	return out, total / 2
}

// window returns the geometry of a kh×kw window over x, shaped (N, H, W,
// C), panicking when the window does not fit.
func window(op string, xs tensor.Shape, kh, kw, sh, sw, dh, dw int, p Padding) kernel.Window {
	if len(xs) != 4 {
		tensor.Panicf(op, []tensor.Shape{xs}, "want input (batch, height, width, channels)")
	}
	if kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 {
		tensor.Panicf(op, []tensor.Shape{xs}, "window %d×%d, strides %d×%d, dilation %d×%d must be positive", kh, kw, sh, sw, dh, dw)
	}
	g := kernel.Window{N: xs[0], H: xs[1], W: xs[2], C: xs[3], KH: kh, KW: kw, SH: sh, SW: sw, DH: dh, DW: dw}
	g.OH, g.PadTop = OutSize(g.H, kh, sh, dh, p)
	g.OW, g.PadLeft = OutSize(g.W, kw, sw, dw, p)
	if g.OH <= 0 || g.OW <= 0 {
		tensor.Panicf(op, []tensor.Shape{xs}, "a %d×%d window (dilation %d×%d) does not fit a %d×%d image with %s padding", kh, kw, dh, dw, g.H, g.W, p)
	}
	return g
}
