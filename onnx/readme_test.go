package onnx

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/tensor"
)

// TestREADMESnippet runs the Node snippet of README.md's "ONNX export"
// section in ONNX Runtime on an exported model and checks the class and
// probability it prints against Predict on the same blank image.
func TestREADMESnippet(t *testing.T) {
	modules := ortModules(t)
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(readme), "\n## ONNX export\n")
	if !ok {
		t.Fatal(`README.md has no "## ONNX export" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	_, code, ok := strings.Cut(sec, "```js\n")
	if ok {
		code, _, ok = strings.Cut(code, "```")
	}
	if !ok {
		t.Fatal("README.md's ONNX export section has no ```js block")
	}
	m := founding(t)
	randomizeBN(m, 5)
	var buf bytes.Buffer
	if err := Export(&buf, m, Options{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script, onnxPath := filepath.Join(dir, "run.js"), filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(script, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(onnxPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runClient(t, []string{"NODE_PATH=" + modules}, "node", script, onnxPath)

	p := predict(t, m, tensor.New(tensor.Float32, 1, 784)).Float32s()
	c := argmax(p)
	if want := fmt.Sprintf("class %d p %.4f\n", c, p[c]); string(out) != want {
		t.Errorf("the README snippet printed %q, want %q", out, want)
	}
}
