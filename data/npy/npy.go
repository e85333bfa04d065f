// Package npy reads and writes NumPy .npy files, strictly.
//
// A .npy file is the magic string "\x93NUMPY", a major and a minor version
// byte, the header length (2 bytes little-endian for version 1.0, 4 bytes
// for 2.0 and 3.0), and a header: a Python dict literal with exactly the
// keys 'descr', 'fortran_order' and 'shape', padded with spaces and ended by
// a newline. The raw array data follows.
//
// The header is parsed by a small strict parser for that dict literal and
// nothing else: no Python is ever evaluated. Read accepts versions 1.0,
// 2.0 and 3.0 and the dtypes b1, u1, u2, u4, u8, i1, i2, i4, i8, f4 and f8
// with an explicit byte order ('<' little-endian, '>' big-endian, or '|'
// for one-byte types). Object arrays ('O'), which hold pickled Python
// objects, are refused, as are all other dtypes (strings, complex, float16,
// structured and datetime types).
//
// Fortran-order (column-major) files are supported: Read keeps the data as
// stored and FortranOrder set, and Float32s and Float64s return the elements
// in C (row-major) order, transposing as needed.
//
// Read checks that the product of the shape does not overflow, that the
// data is exactly as long as shape and dtype say (a short file is
// truncated, extra bytes are trailing data), and reads the data
// incrementally, so that a header claiming more data than the input holds
// never causes a large allocation. Its errors about the input are
// *FormatError values matching ErrFormat.
package npy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
)

// Limits that Read enforces on a header.
const (
	// MaxDims is the largest number of dimensions accepted (NumPy's own
	// limit since NumPy 2.0).
	MaxDims = 64
	// MaxHeaderLen is the largest header accepted, in bytes. NumPy writes
	// headers of a few hundred bytes at most for the supported dtypes.
	MaxHeaderLen = 1 << 16
)

const magic = "\x93NUMPY"

// Array is the content of a .npy file.
type Array struct {
	Shape        []int  // dimensions, outermost first; empty for a 0-d (scalar) array
	DType        string // the dtype as written in the header, e.g. "<f4", "|u1", ">i8"
	FortranOrder bool   // whether Data is in Fortran (column-major) order
	Data         []byte // the raw data as stored in the file
}

// ErrFormat is matched (with errors.Is) by every error that reports
// malformed or unsupported .npy input.
var ErrFormat = errors.New("npy: invalid format")

// FormatError describes malformed or unsupported .npy input. It matches
// ErrFormat.
type FormatError struct {
	Path   string // file name; empty when reading from an io.Reader
	Offset int64  // byte offset in the file of what is wrong; -1 when it concerns an Array rather than a file
	Field  string // what is wrong: "magic", "version", "header", "descr", "shape", "data", ...
	Want   string // what the format requires
	Got    string // what the input holds
}

// Error names the path (when known), the offset (when known), the field,
// and what was wanted and found.
func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("npy: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, "offset %d: ", e.Offset)
	}
	fmt.Fprintf(&b, "%s: want %s, got %s", e.Field, e.Want, e.Got)
	return b.String()
}

// Unwrap returns ErrFormat.
func (e *FormatError) Unwrap() error { return ErrFormat }

// dtype is a parsed, supported descr.
type dtype struct {
	code  string // "f4", "u1", ...
	kind  byte   // 'b', 'u', 'i', 'f'
	size  int    // bytes per element
	order binary.ByteOrder
}

// parseDType parses a descr string, e.g. "<f4". The error text is the Want
// part of a FormatError.
func parseDType(s string) (dtype, string) {
	const supported = "a supported dtype: byte order '<', '>' or '|' and one of b1, u1, u2, u4, u8, i1, i2, i4, i8, f4, f8"
	if strings.Contains(s, "O") {
		return dtype{}, "a numeric dtype (object arrays hold pickled Python objects and are refused)"
	}
	if len(s) != 3 {
		return dtype{}, supported
	}
	var d dtype
	switch s[1:] {
	case "b1", "u1", "i1":
		d.size = 1
	case "u2", "i2":
		d.size = 2
	case "u4", "i4", "f4":
		d.size = 4
	case "u8", "i8", "f8":
		d.size = 8
	default:
		return dtype{}, supported
	}
	d.code, d.kind = s[1:], s[1]
	switch {
	case s[0] == '<':
		d.order = binary.LittleEndian
	case s[0] == '>':
		d.order = binary.BigEndian
	case s[0] == '|' && d.size == 1:
		d.order = binary.LittleEndian
	case s[0] == '|':
		return dtype{}, "byte order '<' or '>' for a multi-byte dtype"
	default:
		return dtype{}, supported
	}
	return d, ""
}

