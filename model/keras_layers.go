package model

// One file for the translation table of Keras layer configurations: each
// supported class is a short case, and keeping them together shows what
// myelin accepts of Keras's format at a glance.

import (
	"encoding/json"
	"fmt"
	"math"
)

// kerasToArch translates Keras's to_json output (see keras.go) into
// myelin's architecture JSON.
func kerasToArch(b []byte) ([]byte, error) {
	top, err := newKobj("", b)
	if err != nil {
		return nil, err
	}
	var class string
	if _, err := top.take("class_name", &class); err != nil {
		return nil, err
	}
	if class != "Sequential" {
		return nil, kerasError("", "class_name %q: only Sequential models are read", class)
	}
	var ignore any
	// compile_config (Keras 3, when compiled) is training's business: train's
	// flags choose the optimizer and loss.
	for _, k := range []string{"keras_version", "backend", "module", "registered_name", "build_config", "compile_config"} {
		if _, err := top.take(k, &ignore); err != nil {
			return nil, err
		}
	}
	cfg, err := newKobj("config", top.raw("config"))
	if err != nil {
		return nil, err
	}
	if err := top.done(); err != nil {
		return nil, err
	}
	k := &kerasModel{}
	if _, err := cfg.take("name", &k.name); err != nil {
		return nil, err
	}
	if err := cfg.want("trainable", "true"); err != nil {
		return nil, err
	}
	if r := cfg.raw("dtype"); r != nil {
		if err := k.dtype("config", r); err != nil {
			return nil, err
		}
	}
	if r := cfg.raw("build_input_shape"); r != nil {
		if err := k.inputShape("config", "build_input_shape", r); err != nil {
			return nil, err
		}
	}
	var layers []json.RawMessage
	if _, err := cfg.take("layers", &layers); err != nil {
		return nil, err
	}
	if err := cfg.done(); err != nil {
		return nil, err
	}
	for i, raw := range layers {
		if err := k.layer(i, raw); err != nil {
			return nil, err
		}
	}
	a := Arch{ClassName: "Sequential", Config: ArchConfig{Name: k.name, DType: k.dt, InputShape: k.in, Layers: k.layers}}
	return json.Marshal(a)
}

// kerasModel collects a translation.
type kerasModel struct {
	name   string
	dt     string // "" until a dtype is seen
	in     []int
	layers []LayerArch
}

// dtype reads a dtype, a string (Keras 2) or a DTypePolicy (Keras 3); all
// must agree, as myelin models have one dtype.
func (k *kerasModel) dtype(where string, raw json.RawMessage) error {
	var name string
	if json.Unmarshal(raw, &name) != nil {
		pol, err := newKobj(where+": dtype", raw)
		if err != nil {
			return err
		}
		var ignore any
		for _, f := range []string{"module", "registered_name", "class_name"} {
			if _, err := pol.take(f, &ignore); err != nil {
				return err
			}
		}
		c, err := newKobj(where+": dtype: config", pol.raw("config"))
		if err != nil {
			return err
		}
		if _, err := c.take("name", &name); err != nil {
			return err
		}
		if err := c.done(); err != nil {
			return err
		}
		if err := pol.done(); err != nil {
			return err
		}
	}
	if name != "float32" && name != "float64" {
		return kerasError(where, "dtype %q is not supported (want float32 or float64)", name)
	}
	if k.dt != "" && k.dt != name {
		return kerasError(where, "dtype %s, but an earlier layer has %s (a myelin model has one dtype)", name, k.dt)
	}
	k.dt = name
	return nil
}

// inputShape reads a batch shape, [null, d1, ...], as the model's input
// shape [d1, ...].
func (k *kerasModel) inputShape(where, field string, raw json.RawMessage) error {
	var s []*int
	if err := json.Unmarshal(raw, &s); err != nil || len(s) < 2 {
		return kerasError(where, "%s: want [batch, features...], got %s", field, short(raw))
	}
	in := make([]int, 0, len(s)-1)
	for _, d := range s[1:] {
		if d == nil || *d <= 0 {
			return kerasError(where, "%s %s: want every dimension after the batch known and positive", field, short(raw))
		}
		in = append(in, *d)
	}
	if k.in != nil && fmt.Sprint(k.in) != fmt.Sprint(in) {
		return kerasError(where, "%s gives input shape %v, but an earlier one gave %v", field, in, k.in)
	}
	k.in = in
	return nil
}

