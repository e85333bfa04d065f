package onnx

import (
	"fmt"
	"sync"

	"github.com/myelin-go/myelin/layers"
)

// LayerExporter adds to g the nodes that compute layer l at inference from
// its input x, and returns the layer's output. An error says what about
// the layer cannot be written; Export wraps it in a LayerError naming the
// layer.
type LayerExporter func(g *Graph, l layers.Layer, x Value) (Value, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]LayerExporter{}
)

// Register makes f the exporter of the layer type typ (a layer's Type(),
// e.g. "Dense"), as image.RegisterFormat does for decoders: each built-in
// layer registers from its own file in this package, and a new layer type
// joins by registering its own. It panics if typ already has an exporter
// or f is nil, as database/sql.Register does.
func Register(typ string, f LayerExporter) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if f == nil {
		panic("onnx: Register: nil exporter for " + typ)
	}
	if _, dup := registry[typ]; dup {
		panic(fmt.Sprintf("onnx: Register called twice for layer type %q", typ))
	}
	registry[typ] = f
}

// lookup returns the exporter of typ, or nil.
func lookup(typ string) LayerExporter {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return registry[typ]
}
