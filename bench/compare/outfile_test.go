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

// TestBenchmarksFile: the repository's BENCHMARKS.md has the end marker
// once (so --out BENCHMARKS.md keeps its history), and no verdict in its
// criteria table leans on a figure quoted from elsewhere.
func TestBenchmarksFile(t *testing.T) {
	root, err := findRoot("")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "BENCHMARKS.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if n := strings.Count(s, endMarker+"\n"); n != 1 {
		t.Errorf("BENCHMARKS.md has the end marker on its own line %d times, want once", n)
	}
	_, criteria, ok := strings.Cut(s, "\n## Done criteria")
	if !ok {
		t.Fatal("BENCHMARKS.md has no criteria table")
	}
	criteria, _, _ = strings.Cut(criteria, "\n## ")
	for _, line := range strings.Split(criteria, "\n") {
		if strings.HasPrefix(line, "|") && strings.Contains(strings.ToLower(line), "quoted") {
			t.Errorf("verdict from a quoted figure: %s", line)
		}
	}
}
