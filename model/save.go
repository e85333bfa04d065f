package model

import (
	"fmt"

	"github.com/myelin-go/myelin/safetensors"
)

// A model file is a safetensors file: each weight is the tensor
// "<layer>/<weight>" (dense/kernel, batch_normalization/moving_mean, ...),
// and the metadata holds "format": "myelin", "format_version": "1" and
// "architecture", the JSON that Architecture returns, and "dataset", the
// JSON of Sequential.Dataset when it is set (see DatasetInfo). Any safetensors
// reader can read the weights.

// FormatVersion is the version of the model file layout this package writes.
const FormatVersion = "1"

// File returns the model as a safetensors file (architecture in the
// metadata, weights and state as tensors). It fails, naming the weight,
// when a value is NaN or infinite: Load refuses such a file, and a file
// myelin writes is a file it loads.
func (m *Sequential) File() (*safetensors.File, error) {
	if !m.built {
		return nil, ErrNotBuilt
	}
	arch, err := m.Architecture()
	if err != nil {
		return nil, err
	}
	f := &safetensors.File{Metadata: map[string]string{"format": "myelin", "format_version": FormatVersion, "architecture": string(arch)}}
	if err := m.putDataset(f.Metadata); err != nil {
		return nil, err
	}
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			name := l.Name() + "/" + w.Name
			if i := firstNonFinite(w.Value); i >= 0 {
				return nil, fmt.Errorf("model: %s holds NaN or infinity at element %d; not saving it (a file myelin writes must load)", name, i)
			}
			f.Tensors = append(f.Tensors, toSafetensors(name, w.Value))
		}
	}
	return f, nil
}

// Save writes the model to path atomically: a crash mid-save leaves any
// previous file at path intact. Like File, it refuses NaN and infinite
// values, and then writes nothing.
func (m *Sequential) Save(path string) error {
	f, err := m.File()
	if err != nil {
		return err
	}
	if err := safetensors.WriteFile(path, f); err != nil {
		return fmt.Errorf("model: saving %s: %w", path, err)
	}
	return nil
}
