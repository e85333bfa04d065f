package main

import (
	"errors"
	"io/fs"
	"os"
	"strings"
)

// endMarker ends the generated report. In the file --out names, what
// follows the marker (the history of earlier runs, written by hand) is
// kept when a new run replaces the report above it.
const endMarker = "<!-- End of the report bench/compare writes. --out keeps everything below this line. -->"

// writeReport writes report to path, followed by whatever the file held
// after its end marker; a file without the marker is replaced whole.
func writeReport(path, report string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if _, tail, ok := strings.Cut(string(old), endMarker+"\n"); ok {
		report += tail
	}
	return os.WriteFile(path, []byte(report), 0o644)
}
