package model

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/myelin-go/myelin/internal/term"
)

// progress prints Keras's per-epoch line:
//
//	Epoch 1/5
//	1875/1875 ━━━━━━━━━━━━━━━━━━━━ 3s 1ms/step - accuracy: 0.9312 - loss: 0.2265
//
// On a terminal the line is redrawn in place (at most every 50 ms);
// elsewhere only the final line of each epoch is written.
type progress struct {
	w        io.Writer
	tty      bool
	verbose  int
	steps    int
	start    time.Time
	last     time.Time
	lastStep int
	buf      strings.Builder
}

func newProgress(w io.Writer, verbose, epoch, epochs, steps int) *progress {
	p := &progress{w: w, tty: term.IsTerminal(w), verbose: verbose, steps: steps, start: timeNow()}
	fmt.Fprintf(w, "Epoch %d/%d\n", epoch, epochs)
	return p
}

func (p *progress) update(step int, logs Logs, names []string) {
	if !p.tty || p.verbose != 1 {
		return
	}
	now := timeNow()
	if step < p.steps && now.Sub(p.last) < 50*time.Millisecond {
		return
	}
	p.last, p.lastStep = now, step
	p.line(step, logs, names, false, false)
	fmt.Fprintf(p.w, "\r%s\x1b[K", p.buf.String())
}

func (p *progress) line(step int, logs Logs, names []string, final, val bool) {
	b := &p.buf
	b.Reset()
	el := timeNow().Sub(p.start)
	if p.verbose == 1 {
		width := len(fmt.Sprint(p.steps))
		fmt.Fprintf(b, "%*d/%d ", width, step, p.steps)
		const barLen = 20
		done := barLen * step / max(p.steps, 1)
		b.WriteString(strings.Repeat("━", done))
		if done < barLen {
			b.WriteString("\x1b[2m" + strings.Repeat("━", barLen-done) + "\x1b[0m")
		}
		if !p.tty && done < barLen {
			b.Reset()
			fmt.Fprintf(b, "%*d/%d %s", width, step, p.steps, strings.Repeat("━", done))
		}
		b.WriteByte(' ')
	}
	perStep := el / time.Duration(max(step, 1))
	if final && p.verbose != 1 {
		fmt.Fprintf(b, "%d/%d - %s - %s/step", step, p.steps, roundDur(el), roundDur(perStep))
	} else if final {
		fmt.Fprintf(b, "%s %s/step", roundDur(el), roundDur(perStep))
	} else {
		fmt.Fprintf(b, "ETA: %s %s/step", roundDur(perStep*time.Duration(p.steps-step)), roundDur(perStep))
	}
	for _, n := range names {
		if v, ok := logs[n]; ok {
			fmt.Fprintf(b, " - %s: %.4f", n, v)
		}
	}
	if val {
		for _, n := range names {
			if v, ok := logs["val_"+n]; ok {
				fmt.Fprintf(b, " - val_%s: %.4f", n, v)
			}
		}
	}
	if v, ok := logs["learning_rate"]; ok && final { // added by an EpochLogger
		if math.Abs(v) > 1e-3 {
			fmt.Fprintf(b, " - learning_rate: %.4f", v)
		} else {
			fmt.Fprintf(b, " - learning_rate: %.4e", v)
		}
	}
}

func (p *progress) done(logs Logs, names []string, val bool) {
	p.line(p.steps, logs, names, true, val)
	if p.tty && p.verbose == 1 {
		fmt.Fprintf(p.w, "\r%s\x1b[K\n", p.buf.String())
		return
	}
	fmt.Fprintln(p.w, p.buf.String())
}

func (p *progress) abort() {
	if p.tty && p.verbose == 1 {
		fmt.Fprintln(p.w)
	}
}

// roundDur formats d like Keras: 3s, 12ms, 850us.
func roundDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d >= time.Millisecond:
		return fmt.Sprintf("%dms", int(d.Round(time.Millisecond)/time.Millisecond))
	}
	return fmt.Sprintf("%dus", int(d/time.Microsecond))
}
