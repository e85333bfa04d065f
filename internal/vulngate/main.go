// Command vulngate reads `govulncheck -format json` on standard input and
// decides what fails CI: a vulnerability that this module's code reaches in
// a module it requires fails (exit 3), since `go get module@fixed` mends it;
// one in the standard library is reported as a warning, because its fix is
// a newer Go toolchain than the one the machine provides, which the project
// cannot install. Findings not reached from the code (imported or required
// but not called) are ignored, as govulncheck's own exit status does.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
)

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
}

type message struct {
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []frame `json:"trace"`
	} `json:"finding"`
}

func main() {
	code, err := gate(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

// gate returns 3 when a required module's vulnerability is reached, else 0.
func gate(r io.Reader, w io.Writer) (int, error) {
	type key struct{ osv, module string }
	found := map[key]frame{}
	fixed := map[key]string{}
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return 0, fmt.Errorf("reading govulncheck's JSON: %w", err)
		}
		f := m.Finding
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue // not reached from this module's code
		}
		k := key{f.OSV, f.Trace[0].Module}
		found[k], fixed[k] = f.Trace[0], f.FixedVersion
	}
	keys := make([]key, 0, len(found))
	for k := range found {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].osv != keys[j].osv {
			return keys[i].osv < keys[j].osv
		}
		return keys[i].module < keys[j].module
	})
	code := 0
	for _, k := range keys {
		fr := found[k]
		if k.module == "stdlib" {
			fmt.Fprintf(w, "warning: %s in %s (%s): fixed in Go %s; this machine's Go is %s, so it waits for a toolchain update\n",
				k.osv, fr.Package, fr.Version, fixed[k], runtime.Version())
			continue
		}
		fmt.Fprintf(w, "FAIL: %s in %s@%s (%s): fixed in %s: go get %s@%s\n", k.osv, k.module, fr.Version, fr.Package, fixed[k], k.module, fixed[k])
		code = 3
	}
	if len(keys) == 0 {
		fmt.Fprintln(w, "no vulnerability is reached from this module's code")
	}
	return code, nil
}
