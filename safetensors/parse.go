package safetensors

// This file is one thing, the strict streaming parser of the JSON header
// (offsets, duplicate keys, dtypes, bounds), and stays whole so that every
// check the format needs is read in one place.

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxHeaderSize is the largest header length accepted, in bytes: 100 MB,
// the limit of the reference implementation.
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key for the metadata object.
const metadataKey = "__metadata__"

// entry is one tensor's header entry.
type entry struct {
	name       string
	dtype      DType
	shape      []int
	begin, end uint64
}

// Parse parses a complete safetensors file held in b, strictly; see the
// package documentation. The returned tensors' Data slices alias b (with
// their capacity cut at their end), so b must not be modified while they
// are in use. Errors are *FormatError values wrapping ErrFormat.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, &FormatError{Offset: int64(len(b)), Field: "header length",
			Want: "8 bytes", Got: "end of file after " + plural(uint64(len(b)), "byte")}
	}
	n, err := headerLen(b[:8])
	if err != nil {
		return nil, err
	}
	if uint64(len(b)-8) < n {
		return nil, &FormatError{Offset: int64(len(b)), Field: "header",
			Want: plural(n, "byte"), Got: "end of file after " + plural(uint64(len(b)-8), "byte")}
	}
	hdr := b[8 : 8+n]
	entries, meta, dataLen, err := parseHeader(hdr)
	if err != nil {
		return nil, err
	}
	data := b[8+n:]
	if err := checkDataLen(8+n, dataLen, uint64(len(data)), true); err != nil {
		return nil, err
	}
	return newFile(entries, meta, data), nil
}

// Read reads a complete safetensors file from r, to EOF, and parses it
// strictly like Parse. Memory is allocated as bytes arrive: a header that
// claims large sizes costs nothing until the data is there. Malformed input
// gives a *FormatError wrapping ErrFormat; errors from r are returned
// wrapped.
func Read(r io.Reader) (*File, error) {
	if r == nil {
		return nil, errors.New("safetensors: Read: nil io.Reader")
	}
	var lenBuf [8]byte
	if k, err := io.ReadFull(r, lenBuf[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, &FormatError{Offset: int64(k), Field: "header length",
				Want: "8 bytes", Got: "end of file after " + plural(uint64(k), "byte")}
		}
		return nil, fmt.Errorf("safetensors: read: %w", err)
	}
	n, err := headerLen(lenBuf[:])
	if err != nil {
		return nil, err
	}
	hdr, err := readUpTo(r, int(n))
	if err != nil {
		return nil, fmt.Errorf("safetensors: read: %w", err)
	}
	if uint64(len(hdr)) < n {
		return nil, &FormatError{Offset: 8 + int64(len(hdr)), Field: "header",
			Want: plural(n, "byte"), Got: "end of file after " + plural(uint64(len(hdr)), "byte")}
	}
	entries, meta, dataLen, err := parseHeader(hdr)
	if err != nil {
		return nil, err
	}
	// dataLen ≤ MaxInt64 by construction but may exceed a 32-bit int.
	if dataLen > math.MaxInt {
		return nil, &FormatError{Offset: 8 + int64(n), Field: "data",
			Want: "a data section that fits in memory", Got: plural(dataLen, "byte")}
	}
	data, err := readUpTo(r, int(dataLen))
	if err != nil {
		return nil, fmt.Errorf("safetensors: read: %w", err)
	}
	if err := checkDataLen(8+n, dataLen, uint64(len(data)), false); err != nil {
		return nil, err
	}
	var one [1]byte
	switch k, err := io.ReadFull(r, one[:]); {
	case k > 0:
		return nil, &FormatError{Offset: 8 + int64(n) + int64(dataLen), Field: "data",
			Want: "end of file after the last tensor", Got: "more bytes"}
	case err != io.EOF:
		return nil, fmt.Errorf("safetensors: read: %w", err)
	}
	return newFile(entries, meta, data), nil
}

// ReadFile reads and parses the safetensors file at path. Errors name the
// path: a *FormatError has its Path set.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.Path = path
		}
		return nil, err
	}
	return f, nil
}

// headerLen decodes and checks the 8-byte header length.
func headerLen(b []byte) (uint64, error) {
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeaderSize {
		return 0, &FormatError{Offset: 0, Field: "header length",
			Want: "at most " + strconv.Itoa(MaxHeaderSize), Got: strconv.FormatUint(n, 10)}
	}
	return n, nil
}

