package model

import (
	"fmt"

	"github.com/myelin-go/myelin/safetensors"
)

// A model file is a safetensors file: each weight is the tensor
// "<layer>/<weight>" (dense/kernel, batch_normalization/moving_mean, ...),
// and the metadata holds "format": "myelin", "format_version": "1" and
// "architecture", the JSON that Architecture returns. Any safetensors
// reader can read the weights.

// FormatVersion is the version of the model file layout this package writes.
const FormatVersion = "1"

// File returns the model as a safetensors file (architecture in the
// metadata, weights and state as tensors).
func (m *Sequential) File() (*safetensors.File, error) {
	if !m.built {
		return nil, ErrNotBuilt
	}
	arch, err := m.Architecture()
	if err != nil {
		return nil, err
	}
	f := &safetensors.File{Metadata: map[string]string{"format": "myelin", "format_version": FormatVersion, "architecture": string(arch)}}
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			name := l.Name() + "/" + w.Name
			if d := w.Value.Float32s(); d != nil {
				f.Tensors = append(f.Tensors, safetensors.F32(name, w.Value.Shape(), d))
			} else {
				f.Tensors = append(f.Tensors, safetensors.F64(name, w.Value.Shape(), w.Value.Float64s()))
			}
		}
	}
	return f, nil
}

// Save writes the model to path atomically: a crash mid-save leaves any
// previous file at path intact.
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
