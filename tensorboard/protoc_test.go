package tensorboard_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestProtocDecodes has Google's protoc parse every record against the
// message definitions in testdata/event.proto: a second, independent reader.
// It is skipped where protoc is not installed (Debian: protobuf-compiler),
// unless MYELIN_REQUIRE_PROTOC=1, as CI sets it after installing protoc:
// then a missing protoc fails the test rather than hiding the check.
func TestProtocDecodes(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		if os.Getenv("MYELIN_REQUIRE_PROTOC") == "1" {
			t.Fatal("protoc not found on PATH and MYELIN_REQUIRE_PROTOC=1 (install Debian's protobuf-compiler)")
		}
		t.Skip("protoc not installed (set MYELIN_REQUIRE_PROTOC=1 to fail instead)")
	}
	w := newWriter(t)
	if err := w.Scalar("epoch/loss", 3, 0.125); err != nil {
		t.Fatal(err)
	}
	if err := w.Scalar("neg", -2, -1.5); err != nil {
		t.Fatal(err)
	}
	if err := w.Histogram("dense/kernel", 7, []float64{-0.5, 0, 0.3, 0.3, 2}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	evs, err := readEvents(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	recs := rawRecords(t, w.Path())
	want := [][]string{
		{`file_version: "brain.Event:2"`},
		{"step: 3", `tag: "epoch/loss"`, "simple_value: 0.125"},
		{"step: -2", `tag: "neg"`, "simple_value: -1.5"},
		{"step: 7", `tag: "dense/kernel"`, "min: -0.5", "max: 2", "num: 5", "sum: 2.1", "bucket: 2", "bucket_limit: 1.7976931348623157e+308"},
	}
	if len(recs) != len(want) || len(evs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, rec := range recs {
		cmd := exec.Command(protoc, "--decode=tb.Event", "-Itestdata", "testdata/event.proto")
		cmd.Stdin = bytes.NewReader(rec)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("record %d: protoc: %v\n%s", i, err, out)
		}
		for _, s := range want[i] {
			if !strings.Contains(string(out), s) {
				t.Errorf("record %d: protoc's decoding lacks %q:\n%s", i, s, out)
			}
		}
	}
}
