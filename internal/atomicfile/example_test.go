package atomicfile_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/myelin-go/myelin/internal/atomicfile"
)

func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "weights.txt")

	err = atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, "w = 0.5")
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))

	// Leftovers of a writer killed mid-write.
	os.WriteFile(filepath.Join(dir, ".weights.txt.tmp-0123456789abcdef"), nil, 0o644)
	n, err := atomicfile.CleanTemps(dir)
	fmt.Println(n, err)
	// Output:
	// w = 0.5
	// 1 <nil>
}
