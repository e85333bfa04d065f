package csv

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	inf := float32(math.Inf(1))
	tests := []struct {
		name string
		in   string
		opt  Options
		want *Table
	}{
		{"zero options", "1,2,3\n4,5,6\n", Options{},
			&Table{Features: []float32{1, 2, 3, 4, 5, 6}, Rows: 2, Cols: 3}},
		{"no final newline, CRLF, blank lines", "1,2\r\n\r\n3,4", Options{},
			&Table{Features: []float32{1, 2, 3, 4}, Rows: 2, Cols: 2}},
		{"number forms", "-2.5,3e-4,0x1p-2,+7,.5\n", Options{},
			&Table{Features: []float32{-2.5, 3e-4, 0.25, 7, 0.5}, Rows: 1, Cols: 5}},
		{"quoted cells", `"1","2"` + "\n", Options{},
			&Table{Features: []float32{1, 2}, Rows: 1, Cols: 2}},
		{"header", "a,b\n1,2\n", Options{Header: true},
			&Table{Features: []float32{1, 2}, Rows: 1, Cols: 2, Names: []string{"a", "b"}}},
		{"header only", "a,b\n", Options{Header: true},
			&Table{Features: []float32{}, Rows: 0, Cols: 2, Names: []string{"a", "b"}}},
		{"label first", "y,a,b\n1,2,3\n0,4,5\n", Options{Header: true, HasLabel: true},
			&Table{Features: []float32{2, 3, 4, 5}, Labels: []float32{1, 0}, Rows: 2, Cols: 2, Names: []string{"a", "b"}, LabelName: "y"}},
		{"label last", "2,3,1\n4,5,0\n", Options{HasLabel: true, LabelColumn: -1},
			&Table{Features: []float32{2, 3, 4, 5}, Labels: []float32{1, 0}, Rows: 2, Cols: 2}},
		{"label middle", "a,y,b\n2,1,3\n", Options{Header: true, HasLabel: true, LabelColumn: 1},
			&Table{Features: []float32{2, 3}, Labels: []float32{1}, Rows: 1, Cols: 2, Names: []string{"a", "b"}, LabelName: "y"}},
		{"label only", "7\n8\n", Options{HasLabel: true},
			&Table{Features: []float32{}, Labels: []float32{7, 8}, Rows: 2, Cols: 0}},
		{"LabelColumn ignored without HasLabel", "1,2\n", Options{LabelColumn: 5},
			&Table{Features: []float32{1, 2}, Rows: 1, Cols: 2}},
		{"semicolon", "1;2.5\n", Options{Comma: ';'},
			&Table{Features: []float32{1, 2.5}, Rows: 1, Cols: 2}},
		{"tab", "1\t2\n", Options{Comma: '\t'},
			&Table{Features: []float32{1, 2}, Rows: 1, Cols: 2}},
		{"non-finite allowed", "Inf,-inf\n", Options{AllowNonFinite: true},
			&Table{Features: []float32{inf, -inf}, Rows: 1, Cols: 2}},
		{"byte order mark", "\xef\xbb\xbfx\n1\n", Options{Header: true},
			&Table{Features: []float32{1}, Rows: 1, Cols: 1, Names: []string{"x"}}},
		{"underflow is zero", "1e-50\n", Options{},
			&Table{Features: []float32{0}, Rows: 1, Cols: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tt.in), tt.opt)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadNaNAllowed(t *testing.T) {
	got, err := Read(strings.NewReader("nan,1\n"), Options{AllowNonFinite: true})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if !math.IsNaN(float64(got.Features[0])) || got.Features[1] != 1 {
		t.Errorf("got %v, want [NaN 1]", got.Features)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		opt          Options
		line, column int
		field        string
	}{
		{"empty", "", Options{}, 1, 0, "input"},
		{"only blank lines", "\n\n", Options{Header: true}, 1, 0, "input"},
		{"ragged short", "1,2\n3\n", Options{}, 2, 0, "record"},
		{"ragged long", "a,b\n1,2\n\n3,4,5\n", Options{Header: true}, 4, 0, "record"},
		{"non-numeric", "1,2\n3,x\n", Options{}, 2, 2, "cell"},
		{"empty cell", "1,,3\n", Options{}, 1, 2, "cell"},
		{"quoted empty cell", `1,""` + "\n", Options{}, 1, 2, "cell"},
		{"space", "1, 2\n", Options{}, 1, 2, "cell"},
		{"underscore", "1_000\n", Options{}, 1, 1, "cell"},
		{"NaN", "1\nNaN\n", Options{}, 2, 1, "cell"},
		{"Inf", "1,+Inf\n", Options{}, 1, 2, "cell"},
		{"out of range", "1e39\n", Options{AllowNonFinite: true}, 1, 1, "cell"},
		{"bad label", "y,a\nx,1\n", Options{Header: true, HasLabel: true}, 2, 1, "label"},
		{"NaN label", "1,nan\n", Options{HasLabel: true, LabelColumn: 1}, 1, 2, "label"},
		{"label column too big", "1,2\n", Options{HasLabel: true, LabelColumn: 2}, 1, 0, "label column"},
		{"label column too small", "\n1,2\n", Options{HasLabel: true, LabelColumn: -3}, 2, 0, "label column"},
		{"bare quote", "1,2\n3,4\"\n", Options{}, 2, 0, "syntax"},
		{"unterminated quote", "1,\"2\n", Options{}, 1, 0, "syntax"},
		{"multi-line quoted cell", "1,\"2\n3\"\n", Options{}, 1, 2, "cell"},
		{"cell after multi-line header", "\"a\nb\",c\n1,x\n", Options{Header: true}, 3, 2, "cell"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := Read(strings.NewReader(tt.in), tt.opt)
			if err == nil {
				t.Fatalf("got %+v, want an error", tab)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v (%T), want a *ParseError matching ErrFormat", err, err)
			}
			if pe.Line != tt.line || pe.Column != tt.column || pe.Field != tt.field {
				t.Errorf("got line %d, column %d, field %q; want %d, %d, %q (%v)",
					pe.Line, pe.Column, pe.Field, tt.line, tt.column, tt.field, err)
			}
			if !strings.HasPrefix(err.Error(), "csv: ") {
				t.Errorf("got %q, want prefix %q", err, "csv: ")
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	tests := []struct {
		e    ParseError
		want string
	}{
		{ParseError{Path: "d.csv", Line: 3, Column: 2, Field: "cell", Want: "a number", Got: `"x"`},
			`csv: d.csv: line 3, column 2: cell: want a number, got "x"`},
		{ParseError{Line: 4, Field: "record", Want: "2 fields", Got: "3 fields"},
			`csv: line 4: record: want 2 fields, got 3 fields`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	_, err := Read(strings.NewReader(strings.Repeat("y", 100)+"\n"), Options{})
	if !strings.Contains(err.Error(), `"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"...`) {
		t.Errorf("got %q, want the cell shortened to 40 bytes", err)
	}
}

func TestBadComma(t *testing.T) {
	for _, c := range []rune{'"', '\n', '\r', utf8RuneError, -1} {
		_, err := Read(strings.NewReader("1\n"), Options{Comma: c})
		if err == nil || errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "csv: ") {
			t.Errorf("Comma %q: got %v, want an options error not matching ErrFormat", c, err)
		}
	}
}

const utf8RuneError = '\uFFFD'

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "d.csv")
	os.WriteFile(p, []byte("a,label\n1,0\n2,x\n"), 0o644)
	_, err := ReadFile(p, Options{Header: true, HasLabel: true, LabelColumn: -1})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Path != p || !strings.Contains(err.Error(), p) {
		t.Fatalf("got %v, want a *ParseError naming %s", err, p)
	}
	if pe.Line != 3 || pe.Column != 2 {
		t.Errorf("got line %d, column %d, want 3, 2", pe.Line, pe.Column)
	}
	_, err = ReadFile(filepath.Join(dir, "missing.csv"), Options{})
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "csv: ") {
		t.Errorf("got %v, want fs.ErrNotExist", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte("1,2,3\n4,5,6\n"), false, false, int8(0), false)
	f.Add([]byte("a,b,y\n1,2,0\n3,4,1\n"), true, true, int8(-1), false)
	f.Add([]byte("\"1\",\"2\"\r\n3,NaN\n"), false, false, int8(0), true)
	f.Add([]byte("1,2\n3\n"), false, true, int8(5), false)
	f.Add([]byte("\xef\xbb\xbfx\n1e39\n"), true, false, int8(0), true)
	f.Fuzz(func(t *testing.T, in []byte, header, hasLabel bool, labelCol int8, allowNonFinite bool) {
		opt := Options{Header: header, HasLabel: hasLabel, LabelColumn: int(labelCol), AllowNonFinite: allowNonFinite}
		tab, err := Read(strings.NewReader(string(in)), opt)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v, want an error matching ErrFormat", err)
			}
			var pe *ParseError
			if errors.As(err, &pe) && pe.Line < 1 {
				t.Fatalf("got line %d, want >= 1 (%v)", pe.Line, err)
			}
			return
		}
		if len(tab.Features) != tab.Rows*tab.Cols {
			t.Fatalf("got %d features, want %d×%d", len(tab.Features), tab.Rows, tab.Cols)
		}
		if hasLabel != (tab.Labels != nil) || (hasLabel && len(tab.Labels) != tab.Rows) {
			t.Fatalf("got %d labels for %d rows (HasLabel %v)", len(tab.Labels), tab.Rows, hasLabel)
		}
		if header && len(tab.Names) != tab.Cols {
			t.Fatalf("got %d names, want %d", len(tab.Names), tab.Cols)
		}
		// Write the table back out and read it again: same values.
		var b strings.Builder
		for r := range tab.Rows {
			for c := range tab.Cols {
				if c > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.FormatFloat(float64(tab.Features[r*tab.Cols+c]), 'g', -1, 32))
			}
			if tab.Labels != nil {
				if tab.Cols > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.FormatFloat(float64(tab.Labels[r]), 'g', -1, 32))
			}
			b.WriteByte('\n')
		}
		if tab.Rows == 0 {
			return
		}
		back, err := Read(strings.NewReader(b.String()), Options{HasLabel: hasLabel, LabelColumn: -1, AllowNonFinite: allowNonFinite})
		if err != nil {
			t.Fatalf("rereading %q: %v", b.String(), err)
		}
		for i, v := range back.Features {
			if w := tab.Features[i]; v != w && !(v != v && w != w) {
				t.Fatalf("feature %d: got %v, want %v", i, v, w)
			}
		}
		for i, v := range back.Labels {
			if w := tab.Labels[i]; v != w && !(v != v && w != w) {
				t.Fatalf("label %d: got %v, want %v", i, v, w)
			}
		}
	})
}
