package layers

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/myelin-go/myelin/internal/jsonstrict"
	"github.com/myelin-go/myelin/tensor"
)

// Initializer fills a new weight. It names a Keras initializer and, for
// the random ones, a scale:
//
//	glorot_uniform  U(±Scale·√(6/(fan_in+fan_out)))     Scale 0 means 1 (Keras's default kernel)
//	glorot_normal   N(0, Scale²·2/(fan_in+fan_out)), truncated at 2σ
//	he_normal       N(0, Scale²·2/fan_in), truncated at 2σ
//	he_uniform      U(±Scale·√(6/fan_in))
//	random_normal   N(0, Scale²)                          Scale 0 means 0.05, Keras's stddev
//	random_uniform  U(±Scale)                             Scale 0 means 0.05
//	zeros, ones     constants
//
// Keras's truncated normals redraw values beyond two standard deviations and
// correct the variance for it (factor 0.87962566103423978); so do these.
type Initializer struct {
	Kind  string  `json:"kind"`
	Scale float64 `json:"scale,omitempty"`
}

// The common initializers.
var (
	GlorotUniform = Initializer{Kind: "glorot_uniform"}
	GlorotNormal  = Initializer{Kind: "glorot_normal"}
	HeNormal      = Initializer{Kind: "he_normal"}
	HeUniform     = Initializer{Kind: "he_uniform"}
	Zeros         = Initializer{Kind: "zeros"}
	Ones          = Initializer{Kind: "ones"}
)

// RandomNormal returns the N(0, stddev²) initializer.
func RandomNormal(stddev float64) Initializer {
	return Initializer{Kind: "random_normal", Scale: stddev}
}

// Scaled returns i with its spread multiplied by s (for glorot and he kinds).
func (i Initializer) Scaled(s float64) Initializer {
	if i.Scale == 0 {
		i.Scale = 1
	}
	i.Scale *= s
	return i
}

// UnmarshalJSON accepts either {"kind": ..., "scale": ...} or a bare Keras
// name. The object is read strictly, as the configuration around it is: a
// decoder's DisallowUnknownFields does not reach into UnmarshalJSON.
func (i *Initializer) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*i = Initializer{Kind: s}
		return i.validate()
	}
	type plain Initializer
	var p plain
	if err := jsonstrict.Decode(b, &p); err != nil {
		return err
	}
	*i = Initializer(p)
	return i.validate()
}

func (i Initializer) validate() error {
	switch i.Kind {
	case "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "random_normal", "random_uniform", "zeros", "ones":
	default:
		return fmt.Errorf("layers: unknown initializer %q (want glorot_uniform, glorot_normal, he_normal, he_uniform, random_normal, random_uniform, zeros or ones)", i.Kind)
	}
	if i.Scale < 0 || math.IsNaN(i.Scale) || math.IsInf(i.Scale, 0) {
		return fmt.Errorf("layers: initializer %s: scale %g must be finite and ≥ 0", i.Kind, i.Scale)
	}
	return nil
}

const truncCorrection = 0.87962566103423978 // std of N(0,1) truncated to ±2

// Fill sets t's values; fanIn and fanOut are the kernel's input and output sizes.
func (i Initializer) Fill(t *tensor.Tensor, fanIn, fanOut int, rng *rand.Rand) {
	s := i.Scale
	def := func(d float64) float64 {
		if s == 0 {
			return d
		}
		return s
	}
	n := t.Len()
	switch i.Kind {
	case "zeros":
		t.Zero()
	case "ones":
		t.Fill(1)
	case "glorot_uniform":
		uniform(t, def(1)*math.Sqrt(6/float64(fanIn+fanOut)), rng)
	case "he_uniform":
		uniform(t, def(1)*math.Sqrt(6/float64(fanIn)), rng)
	case "random_uniform":
		uniform(t, def(0.05), rng)
	case "glorot_normal":
		truncNormal(t, def(1)*math.Sqrt(2/float64(fanIn+fanOut))/truncCorrection, rng)
	case "he_normal":
		truncNormal(t, def(1)*math.Sqrt(2/float64(fanIn))/truncCorrection, rng)
	case "random_normal":
		sd := def(0.05)
		for k := range n {
			t.SetIndex(k, sd*rng.NormFloat64())
		}
	default:
		panic("layers: unknown initializer " + i.Kind)
	}
}

func uniform(t *tensor.Tensor, limit float64, rng *rand.Rand) {
	for k := range t.Len() {
		t.SetIndex(k, limit*(2*rng.Float64()-1))
	}
}

func truncNormal(t *tensor.Tensor, sd float64, rng *rand.Rand) {
	for k := range t.Len() {
		v := rng.NormFloat64()
		for v < -2 || v > 2 {
			v = rng.NormFloat64()
		}
		t.SetIndex(k, sd*v)
	}
}
