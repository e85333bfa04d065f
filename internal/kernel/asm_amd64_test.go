//go:build amd64 && !noasm

package kernel

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAsmNoLegacySSE: no assembly instruction here is a legacy-encoded
// SSE one on an X register. After a VEX instruction has written a Y or Z
// register, a legacy SSE instruction costs Intel's cores a state
// transition of hundreds of cycles each way: on the Intel host of
// BENCHMARKS.md, two MOVQ AX, X14 in the Adam loops' set-up made a
// 32-element call take 480–500 ns instead of 40 (BenchmarkAdamStepShort). VMOVQ and the other VEX forms do the same
// work without it.
func TestAsmNoLegacySSE(t *testing.T) {
	files, err := filepath.Glob("*_amd64.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no assembly found: %v", err)
	}
	stmt := regexp.MustCompile(`^([A-Z][A-Z0-9]*)\s+(.*)$`)
	xreg := regexp.MustCompile(`\bX\d+\b`)
	define := regexp.MustCompile(`^#define\s+\w+(\([^)]*\))?\s*`)
	checked := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			code, _, _ := strings.Cut(line, "//")
			for _, s := range strings.Split(code, ";") { // macros chain instructions with ;
				s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), `\`))
				s = define.ReplaceAllString(s, "") // the macro's name and parameters
				m := stmt.FindStringSubmatch(s)
				if m == nil {
					continue
				}
				checked++
				if xreg.MatchString(m[2]) && !strings.HasPrefix(m[1], "V") && !strings.HasPrefix(m[1], "K") {
					t.Errorf("%s:%d: %s is a legacy SSE instruction on an X register; use its VEX form (V%s)", f, i+1, s, m[1])
				}
			}
		}
	}
	if checked < 500 {
		t.Fatalf("checked only %d instructions: the parser missed the assembly", checked)
	}
}
