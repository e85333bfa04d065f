package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// fakeTerminal is a standard output that says it is a terminal, so that
// Fit redraws its progress line on it, and that cancels the run when the
// first redraw arrives, as a Ctrl-C during the bar would.
type fakeTerminal struct {
	bytes.Buffer
	cancel context.CancelFunc
}

func (f *fakeTerminal) IsTerminal() bool { return true }

func (f *fakeTerminal) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("\r")) {
		f.cancel()
	}
	return f.Buffer.Write(p)
}

// TestInterruptEndsBarLine checks that, on a terminal, the interrupted
// message does not continue the progress bar's line: train ends the line
// before returning the error that main prints.
func TestInterruptEndsBarLine(t *testing.T) {
	data := ckDataDir(t, 2000, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &fakeTerminal{cancel: cancel}
	var errOut bytes.Buffer
	code := run(ctx, []string{"train", "--data-dir", data, "--epochs", "1", "--out", ""}, out, &errOut)
	if code != 1 || !strings.HasPrefix(errOut.String(), "myelin: error: interrupted") {
		t.Fatalf("exit %d, stderr %q; want 1 and the interrupted message", code, errOut.String())
	}
	if s := out.String(); !strings.Contains(s, "\r") || !strings.HasSuffix(s, "\x1b[K\n") {
		t.Errorf("stdout %q: want a redrawn bar line (\\r ... \\x1b[K) ended by a newline", s)
	}
}