// layer translates one layer of config.layers.
func (k *kerasModel) layer(i int, raw json.RawMessage) error {
	where := fmt.Sprintf("layer %d", i)
	l, err := newKobj(where, raw)
	if err != nil {
		return err
	}
	var class string
	if _, err := l.take("class_name", &class); err != nil {
		return err
	}
	where = fmt.Sprintf("layer %d (%s)", i, class)
	l.where = where
	var ignore any
	for _, f := range []string{"module", "registered_name", "build_config", "inbound_nodes"} {
		if _, err := l.take(f, &ignore); err != nil {
			return err
		}
	}
	c, err := newKobj(where+": config", l.raw("config"))
	if err != nil {
		return err
	}
	if err := l.done(); err != nil {
		return err
	}
	out := map[string]any{}
	// The fields every layer has.
	var name string
	if ok, err := c.take("name", &name); err != nil {
		return err
	} else if ok {
		out["name"] = name
	}
	var trainable *bool
	if _, err := c.take("trainable", &trainable); err != nil {
		return err
	}
	if trainable != nil && !*trainable {
		out["frozen"] = true
	}
	if r := c.raw("dtype"); r != nil {
		if err := k.dtype(where, r); err != nil {
			return err
		}
	}
	for _, f := range []string{"batch_input_shape", "batch_shape"} {
		if r := c.raw(f); r != nil {
			if err := k.inputShape(where, f, r); err != nil {
				return err
			}
		}
	}
	conv, ok := kerasLayers[class]
	if !ok {
		return kerasError(where, "layer class %q is not supported (want InputLayer, Dense, Activation, BatchNormalization or Dropout)", class)
	}
	if err := conv(c, out); err != nil {
		return err
	}
	if err := c.done(); err != nil {
		return err
	}
	if class == "InputLayer" {
		if k.in == nil {
			return kerasError(where, "no batch_input_shape or batch_shape")
		}
		return nil
	}
	cfg, err := json.Marshal(out)
	if err != nil {
		return err
	}
	k.layers = append(k.layers, LayerArch{ClassName: class, Config: cfg})
	return nil
}

// kerasLayers translate each layer class's own fields from c into out,
// myelin's configuration of the layer.
var kerasLayers = map[string]func(c *kobj, out map[string]any) error{
	"InputLayer": func(c *kobj, out map[string]any) error {
		return first(c.want("sparse", "false"), c.want("ragged", "false"), c.want("optional", "false"))
	},
	"Dense": func(c *kobj, out map[string]any) error {
		var units int
		if ok, err := c.take("units", &units); err != nil {
			return err
		} else if !ok {
			return kerasError(c.where, "units: missing")
		}
		out["units"] = units
		out["activation"] = "linear"
		if r := c.raw("activation"); r != nil {
			a, err := kerasActivation(c.where, r)
			if err != nil {
				return err
			}
			out["activation"] = a
		}
		useBias := true
		if _, err := c.take("use_bias", &useBias); err != nil {
			return err
		}
		out["use_bias"] = useBias
		for f, def := range map[string]string{"kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"} {
			init := map[string]any{"kind": def}
			if r := c.raw(f); r != nil {
				var err error
				if init, err = kerasInitializer(c.where+": "+f, r); err != nil {
					return err
				}
			}
			out[f] = init
		}
		return first(c.null("kernel_regularizer", "bias_regularizer", "activity_regularizer",
			"kernel_constraint", "bias_constraint", "quantization_config", "lora_rank"),
			c.want("lora_alpha", "null"))
	},
	"Activation": func(c *kobj, out map[string]any) error {
		r := c.raw("activation")
		if r == nil {
			return kerasError(c.where, "activation: missing")
		}
		a, err := kerasActivation(c.where, r)
		out["activation"] = a
		return err
	},
	"Dropout": func(c *kobj, out map[string]any) error {
		var rate float64
		if ok, err := c.take("rate", &rate); err != nil {
			return err
		} else if !ok {
			return kerasError(c.where, "rate: missing")
		}
		out["rate"] = rate
		return c.null("noise_shape", "seed")
	},
	"BatchNormalization": func(c *kobj, out map[string]any) error {
		out["momentum"], out["epsilon"], out["center"], out["scale"] = 0.99, 1e-3, true, true
		var f float64
		var bl bool
		for _, name := range []string{"momentum", "epsilon"} {
			if ok, err := c.take(name, &f); err != nil {
				return err
			} else if ok {
				out[name] = f
			}
		}
		for _, name := range []string{"center", "scale"} {
			if ok, err := c.take(name, &bl); err != nil {
				return err
			} else if ok {
				out[name] = bl
			}
		}
		for name, want := range map[string]string{"beta_initializer": "zeros", "gamma_initializer": "ones",
			"moving_mean_initializer": "zeros", "moving_variance_initializer": "ones"} {
			if r := c.raw(name); r != nil {
				init, err := kerasInitializer(c.where+": "+name, r)
				if err != nil {
					return err
				}
				if init["kind"] != want {
					return kerasError(c.where, "%s %s is not supported (want %s)", name, init["kind"], want)
				}
			}
		}
		// renorm_momentum and renorm_clipping only matter with renorm.
		var ignore any
		if _, err := c.take("renorm_momentum", &ignore); err != nil {
			return err
		}
		if _, err := c.take("renorm_clipping", &ignore); err != nil {
			return err
		}
		return first(c.want("axis", "-1", "[-1]", "1", "[1]"), c.want("renorm", "false"), c.want("synchronized", "false"),
			c.want("fused", "null", "true", "false"),
			c.null("beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
				"virtual_batch_size", "adjustment"))
	},
}