// Read reads one .npy array from r. The array must end the input: trailing
// bytes are an error.
func Read(r io.Reader) (*Array, error) {
	if r == nil {
		return nil, errors.New("npy: Read: nil io.Reader")
	}
	return read(r, "")
}

// ReadFile reads the .npy file at path. Its errors name the path.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	return read(f, path)
}

func read(r io.Reader, path string) (*Array, error) {
	br := bufio.NewReader(r)
	var off int64
	fail := func(at int64, field, want, got string) error {
		return &FormatError{Path: path, Offset: at, Field: field, Want: want, Got: got}
	}
	// readErr classifies an error from reading n bytes of field, of which
	// got arrived.
	readErr := func(field string, n, got int, err error) error {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fail(off, field, fmt.Sprintf("%d bytes", n),
				fmt.Sprintf("%d bytes before end of input (truncated)", got))
		}
		if path != "" {
			return fmt.Errorf("npy: %s: %w", path, err)
		}
		return fmt.Errorf("npy: %w", err)
	}

	var pre [10]byte
	if n, err := io.ReadFull(br, pre[:8]); err != nil {
		return nil, readErr("magic", 8, n, err)
	}
	if string(pre[:6]) != magic {
		return nil, fail(0, "magic", strconv.Quote(magic), strconv.Quote(string(pre[:6])))
	}
	major, minor := pre[6], pre[7]
	if (major < 1 || major > 3) || minor != 0 {
		return nil, fail(6, "version", "1.0, 2.0 or 3.0", fmt.Sprintf("%d.%d", major, minor))
	}
	off = 8
	var hlen uint64
	if major == 1 {
		if n, err := io.ReadFull(br, pre[8:10]); err != nil {
			return nil, readErr("header length", 2, n, err)
		}
		hlen = uint64(binary.LittleEndian.Uint16(pre[8:10]))
		off = 10
	} else {
		var b [4]byte
		if n, err := io.ReadFull(br, b[:]); err != nil {
			return nil, readErr("header length", 4, n, err)
		}
		hlen = uint64(binary.LittleEndian.Uint32(b[:]))
		off = 12
	}
	if hlen > MaxHeaderLen {
		return nil, fail(8, "header length", fmt.Sprintf("at most %d bytes", MaxHeaderLen), strconv.FormatUint(hlen, 10))
	}
	hdr, err := readN(br, int(hlen))
	if err != nil {
		return nil, readErr("header", int(hlen), len(hdr), err)
	}
	h, at, field, want, got := parseHeader(hdr)
	if want != "" {
		return nil, fail(off+int64(at), field, want, got)
	}
	d, want := parseDType(h.descr)
	if want != "" {
		return nil, fail(off+int64(h.descrAt), "descr", want, strconv.Quote(h.descr))
	}
	nbytes, ok := dataSize(h.shape, d.size)
	if !ok {
		return nil, fail(off+int64(h.shapeAt), "shape", "a shape whose data size fits an int",
			fmt.Sprintf("%v of %d-byte elements", h.shape, d.size))
	}
	off += int64(hlen)
	data, err := readN(br, nbytes)
	if err != nil {
		return nil, readErr("data", nbytes, len(data), err)
	}
	for {
		n, err := br.Read(pre[:1])
		if n > 0 {
			return nil, fail(off+int64(nbytes), "end of input", "end of input after the data", "trailing bytes")
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readErr("end of input", 0, 0, err)
		}
	}
	return &Array{Shape: h.shape, DType: h.descr, FortranOrder: h.fortran, Data: data}, nil
}

// dataSize returns the product of shape times size, and whether it is
// valid: no negative dimension, no overflow past math.MaxInt.
func dataSize(shape []int, size int) (int, bool) {
	n := uint64(size)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			n = 0
		}
	}
	if n == 0 {
		return 0, true
	}
	for _, d := range shape {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, false
		}
		n = lo
	}
	return int(n), true
}

// readN reads exactly n bytes from r, growing its buffer as data arrives
// instead of trusting n up front. On a short read it returns what it got
// and the error (io.EOF or io.ErrUnexpectedEOF at the end of input).
func readN(r io.Reader, n int) ([]byte, error) {
	const chunk = 1 << 20
	buf := make([]byte, 0, min(n, chunk))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		m, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