// checkDataLen checks that the data section, starting at file offset start,
// has exactly the want bytes the tensors cover; it has have. atEOF says
// whether have counts everything up to the end of the file.
func checkDataLen(start, want, have uint64, atEOF bool) error {
	switch {
	case have < want:
		return &FormatError{Offset: int64(start + have), Field: "data",
			Want: plural(want, "byte") + " of tensor data", Got: "end of file after " + plural(have, "byte")}
	case have > want && atEOF:
		return &FormatError{Offset: int64(start + want), Field: "data",
			Want: "end of file after the last tensor", Got: plural(have-want, "more byte")}
	}
	return nil
}

// addOff returns the file offset base+x, saturating at math.MaxInt64 since
// offsets claimed by a header can exceed any file.
func addOff(base int64, x uint64) int64 {
	if x > uint64(math.MaxInt64-base) {
		return math.MaxInt64
	}
	return base + int64(x)
}

// newFile assembles a File from checked entries and the data section.
func newFile(entries []entry, meta map[string]string, data []byte) *File {
	f := &File{Metadata: meta, Tensors: make([]Tensor, len(entries))}
	for i, e := range entries {
		f.Tensors[i] = Tensor{Name: e.name, DType: e.dtype, Shape: e.shape, Data: data[e.begin:e.end:e.end]}
	}
	return f
}

// readUpTo reads from r until it has n bytes or reaches EOF, growing its
// buffer as data arrives so that a large n costs memory only in proportion
// to the bytes actually read. A short result without error means EOF.
func readUpTo(r io.Reader, n int) ([]byte, error) {
	const first = 64 << 10
	buf := make([]byte, 0, min(n, first))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(n-len(buf), cap(buf)))
		}
		// Grow may round the capacity up past n: never read beyond n.
		k, err := io.ReadFull(r, buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+k]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// headerParser walks the header's JSON tokens.
type headerParser struct {
	hdr []byte
	dec *json.Decoder
}

// off returns the file offset of the decoder's position.
func (p *headerParser) off() int64 { return 8 + p.dec.InputOffset() }

// tokOff returns the file offset of the next token: the decoder's position
// past whitespace and a separating ':' or ','.
func (p *headerParser) tokOff() int64 {
	i := p.dec.InputOffset()
	for i < int64(len(p.hdr)) && strings.IndexByte(" \t\r\n:,", p.hdr[i]) >= 0 {
		i++
	}
	return 8 + i
}

// next returns the next JSON token; the end of the header is an error.
func (p *headerParser) next() (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.jsonError(err)
	}
	return tok, nil
}

// jsonError converts an error of the JSON decoder into a *FormatError.
func (p *headerParser) jsonError(err error) *FormatError {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return &FormatError{Offset: 8 + se.Offset, Field: "header", Want: "valid JSON", Got: se.Error()}
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return &FormatError{Offset: p.off(), Field: "header", Want: "complete JSON", Got: "end of header"}
	}
	return &FormatError{Offset: p.off(), Field: "header", Want: "valid JSON", Got: err.Error()}
}

// describe names a token's kind for a message.
func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return "'" + string(t) + "'"
	case string:
		return "string " + quoteTrunc(t)
	case json.Number:
		return "number " + quoteTrunc(string(t))
	case bool:
		return "boolean " + strconv.FormatBool(t)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// parseHeader parses and checks the header hdr (which starts at file offset