// first returns the first non-nil error.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// kerasInitializer translates a Keras initializer, {"class_name":
// "GlorotUniform", "config": {"seed": null}} (Keras 3 adds "module" and
// "registered_name") or a bare name, into myelin's {"kind", "scale"}.
func kerasInitializer(where string, raw json.RawMessage) (map[string]any, error) {
	var name string
	var c *kobj
	if json.Unmarshal(raw, &name) != nil {
		o, err := newKobj(where, raw)
		if err != nil {
			return nil, err
		}
		if _, err := o.take("class_name", &name); err != nil {
			return nil, err
		}
		var ignore any
		for _, f := range []string{"module", "registered_name"} {
			if _, err := o.take(f, &ignore); err != nil {
				return nil, err
			}
		}
		if r := o.raw("config"); r != nil {
			if c, err = newKobj(where+": config", r); err != nil {
				return nil, err
			}
		}
		if err := o.done(); err != nil {
			return nil, err
		}
	}
	if c == nil {
		c = &kobj{where: where, fields: map[string]json.RawMessage{}}
	}
	kinds := map[string]string{
		"GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal", "HeNormal": "he_normal",
		"HeUniform": "he_uniform", "Zeros": "zeros", "Ones": "ones", "RandomNormal": "random_normal",
		"RandomUniform": "random_uniform",
	}
	kind, ok := kinds[name]
	if !ok {
		for _, v := range kinds {
			if v == name {
				kind, ok = v, true
			}
		}
	}
	if !ok {
		return nil, kerasError(where, "initializer %q is not supported (want GlorotUniform, GlorotNormal, HeNormal, HeUniform, Zeros, Ones, RandomNormal or RandomUniform)", name)
	}
	out := map[string]any{"kind": kind}
	if err := c.null("seed"); err != nil {
		return nil, fmt.Errorf("%w (myelin seeds every initializer from the model's seed)", err)
	}
	switch kind {
	case "random_normal":
		mean, std := 0.0, 0.05
		if _, err := c.take("mean", &mean); err != nil {
			return nil, err
		}
		if _, err := c.take("stddev", &std); err != nil {
			return nil, err
		}
		if mean != 0 {
			return nil, kerasError(where, "RandomNormal mean %g is not supported (want 0)", mean)
		}
		out["scale"] = std
	case "random_uniform":
		lo, hi := -0.05, 0.05
		if _, err := c.take("minval", &lo); err != nil {
			return nil, err
		}
		if _, err := c.take("maxval", &hi); err != nil {
			return nil, err
		}
		if lo != -hi || math.IsNaN(hi) {
			return nil, kerasError(where, "RandomUniform [%g, %g] is not supported (want [-a, a])", lo, hi)
		}
		out["scale"] = hi
	}
	return out, c.done()
}
