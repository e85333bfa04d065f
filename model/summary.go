package model

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/myelin-go/myelin/tensor"
)

// ParamCounts returns the number of trainable and non-trainable values
// (parameters frozen or state such as moving statistics).
func (m *Sequential) ParamCounts() (trainable, nonTrainable int) {
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			if w.Trainable() {
				trainable += w.Value.Len()
			} else {
				nonTrainable += w.Value.Len()
			}
		}
	}
	return trainable, nonTrainable
}

// Summary writes Keras's table of layers, output shapes and parameter
// counts, then the totals with their size in memory.
func (m *Sequential) Summary(w io.Writer) error {
	if w == nil {
		return errors.New("model: Summary: the writer is nil")
	}
	if !m.built {
		return ErrNotBuilt
	}
	c1, c2, c3 := 33, 24, 15
	for _, l := range m.Layers {
		c1 = max(c1, len([]rune(l.Name()))+len(l.Type())+5)
	}
	row := func(l, mid, r, a, b, c string) string {
		return l + pad(a, c1) + mid + pad(b, c2) + mid + padLeft(c, c3) + r + "\n"
	}
	line := func(l, mid, r, h string) string {
		return l + strings.Repeat(h, c1) + mid + strings.Repeat(h, c2) + mid + strings.Repeat(h, c3) + r + "\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Model: %q\n", m.Name)
	b.WriteString(line("┏", "┳", "┓", "━"))
	b.WriteString(row("┃", "┃", "┃", " Layer (type)", " Output Shape", "Param # "))
	b.WriteString(line("┡", "╇", "┩", "━"))
	for i, l := range m.Layers {
		n := 0
		for _, wt := range l.Weights() {
			n += wt.Value.Len()
		}
		shape := "(None, " + strings.TrimSuffix(strings.Trim(m.shapes[i].String(), "()"), ",") + ")"
		b.WriteString(row("│", "│", "│", fmt.Sprintf(" %s (%s)", l.Name(), l.Type()), " "+shape, commas(n)+" "))
		if i < len(m.Layers)-1 {
			b.WriteString(line("├", "┼", "┤", "─"))
		}
	}
	b.WriteString(line("└", "┴", "┘", "─"))
	tr, nt := m.ParamCounts()
	size := m.DType.Size()
	fmt.Fprintf(&b, " Total params: %s (%s)\n", commas(tr+nt), bytesStr((tr+nt)*size))
	fmt.Fprintf(&b, " Trainable params: %s (%s)\n", commas(tr), bytesStr(tr*size))
	fmt.Fprintf(&b, " Non-trainable params: %s (%s)\n", commas(nt), bytesStr(nt*size))
	_, err := io.WriteString(w, b.String())
	return err
}

func pad(s string, n int) string {
	if k := len([]rune(s)); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

func padLeft(s string, n int) string {
	if k := len([]rune(s)); k < n {
		return strings.Repeat(" ", n-k) + s
	}
	return s
}

// commas formats n with thousands separators: 55,562.
func commas(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// bytesStr formats a size like Keras: 217.04 KB (1 KB = 1024 bytes).
func bytesStr(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.2f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.2f MB", float64(n)/(1024*1024))
}

var _ = tensor.Float32
