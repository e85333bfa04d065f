package model

import (
	"math"

	"github.com/myelin-go/myelin/safetensors"
	"github.com/myelin-go/myelin/tensor"
)

// The one bridge between tensors and safetensors: model files and
// checkpoints both write through toSafetensors and read through
// fromSafetensors, and check dtypes against stDType.

// stDType returns the safetensors dtype that holds tensors of dt.
func stDType(dt tensor.DType) safetensors.DType {
	if dt == tensor.Float64 {
		return safetensors.DTypeF64
	}
	return safetensors.DTypeF32
}

// toSafetensors returns t as the safetensors tensor name, sharing t's data.
func toSafetensors(name string, t *tensor.Tensor) safetensors.Tensor {
	if d := t.Float32s(); d != nil {
		return safetensors.F32(name, t.Shape(), d)
	}
	return safetensors.F64(name, t.Shape(), t.Float64s())
}

// fromSafetensors copies st's values into dst, whose shape the caller has
// checked, converting them to dst's dtype.
func fromSafetensors(dst *tensor.Tensor, st *safetensors.Tensor) error {
	if d := dst.Float32s(); d != nil {
		v, err := st.Float32s()
		if err != nil {
			return err
		}
		copy(d, v)
		return nil
	}
	v, err := st.Float64s()
	if err != nil {
		return err
	}
	copy(dst.Float64s(), v)
	return nil
}

// firstNonFinite returns the index of t's first NaN or infinite element,
// or -1 when every element is finite.
func firstNonFinite(t *tensor.Tensor) int {
	if t.AllFinite() {
		return -1
	}
	for i := range t.Len() {
		if v := t.Index(i); math.IsNaN(v) || math.IsInf(v, 0) {
			return i
		}
	}
	return -1
}
