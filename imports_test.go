package myelin_test

import (
	"fmt"
	"go/build"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const modulePath = "github.com/myelin-go/myelin"

// levels gives each package of the module its level in doc.go's package
// map. A new package needs a line here and one in doc.go.
var levels = map[string]int{
	"internal/kernel": 0, "internal/atomicfile": 0, "internal/jsonstrict": 0, "internal/protowire": 0, "internal/term": 0,
	"internal/golden": 0, "internal/vulngate": 0, "data/idx": 0, "data/csv": 0, "data/npy": 0, "data/imagefile": 0,
	"optimizers/schedules":   0,
	"bench/internal/fmapeak": 0,
	"tensor":                 1, "safetensors": 1, "reduce": 1,
	"autodiff": 2, "distributed": 2, "data/mnist": 2,
	"nn": 3, "metrics": 3, "internal/gradcheck": 3,
	"layers": 4, "losses": 4, "optimizers": 4,
	"model":   5,
	"monitor": 6, "tensorboard": 6, "callbacks": 6, "onnx": 6,
	"report":     7,
	"experiment": 8,
	"cmd/myelin": 9, "bench/compare": 9,
	"": 10, // package myelin: the documentation
}

// TestImportLevels checks that every package imports only packages of
// lower levels, so that the arrows of doc.go's map point one way, and that
// doc.go lists every package.
func TestImportLevels(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := modulePackages(t)
	if len(pkgs) < 20 {
		t.Fatalf("found %d packages, want the module's 25 or more: the walk is broken", len(pkgs))
	}
	if !slices.Contains(pkgs["model"], modulePath+"/layers") {
		t.Fatalf("model's imports %q lack layers: the walk does not read imports", pkgs["model"])
	}
	for _, e := range levelErrors(pkgs, levels) {
		t.Error(e)
	}
	for rel := range pkgs {
		if rel != "" && rel != "bench/internal/fmapeak" && !strings.Contains(string(doc), " "+rel+" ") && !strings.Contains(string(doc), " "+rel+",") {
			t.Errorf("doc.go's package map does not list %q", rel)
		}
	}
}

// TestImportLevelsCanFail checks that levelErrors sees an upward import, a
// same-level import and a package without a level.
func TestImportLevelsCanFail(t *testing.T) {
	pkgs := map[string][]string{
		"layers": {modulePath + "/model", modulePath + "/nn"},
		"losses": {modulePath + "/optimizers"},
		"new":    nil,
		"nn":     {modulePath + "/autodiff", "fmt"},
	}
	got := levelErrors(pkgs, levels)
	want := []string{
		"layers (level 4) imports model (level 5): an import may only point to a lower level",
		"losses (level 4) imports optimizers (level 4): an import may only point to a lower level",
		`package "new" has no level: add it to levels in imports_test.go and to doc.go's map`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("levelErrors:\n got %q\nwant %q", got, want)
	}
}

// levelErrors returns, sorted by package, what breaks the levels: a
// package without one, or an import of the module at the same level or
// above.
func levelErrors(pkgs map[string][]string, levels map[string]int) []string {
	var errs []string
	for _, rel := range slices.Sorted(maps.Keys(pkgs)) {
		lv, ok := levels[rel]
		if !ok {
			errs = append(errs, fmt.Sprintf("package %q has no level: add it to levels in imports_test.go and to doc.go's map", rel))
			continue
		}
		for _, imp := range pkgs[rel] {
			dep, ok := strings.CutPrefix(imp, modulePath+"/")
			if !ok {
				continue // the standard library or another module
			}
			if dl, ok := levels[dep]; ok && dl >= lv {
				errs = append(errs, fmt.Sprintf("%s (level %d) imports %s (level %d): an import may only point to a lower level", rel, lv, dep, dl))
			}
		}
	}
	return errs
}

// modulePackages returns each package directory of the module, relative
// to its root ("" for the root), with the module imports of its non-test
// files. Directories with their own go.mod (nested modules), testdata and
// hidden ones are skipped.
func modulePackages(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != "." {
			if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		p, err := build.Default.ImportDir(path, 0)
		if err != nil {
			if _, ok := err.(*build.NoGoError); ok {
				return nil
			}
			return err
		}
		rel := filepath.ToSlash(path)
		if rel == "." {
			rel = ""
		}
		var imps []string
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, modulePath+"/") {
				imps = append(imps, imp)
			}
		}
		out[rel] = imps
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
