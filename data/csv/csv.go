// Package csv reads numeric datasets from CSV files, strictly.
//
// Every cell must be a number that strconv.ParseFloat accepts and that fits
// a float32 ("1", "-2.5", "3e-4", "0x1p-2"), without surrounding spaces and
// without Go's '_' digit separators. Nothing is guessed or skipped:
// ragged rows, empty cells, non-numeric cells and NaN or infinite values
// (unless Options.AllowNonFinite) are errors that give the line and column.
// Quoting follows RFC 4180, as implemented by encoding/csv; blank lines are
// ignored, and a UTF-8 byte order mark at the start of the input is dropped.
//
// Errors about the input are *ParseError values matching ErrFormat.
package csv

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Options configures Read. The zero value reads comma-separated rows of
// finite numbers without a header, every column a feature.
type Options struct {
	// Header says that the first record holds column names.
	Header bool
	// HasLabel says that one column holds the labels; LabelColumn says
	// which. Without HasLabel, LabelColumn is ignored and every column is a
	// feature.
	HasLabel bool
	// LabelColumn is the 0-based index of the label column; a negative
	// value counts from the end, so -1 is the last column.
	LabelColumn int
	// AllowNonFinite accepts NaN, +Inf and -Inf cells ("NaN", "Inf",
	// "-inf", "infinity", ...). Values too large for a float32 are an error
	// either way.
	AllowNonFinite bool
	// Comma is the field delimiter; 0 means ','.
	Comma rune
}

// Table is a numeric dataset read from CSV.
type Table struct {
	Features  []float32 // Rows × Cols, row-major: every column except the label column, in file order
	Labels    []float32 // Rows labels; nil unless Options.HasLabel
	Rows      int       // number of data records
	Cols      int       // number of feature columns
	Names     []string  // the Cols feature column names from the header; nil without Options.Header
	LabelName string    // the label column's name from the header
}

// ErrFormat is matched (with errors.Is) by every error that reports
// malformed CSV input.
var ErrFormat = errors.New("csv: invalid format")

// ParseError describes malformed input. It matches ErrFormat.
type ParseError struct {
	Path   string // file name; empty when reading from an io.Reader
	Line   int    // 1-based line where the offending record or cell starts
	Column int    // 1-based column (field index) of the offending cell; 0 when the error is about a whole record or the input
	Field  string // what is wrong: "cell", "label", "record", "syntax", "label column", "input"
	Want   string // what was expected
	Got    string // what the input holds
}

// Error names the path (when known), line, column (when known), field, and
// what was wanted and found.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("csv: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "line %d", e.Line)
	if e.Column > 0 {
		fmt.Fprintf(&b, ", column %d", e.Column)
	}
	fmt.Fprintf(&b, ": %s: want %s, got %s", e.Field, e.Want, e.Got)
	return b.String()
}

// Unwrap returns ErrFormat.
func (e *ParseError) Unwrap() error { return ErrFormat }

// Read reads a numeric table from r.
func Read(r io.Reader, opt Options) (*Table, error) {
	if r == nil {
		return nil, errors.New("csv: Read: nil io.Reader")
	}
	return read(r, "", opt)
}

// ReadFile reads a numeric table from the file at path. Its errors name the
// path.
func ReadFile(path string, opt Options) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	defer f.Close()
	return read(f, path, opt)
}

// quote shows a cell in an error message, shortened if long.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

func read(r io.Reader, path string, opt Options) (*Table, error) {
	comma := opt.Comma
	if comma == 0 {
		comma = ','
	}
	if !utf8.ValidRune(comma) || comma == utf8.RuneError || comma == '"' || comma == '\r' || comma == '\n' {
		return nil, fmt.Errorf("csv: invalid Options.Comma %q", comma)
	}
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = -1 // checked here, to report both counts
	cr.ReuseRecord = true

	perr := func(line, col int, field, want, got string) error {
		return &ParseError{Path: path, Line: line, Column: col, Field: field, Want: want, Got: got}
	}
	next := func() ([]string, error) {
		rec, err := cr.Read()
		if err == nil || err == io.EOF {
			return rec, err
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, perr(pe.Line, 0, "syntax", "well-formed CSV",
				fmt.Sprintf("%v at byte %d of the line", pe.Err, pe.Column))
		}
		if path != "" {
			return nil, fmt.Errorf("csv: %s: %w", path, err)
		}
		return nil, fmt.Errorf("csv: %w", err)
	}

	rec, err := next()
	if err == io.EOF {
		return nil, perr(1, 0, "input", "at least one record", "empty input")
	}
	if err != nil {
		return nil, err
	}
	ncols := len(rec)
	firstLine, _ := cr.FieldPos(0)
	label := -1
	if opt.HasLabel {
		label = opt.LabelColumn
		if label < 0 {
			label += ncols
		}
		if label < 0 || label >= ncols {
			return nil, perr(firstLine, 0, "label column",
				fmt.Sprintf("an index in [%d, %d) for %d columns", -ncols, ncols, ncols),
				strconv.Itoa(opt.LabelColumn))
		}
	}
	t := &Table{Cols: ncols}
	if label >= 0 {
		t.Cols--
		t.Labels = []float32{}
	}
	t.Features = []float32{}
	if opt.Header {
		t.Names = make([]string, 0, t.Cols)
		for i, name := range rec {
			if i == label {
				t.LabelName = name
			} else {
				t.Names = append(t.Names, name)
			}
		}
		rec, err = next()
	}
	for ; err == nil; rec, err = next() {
		line, _ := cr.FieldPos(0)
		if len(rec) != ncols {
			return nil, perr(line, 0, "record", fmt.Sprintf("%d fields", ncols), fmt.Sprintf("%d fields", len(rec)))
		}
		for i, cell := range rec {
			field := "cell"
			if i == label {
				field = "label"
			}
			v, err := strconv.ParseFloat(cell, 32)
			var bad string
			switch {
			case cell == "" || strings.IndexByte(cell, '_') >= 0:
				bad = "a number"
			case err != nil && errors.Is(err, strconv.ErrRange):
				bad = "a number within float32 range"
			case err != nil:
				bad = "a number"
			case !opt.AllowNonFinite && (math.IsNaN(v) || math.IsInf(v, 0)):
				bad = "a finite number"
			}
			if bad != "" {
				l, _ := cr.FieldPos(i)
				return nil, perr(l, i+1, field, bad, quote(cell))
			}
			if i == label {
				t.Labels = append(t.Labels, float32(v))
			} else {
				t.Features = append(t.Features, float32(v))
			}
		}
		t.Rows++
	}
	if err != io.EOF {
		return nil, err
	}
	return t, nil
}