// 8). It returns the tensor entries sorted by data offset, the metadata,
// and the data section length the entries cover contiguously.
func parseHeader(hdr []byte) (entries []entry, meta map[string]string, dataLen uint64, err error) {
	if !utf8.Valid(hdr) {
		i := 0
		for i < len(hdr) {
			r, size := utf8.DecodeRune(hdr[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return nil, nil, 0, &FormatError{Offset: 8 + int64(i), Field: "header",
			Want: "UTF-8 text", Got: fmt.Sprintf("invalid byte %#02x", hdr[i])}
	}
	if len(hdr) == 0 || hdr[0] != '{' {
		got := "an empty header"
		if len(hdr) > 0 {
			got = strconv.QuoteRune(rune(hdr[0]))
		}
		return nil, nil, 0, &FormatError{Offset: 8, Field: "header", Want: "a JSON object starting with '{'", Got: got}
	}
	p := &headerParser{hdr: hdr, dec: json.NewDecoder(bytes.NewReader(hdr))}
	p.dec.UseNumber()
	if _, err := p.next(); err != nil { // '{', checked above
		return nil, nil, 0, err
	}
	seen := make(map[string]bool)
	for p.dec.More() {
		keyOff := p.tokOff()
		tok, err := p.next()
		if err != nil {
			return nil, nil, 0, err
		}
		key := tok.(string) // object keys are always strings
		if seen[key] {
			return nil, nil, 0, &FormatError{Offset: keyOff, Key: key, Want: "unique keys", Got: "a duplicate key"}
		}
		seen[key] = true
		if key == metadataKey {
			if meta, err = p.metadata(); err != nil {
				return nil, nil, 0, err
			}
			continue
		}
		if key == "" {
			return nil, nil, 0, &FormatError{Offset: keyOff, Field: "name", Want: "a non-empty tensor name", Got: `""`}
		}
		e, err := p.entry(key)
		if err != nil {
			return nil, nil, 0, err
		}
		entries = append(entries, e)
	}
	if _, err := p.next(); err != nil { // '}'
		return nil, nil, 0, err
	}
	endOff := p.off()
	switch tok, err := p.dec.Token(); {
	case err == io.EOF:
	case err != nil:
		return nil, nil, 0, p.jsonError(err)
	default:
		return nil, nil, 0, &FormatError{Offset: endOff, Field: "header",
			Want: "only spaces after the JSON object", Got: describe(tok)}
	}

	// Header key order is free; the data layout is checked in offset order.
	// Zero-size tensors may share an offset; keep their header order.
	slices.SortStableFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end))
	})
	dataStart := 8 + int64(len(hdr))
	var next uint64
	for i, e := range entries {
		if e.begin == next {
			next = e.end
			continue
		}
		fe := &FormatError{Offset: addOff(dataStart, min(next, e.begin)), Key: e.name, Field: "data_offsets"}
		switch {
		case i == 0:
			fe.Want = "the first tensor to begin at 0"
			fe.Got = "begin " + strconv.FormatUint(e.begin, 10)
		case e.begin < next:
			fe.Want = fmt.Sprintf("begin %d, the end of tensor %s", next, quoteTrunc(entries[i-1].name))
			fe.Got = fmt.Sprintf("begin %d, overlapping it", e.begin)
		default:
			fe.Want = fmt.Sprintf("begin %d, the end of tensor %s", next, quoteTrunc(entries[i-1].name))
			fe.Got = fmt.Sprintf("begin %d, leaving a gap of %s", e.begin, plural(e.begin-next, "byte"))
		}
		return nil, nil, 0, fe
	}
	return entries, meta, next, nil
}

// metadata parses the value of "__metadata__": an object of strings.
func (p *headerParser) metadata() (map[string]string, error) {
	off := p.tokOff()
	tok, err := p.next()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, &FormatError{Offset: off, Key: metadataKey, Want: "an object of strings", Got: describe(tok)}
	}
	meta := make(map[string]string)
	for p.dec.More() {
		off := p.tokOff()
		tok, err := p.next()
		if err != nil {
			return nil, err
		}
		k := tok.(string)
		if _, dup := meta[k]; dup {
			return nil, &FormatError{Offset: off, Key: metadataKey, Field: k, Want: "unique keys", Got: "a duplicate key"}
		}
		off = p.tokOff()
		if tok, err = p.next(); err != nil {
			return nil, err
		}
		v, ok := tok.(string)
		if !ok {
			return nil, &FormatError{Offset: off, Key: metadataKey, Field: k, Want: "a string value", Got: describe(tok)}
		}
		meta[k] = v
	}
	if _, err := p.next(); err != nil { // '}'
		return nil, err
	}
	return meta, nil
}

