package layers

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/myelin-go/myelin/internal/jsonstrict"
)

// The registry maps a Type name to a function making an unconfigured
// layer of that type, as image.RegisterFormat and Keras's
// register_keras_serializable do: architecture JSON names layers by type,
// and each type adds itself from its own file.
var registry struct {
	sync.RWMutex
	make map[string]func() Layer
}

// Register makes the layer type typeName known to New, and so to model
// files and architecture JSON. factory returns a new layer with the
// type's defaults, whose Type() is typeName; New then sets its exported
// fields from the JSON configuration. Call Register from an init function
// in the layer's own file. It panics when typeName is empty or already
// registered, or factory is nil, as database/sql.Register does: two
// packages claiming one name is a bug to see at once.
func Register(typeName string, factory func() Layer) {
	if typeName == "" {
		panic("layers: Register: empty type name")
	}
	if factory == nil {
		panic("layers: Register: nil factory for " + typeName)
	}
	registry.Lock()
	defer registry.Unlock()
	if registry.make == nil {
		registry.make = map[string]func() Layer{}
	}
	if _, dup := registry.make[typeName]; dup {
		panic("layers: Register: type " + typeName + " registered twice")
	}
	registry.make[typeName] = factory
}

// Types returns the registered type names, sorted.
func Types() []string {
	registry.RLock()
	defer registry.RUnlock()
	ts := make([]string, 0, len(registry.make))
	for t := range registry.make {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// New returns an unbuilt layer of the registered type typ configured from
// cfg (as written by Config). Unknown types, unknown fields and duplicate
// keys are errors.
func New(typ string, cfg json.RawMessage) (Layer, error) {
	registry.RLock()
	factory := registry.make[typ]
	registry.RUnlock()
	if factory == nil {
		return nil, fmt.Errorf("layers: unknown layer type %q (registered: %s)", typ, strings.Join(Types(), ", "))
	}
	l := factory()
	if l == nil || l.Type() != typ {
		return nil, fmt.Errorf("layers: the factory registered for %q made %s", typ, describe(l))
	}
	if len(cfg) > 0 {
		if err := jsonstrict.Decode(cfg, l); err != nil {
			return nil, fmt.Errorf("layers: %s config: %w", typ, err)
		}
	}
	if v, ok := l.(interface{ validate() error }); ok {
		if err := v.validate(); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func describe(l Layer) string {
	if l == nil {
		return "nil"
	}
	return fmt.Sprintf("a layer of type %q", l.Type())
}
