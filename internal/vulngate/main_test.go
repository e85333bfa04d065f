package main

import (
	"strings"
	"testing"
)

const stdlibFinding = `{"finding": {"osv": "GO-2026-6599", "fixed_version": "v1.26.9", "trace": [{"module": "stdlib", "version": "v1.26.8", "package": "html/template", "function": "Execute"}]}}`
const moduleFinding = `{"finding": {"osv": "GO-2026-0001", "fixed_version": "v0.39.0", "trace": [{"module": "golang.org/x/image", "version": "v0.30.0", "package": "golang.org/x/image/tiff", "function": "Decode"}]}}`
const unreached = `{"finding": {"osv": "GO-2026-0002", "fixed_version": "v1.0.0", "trace": [{"module": "example.com/m", "version": "v0.9.0", "package": "example.com/m/p"}]}}`

func TestGate(t *testing.T) {
	for _, c := range []struct {
		name, in string
		code     int
		out      string
	}{
		{"none", `{"config": {}}` + "\n" + unreached, 0, "no vulnerability is reached"},
		{"stdlib warns", stdlibFinding + stdlibFinding, 0, "warning: GO-2026-6599 in html/template"},
		{"module fails", stdlibFinding + "\n" + moduleFinding, 3, "FAIL: GO-2026-0001 in golang.org/x/image@v0.30.0 (golang.org/x/image/tiff): fixed in v0.39.0"},
	} {
		var b strings.Builder
		code, err := gate(strings.NewReader(c.in), &b)
		if err != nil || code != c.code || !strings.Contains(b.String(), c.out) {
			t.Errorf("%s: code %d, err %v, output %q; want code %d and %q", c.name, code, err, b.String(), c.code, c.out)
		}
	}
	if _, err := gate(strings.NewReader(`{"finding": `), &strings.Builder{}); err == nil {
		t.Error("truncated JSON was accepted")
	}
}
