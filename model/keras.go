package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/myelin-go/myelin/nn"
)

// Keras's own architecture JSON, the output of model.to_json() for a
// Sequential model, is read as well as myelin's, so that a Keras user's
// file trains unchanged. Both generations are understood:
//
//   - Keras 2 (tf.keras): {"class_name": "Sequential", "config": {"name",
//     "layers": [...]}, "keras_version", "backend"}; the input shape is an
//     InputLayer's (or the first layer's) "batch_input_shape", dtypes are
//     strings.
//   - Keras 3: the same with "module" and "registered_name" beside each
//     class_name, "batch_shape" for the InputLayer, dtypes as DTypePolicy
//     objects ({"class_name": "DTypePolicy", "config": {"name":
//     "float32"}}), "build_config" per layer and "build_input_shape".
//
// The layers are InputLayer, Dense, Activation, BatchNormalization and
// Dropout, with Keras's field names and defaults. Reading is strict: an
// unknown layer class, an unknown field, or an option myelin lacks
// (a regularizer or constraint that is not null, an activation other than
// linear, relu, sigmoid, tanh and softmax, a BatchNormalization axis other
// than the last, renorm, an initializer seed) is an error naming it, never
// a silently different model. A compile_config is ignored (train's flags
// choose the optimizer and loss). Keras seeds nothing here: the model's weights
// come from myelin's seed (train --seed).

// isKerasJSON reports whether b looks like Keras's to_json output rather
// than myelin's architecture JSON: Keras writes "keras_version" and
// "backend" (and Keras 3 "module") at the top, and an InputLayer first.
func isKerasJSON(b []byte) bool {
	var top struct {
		KerasVersion *json.RawMessage `json:"keras_version"`
		Backend      *json.RawMessage `json:"backend"`
		Module       *json.RawMessage `json:"module"`
		Config       struct {
			Layers []struct {
				ClassName string `json:"class_name"`
			} `json:"layers"`
		} `json:"config"`
	}
	if json.Unmarshal(b, &top) != nil {
		return false
	}
	if top.KerasVersion != nil || top.Backend != nil || top.Module != nil {
		return true
	}
	return len(top.Config.Layers) > 0 && top.Config.Layers[0].ClassName == "InputLayer"
}

// kerasError is an error about a Keras file; where says which part.
func kerasError(where, format string, args ...any) error {
	if where != "" {
		where += ": "
	}
	return fmt.Errorf("model: Keras JSON: "+where+format, args...)
}

// kobj is a JSON object whose fields are taken one by one, so that what is
// left at the end is what was not understood.
type kobj struct {
	where  string
	fields map[string]json.RawMessage
}

func newKobj(where string, raw json.RawMessage) (*kobj, error) {
	o := &kobj{where: where}
	if err := json.Unmarshal(raw, &o.fields); err != nil || o.fields == nil {
		return nil, kerasError(where, "want a JSON object, got %s", short(raw))
	}
	return o, nil
}

// take decodes field k into v if present, reporting whether it was.
func (o *kobj) take(k string, v any) (bool, error) {
	raw, ok := o.fields[k]
	if !ok {
		return false, nil
	}
	delete(o.fields, k)
	if err := json.Unmarshal(raw, v); err != nil {
		return true, kerasError(o.where, "%s: want %T, got %s", k, v, short(raw))
	}
	return true, nil
}

// raw takes field k undecoded (nil when absent).
func (o *kobj) raw(k string) json.RawMessage {
	r := o.fields[k]
	delete(o.fields, k)
	return r
}

// null takes fields that must be absent or null: options myelin lacks.
func (o *kobj) null(ks ...string) error {
	for _, k := range ks {
		r, ok := o.fields[k]
		delete(o.fields, k)
		if ok && string(bytes.TrimSpace(r)) != "null" {
			return kerasError(o.where, "%s %s is not supported (want null)", k, short(r))
		}
	}
	return nil
}

// want takes field k, which may only hold one of the given JSON values
// (Keras's default and its equivalents).
func (o *kobj) want(k string, ok ...string) error {
	r, present := o.fields[k]
	delete(o.fields, k)
	if !present {
		return nil
	}
	var v any
	if json.Unmarshal(r, &v) != nil {
		return kerasError(o.where, "%s: invalid JSON %s", k, short(r))
	}
	norm, _ := json.Marshal(v)
	if !slices.Contains(ok, string(norm)) {
		return kerasError(o.where, "%s %s is not supported (want %s)", k, short(r), strings.Join(ok, " or "))
	}
	return nil
}

// done fails on any field not taken.
func (o *kobj) done() error {
	if len(o.fields) == 0 {
		return nil
	}
	keys := make([]string, 0, len(o.fields))
	for k := range o.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return kerasError(o.where, "unknown or unsupported field %q", keys[0])
}

// short quotes at most 60 bytes of raw JSON for an error.
func short(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	if s == "" {
		s = "nothing"
	}
	return s
}

// kerasActivation returns myelin's name for a Keras activation.
func kerasActivation(where string, raw json.RawMessage) (string, error) {
	var s *string
	if json.Unmarshal(raw, &s) != nil {
		return "", kerasError(where, "activation: want a name, got %s", short(raw))
	}
	if s == nil {
		return "linear", nil
	}
	if _, err := nn.ParseActivation(*s); err != nil {
		return "", kerasError(where, "activation %q is not supported (want linear, relu, sigmoid, tanh or softmax)", *s)
	}
	return *s, nil
}
