// Package jsonstrict is the one strict JSON reader of myelin: every file,
// metadata entry or configuration the module reads as JSON goes through
// Decode, so that all of them reject the same things with the same
// messages.
//
// encoding/json is lenient in ways that matter for files that configure a
// model: it ignores unknown fields, keeps the last of two duplicate keys,
// matches keys regardless of case (so "units" and "Units" both set Units),
// and stops at the end of the first value. Decode refuses each of these,
// and deep nesting, and its errors give the byte offset, which
// encoding/json's messages often leave out.
package jsonstrict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxDepth bounds the nesting of a document, far beyond what any file of
// myelin needs, to keep Check's recursion shallow on hostile input.
const MaxDepth = 32

// Decode stores in v the single JSON value b holds. Unknown fields,
// duplicate keys (compared regardless of case, as encoding/json matches
// them), more than MaxDepth levels of nesting and anything after the value
// are errors, each naming its byte offset.
func Decode(b []byte, v any) error {
	if err := Check(b); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return withOffset(err, d.InputOffset())
	}
	return nil // Check saw the end after one value
}

// Check reports whether b holds exactly one JSON value with no duplicate
// key in any object and at most MaxDepth levels of nesting; it decodes
// nothing.
func Check(b []byte) error {
	c := checker{b: b, d: json.NewDecoder(bytes.NewReader(b))}
	c.d.UseNumber()
	if err := c.value(0); err != nil {
		return err
	}
	off := c.d.InputOffset()
	if _, err := c.d.Token(); err != io.EOF {
		return fmt.Errorf("offset %d: want the end of the JSON, got more data", c.skip(off))
	}
	return nil
}

// withOffset adds the offset to an error of encoding/json, whose messages
// do not give it; off is the decoder's position when it failed.
func withOffset(err error, off int64) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("offset %d: %w", se.Offset, err)
	case errors.As(err, &te):
		return fmt.Errorf("offset %d: %w", te.Offset, err)
	case err == io.ErrUnexpectedEOF:
		return fmt.Errorf("offset %d: want complete JSON, got the end of the input", off)
	}
	return err
}

type checker struct {
	b []byte
	d *json.Decoder
}

// skip returns the offset of the next token at or after off: past
// whitespace and a separating ':' or ','.
func (c *checker) skip(off int64) int64 {
	for off < int64(len(c.b)) && strings.IndexByte(" \t\r\n:,", c.b[off]) >= 0 {
		off++
	}
	return off
}

func (c *checker) token() (json.Token, error) {
	tok, err := c.d.Token()
	switch {
	case err == io.EOF:
		return nil, fmt.Errorf("offset %d: want a JSON value, got the end of the input", c.d.InputOffset())
	case err != nil:
		return nil, withOffset(err, c.d.InputOffset())
	}
	return tok, nil
}

func (c *checker) value(depth int) error {
	off := c.skip(c.d.InputOffset())
	tok, err := c.token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok || (delim != '{' && delim != '[') {
		return nil
	}
	if depth == MaxDepth {
		return fmt.Errorf("offset %d: want at most %d levels of nesting, got more", off, MaxDepth)
	}
	seen := map[string]string{} // folded key → key as written
	for c.d.More() {
		if delim == '{' {
			off := c.skip(c.d.InputOffset())
			tok, err := c.token()
			if err != nil {
				return err
			}
			key, _ := tok.(string) // object keys are strings
			// encoding/json matches field names regardless of case, so
			// "units" and "Units" would both set Units: one must go.
			fold := strings.ToLower(strings.ToUpper(key))
			if prev, dup := seen[fold]; dup {
				also := ""
				if prev != key {
					also = fmt.Sprintf(" of %q (keys match regardless of case)", prev)
				}
				return fmt.Errorf("offset %d: key %q: want unique keys, got a duplicate%s", off, key, also)
			}
			seen[fold] = key
		}
		if err := c.value(depth + 1); err != nil {
			return err
		}
	}
	_, err = c.token() // the closing delimiter
	return err
}