// entry parses the value of tensor name's header entry and checks that its
// offsets span the size its dtype and shape require.
func (p *headerParser) entry(name string) (entry, error) {
	e := entry{name: name}
	off := p.tokOff()
	tok, err := p.next()
	if err != nil {
		return e, err
	}
	if tok != json.Delim('{') {
		return e, &FormatError{Offset: off, Key: name,
			Want: `an object with "dtype", "shape" and "data_offsets"`, Got: describe(tok)}
	}
	var haveDType, haveShape, haveOffsets bool
	var shapeOff, offsetsOff int64 // where the values start
	for p.dec.More() {
		off := p.tokOff()
		tok, err := p.next()
		if err != nil {
			return e, err
		}
		field := tok.(string)
		dup := false
		switch field {
		case "dtype":
			dup, haveDType = haveDType, true
		case "shape":
			dup, haveShape = haveShape, true
		case "data_offsets":
			dup, haveOffsets = haveOffsets, true
		default:
			return e, &FormatError{Offset: off, Key: name, Field: field,
				Want: `only the fields "dtype", "shape" and "data_offsets"`, Got: "an unknown field"}
		}
		if dup {
			return e, &FormatError{Offset: off, Key: name, Field: field, Want: "unique keys", Got: "a duplicate key"}
		}
		off = p.tokOff()
		switch field {
		case "dtype":
			tok, err := p.next()
			if err != nil {
				return e, err
			}
			s, ok := tok.(string)
			if !ok {
				return e, &FormatError{Offset: off, Key: name, Field: field, Want: "a string", Got: describe(tok)}
			}
			e.dtype = DType(s)
			if e.dtype.Size() == 0 {
				return e, &FormatError{Offset: off, Key: name, Field: field, Want: "a known dtype", Got: quoteTrunc(s)}
			}
		case "shape":
			shapeOff = off
			dims, err := p.uints(name, field, -1)
			if err != nil {
				return e, err
			}
			e.shape = make([]int, len(dims))
			for i, d := range dims {
				if d > math.MaxInt {
					return e, &FormatError{Offset: off, Key: name, Field: field,
						Want: "dimensions that fit in an int", Got: strconv.FormatUint(d, 10)}
				}
				e.shape[i] = int(d)
			}
		case "data_offsets":
			offsetsOff = off
			offs, err := p.uints(name, field, 2)
			if err != nil {
				return e, err
			}
			e.begin, e.end = offs[0], offs[1]
			if e.begin > e.end {
				return e, &FormatError{Offset: off, Key: name, Field: field,
					Want: "begin ≤ end", Got: fmt.Sprintf("[%d,%d]", e.begin, e.end)}
			}
		}
	}
	endOff := p.tokOff()
	if _, err := p.next(); err != nil { // '}'
		return e, err
	}
	for _, f := range []struct {
		have bool
		name string
	}{{haveDType, "dtype"}, {haveShape, "shape"}, {haveOffsets, "data_offsets"}} {
		if !f.have {
			return e, &FormatError{Offset: endOff, Key: name, Field: f.name, Want: "the field", Got: "none"}
		}
	}
	nbytes, fe := tensorBytes(e.shape, e.dtype)
	if fe != nil {
		fe.Offset, fe.Key = shapeOff, name
		return e, fe
	}
	if e.end-e.begin != nbytes {
		return e, &FormatError{Offset: offsetsOff, Key: name, Field: "data_offsets",
			Want: "end-begin = " + sizeWant(e.shape, e.dtype, nbytes),
			Got:  fmt.Sprintf("[%d,%d], %s", e.begin, e.end, plural(e.end-e.begin, "byte"))}
	}
	return e, nil
}

// uints parses an array of non-negative integers: exactly n of them, or any
// number if n < 0.
func (p *headerParser) uints(name, field string, n int) ([]uint64, error) {
	want := "an array of non-negative integers"
	if n >= 0 {
		want = fmt.Sprintf("an array of %d non-negative integers", n)
	}
	off := p.tokOff()
	tok, err := p.next()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, &FormatError{Offset: off, Key: name, Field: field, Want: want, Got: describe(tok)}
	}
	vals := []uint64{}
	for p.dec.More() {
		off := p.tokOff()
		if len(vals) == n {
			return nil, &FormatError{Offset: off, Key: name, Field: field, Want: want, Got: "more elements"}
		}
		tok, err := p.next()
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, &FormatError{Offset: off, Key: name, Field: field, Want: want, Got: describe(tok)}
		}
		v, err := strconv.ParseUint(string(num), 10, 64)
		if err != nil {
			got := describe(tok)
			switch {
			case len(num) > 0 && num[0] == '-':
				got = "negative " + got
			case errors.Is(err, strconv.ErrRange):
				got += ", too large"
			}
			return nil, &FormatError{Offset: off, Key: name, Field: field, Want: want, Got: got}
		}
		vals = append(vals, v)
	}
	if n >= 0 && len(vals) != n {
		return nil, &FormatError{Offset: p.off(), Key: name, Field: field, Want: want,
			Got: plural(uint64(len(vals)), "element")}
	}
	if _, err := p.next(); err != nil { // ']'
		return nil, err
	}
	return vals, nil
}
