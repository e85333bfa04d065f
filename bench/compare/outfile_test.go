package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteReportKeepsHistory: --out replaces the report above the end
// marker and keeps the hand-written history below it.
func TestWriteReportKeepsHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	history := "## Run-to-run variation\n\nrun 8: 2.46×\n"
	if err := os.WriteFile(path, []byte("# old report\nold figures\n"+endMarker+"\n"+history), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBench(config{rounds: 1, epRounds: 1, epochs: 5, maxProcs: 2})
	report := b.report("x")
	if !strings.HasSuffix(report, endMarker+"\n") {
		t.Fatalf("report does not end with the marker: %q", report[max(0, len(report)-200):])
	}
	if err := writeReport(path, report); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := report + history; string(got) != want {
		t.Errorf("file after --out:\n%s\nwant the new report, then the history:\n%s", got, want)
	}
	// A file without the marker is replaced whole.
	os.WriteFile(path, []byte("no marker here\n"), 0o644)
	if err := writeReport(path, report); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != report {
		t.Errorf("a file without the marker: got %q..., want the report alone", string(got)[:min(len(got), 80)])
	}
}
