package onnx

import (
	"runtime/debug"
	"strings"
)

const modulePath = "github.com/myelin-go/myelin"

// Version returns the version of the myelin module in this program's
// build information ("v1.2.0", or "devel" for a build from a work tree),
// which Export writes as the model's producer_version.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := ""
	if bi.Main.Path == modulePath {
		v = bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			v = d.Version
		}
	}
	if v == "" || v == "(devel)" {
		return "devel"
	}
	return strings.TrimSpace(v)
}
