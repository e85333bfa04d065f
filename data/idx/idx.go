// Package idx reads and writes the IDX file format, the format of Yann
// LeCun's MNIST files and of datasets built after them (Fashion-MNIST,
// EMNIST, KMNIST).
//
// An IDX file is a 4-byte magic number 0x00 0x00 <type code> <ndims>,
// then ndims big-endian uint32 dimension sizes, then the payload: the
// elements in row-major order, big-endian. Read decompresses gzip input
// transparently, so the .gz files that are usually distributed can be read
// as they are.
//
// Read is strict: it rejects a bad magic number, an unknown type code, zero
// or more than MaxDims dimensions, dimensions whose product overflows or
// exceeds MaxBytes, a truncated payload, trailing bytes after the payload and
// corrupt gzip streams. Every such error is a *FormatError that matches
// ErrFormat with errors.Is. The payload is read incrementally, so a header
// that claims more data than the input holds never causes a large
// allocation.
package idx

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/bits"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Type is the element type code of an IDX file, the third byte of its magic
// number.
type Type byte

// The element types of the IDX format.
const (
	Uint8   Type = 0x08 // unsigned byte
	Int8    Type = 0x09 // signed byte
	Int16   Type = 0x0B // big-endian int16
	Int32   Type = 0x0C // big-endian int32
	Float32 Type = 0x0D // big-endian IEEE 754 float32
	Float64 Type = 0x0E // big-endian IEEE 754 float64
)

// Limits that Read enforces on a header before it reads the payload.
const (
	// MaxDims is the largest number of dimensions Read accepts.
	MaxDims = 8
	// MaxBytes is the largest payload, in bytes, Read accepts (4 GiB;
	// less on 32-bit platforms, where the limit is math.MaxInt).
	MaxBytes = 1 << 32
)

// String returns the Go name of the element type, e.g. "uint8", or
// "Type(0x42)" for an unknown code.
func (t Type) String() string {
	switch t {
	case Uint8:
		return "uint8"
	case Int8:
		return "int8"
	case Int16:
		return "int16"
	case Int32:
		return "int32"
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	}
	return fmt.Sprintf("Type(%#02x)", byte(t))
}

// Size returns the size of one element in bytes, or 0 for an unknown type.
func (t Type) Size() int {
	switch t {
	case Uint8, Int8:
		return 1
	case Int16:
		return 2
	case Int32, Float32:
		return 4
	case Float64:
		return 8
	}
	return 0
}

// Array is the content of an IDX file.
type Array struct {
	Type Type   // element type
	Dims []int  // dimension sizes, outermost first
	Data []byte // the payload as stored in the file: row-major, big-endian
}

// ErrFormat is matched (with errors.Is) by every error that reports
// malformed IDX input.
var ErrFormat = errors.New("idx: invalid format")

// FormatError describes malformed IDX input. It matches ErrFormat.
type FormatError struct {
	Path   string // file name; empty when reading from an io.Reader
	Offset int64  // byte offset of Field in the (decompressed) IDX stream; for "gzip", how far decompression got
	Field  string // what was being read: "magic", "type", "ndims", "dims[1]", "payload", "gzip", ...
	Want   string // what the format requires
	Got    string // what the input holds
}

// Error names the path (when known), the offset, the field, and what was
// wanted and found.
func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("idx: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "offset %d: %s: want %s, got %s", e.Offset, e.Field, e.Want, e.Got)
	return b.String()
}

// Unwrap returns ErrFormat.
func (e *FormatError) Unwrap() error { return ErrFormat }

// Len returns the number of elements, the product of Dims. It returns 0 for
// an Array without dimensions, and -1 when the product overflows an int or
// a dimension is negative.
func (a *Array) Len() int {
	if a == nil || len(a.Dims) == 0 {
		return 0
	}
	for _, d := range a.Dims {
		if d < 0 {
			return -1
		}
	}
	if slices.Contains(a.Dims, 0) {
		return 0
	}
	n := uint64(1)
	for _, d := range a.Dims {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return -1
		}
		n = lo
	}
	return int(n)
}

// Float32s converts every element to float32, in row-major order. Integer
// elements keep their value (int32 values beyond 2^24 are rounded), float64
// elements are rounded to the nearest float32. An Array returned by Read
// always holds exactly Len() elements; for an Array built by hand only the
// whole elements present in Data are converted, and an unknown Type gives
// nil.
func (a *Array) Float32s() []float32 {
	if a == nil {
		return nil
	}
	size := a.Type.Size()
	if size == 0 {
		return nil
	}
	n := len(a.Data) / size
	if l := a.Len(); l >= 0 && l < n {
		n = l
	}
	out := make([]float32, n)
	d := a.Data[:n*size]
	switch a.Type {
	case Uint8:
		for i, v := range d {
			out[i] = float32(v)
		}
	case Int8:
		for i, v := range d {
			out[i] = float32(int8(v))
		}
	case Int16:
		for i := range out {
			out[i] = float32(int16(binary.BigEndian.Uint16(d[2*i:])))
		}
	case Int32:
		for i := range out {
			out[i] = float32(int32(binary.BigEndian.Uint32(d[4*i:])))
		}
	case Float32:
		for i := range out {
			out[i] = math.Float32frombits(binary.BigEndian.Uint32(d[4*i:]))
		}
	case Float64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.BigEndian.Uint64(d[8*i:])))
		}
	}
	return out
}

// Read reads one IDX array from r. Input that starts with the gzip magic
// bytes 0x1f 0x8b is decompressed first. The whole input must be consumed
// by the array: trailing bytes are an error.
func Read(r io.Reader) (*Array, error) {
	if r == nil {
		return nil, errors.New("idx: Read: nil io.Reader")
	}
	return read(r, "")
}

// ReadFile reads the IDX file (optionally gzip-compressed) at path. Its
// errors name the path.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	defer f.Close()
	return read(f, path)
}

// ReadFS reads the IDX file (optionally gzip-compressed) name from fsys, for
// example a file embedded with go:embed. Its errors name the file.
func ReadFS(fsys fs.FS, name string) (*Array, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	defer f.Close()
	return read(f, name)
}

// counter counts the bytes read through it, for error offsets.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func read(r io.Reader, path string) (*Array, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	src := io.Reader(br)
	gz := false
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if err == io.EOF || isGzipError(err) {
				return nil, gzipError(path, 0, err)
			}
			return nil, readError(path, err)
		}
		defer zr.Close()
		src, gz = zr, true
	}
	c := &counter{r: src}
	// ioErr classifies an error from reading field after got of its bytes
	// arrived. io.EOF is the clean end of the (decompressed) input.
	ioErr := func(field, want string, got int, err error) error {
		if err == io.EOF || (!gz && errors.Is(err, io.ErrUnexpectedEOF)) {
			return &FormatError{Path: path, Offset: c.n - int64(got), Field: field, Want: want,
				Got: fmt.Sprintf("%d bytes before end of input (truncated)", got)}
		}
		if gz && isGzipError(err) {
			return gzipError(path, c.n, err)
		}
		return readError(path, err)
	}

	var hdr [4]byte
	if n, err := fill(c, hdr[:]); err != nil {
		return nil, ioErr("magic", "4 bytes", n, err)
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, &FormatError{Path: path, Offset: 0, Field: "magic",
			Want: "0x00 0x00 <type> <ndims>", Got: fmt.Sprintf("% #x", hdr[:])}
	}
	t := Type(hdr[2])
	if t.Size() == 0 {
		return nil, &FormatError{Path: path, Offset: 2, Field: "type",
			Want: "one of 0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e", Got: fmt.Sprintf("%#02x", hdr[2])}
	}
	ndims := int(hdr[3])
	if ndims == 0 || ndims > MaxDims {
		return nil, &FormatError{Path: path, Offset: 3, Field: "ndims",
			Want: fmt.Sprintf("1 to %d", MaxDims), Got: strconv.Itoa(ndims)}
	}

	var dimBuf [4 * MaxDims]byte
	if n, err := fill(c, dimBuf[:4*ndims]); err != nil {
		return nil, ioErr("dims", fmt.Sprintf("%d bytes", 4*ndims), n, err)
	}
	dims := make([]int, ndims)
	nbytes := uint64(t.Size())
	zero := false
	for i := range dims {
		d := binary.BigEndian.Uint32(dimBuf[4*i:])
		if uint64(d) > math.MaxInt { // only on 32-bit platforms
			return nil, &FormatError{Path: path, Offset: int64(4 + 4*i), Field: fmt.Sprintf("dims[%d]", i),
				Want: "a size that fits an int", Got: strconv.FormatUint(uint64(d), 10)}
		}
		dims[i] = int(d)
		if d == 0 {
			zero = true
		}
	}
	for i, d := range dims {
		if zero {
			nbytes = 0
			break
		}
		hi, lo := bits.Mul64(nbytes, uint64(d))
		if limit := min(uint64(MaxBytes), uint64(math.MaxInt)); hi != 0 || lo > limit {
			return nil, &FormatError{Path: path, Offset: int64(4 + 4*i), Field: fmt.Sprintf("dims[%d]", i),
				Want: fmt.Sprintf("a payload of at most %d bytes", limit),
				Got:  fmt.Sprintf("dims %v of %s", dims, t)}
		}
		nbytes = lo
	}

	want := int(nbytes)
	data, err := readN(c, want)
	if err != nil {
		return nil, ioErr("payload", fmt.Sprintf("%d bytes for dims %v of %s", want, dims, t), len(data), err)
	}
	// Anything after the payload is an error. For gzip input, reading to
	// the end also verifies the stream's checksum and length.
	var one [1]byte
	for {
		n, err := c.Read(one[:])
		if n > 0 {
			return nil, &FormatError{Path: path, Offset: c.n - 1, Field: "end of input",
				Want: "end of input after the payload", Got: "trailing bytes"}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if gz && isGzipError(err) {
				return nil, gzipError(path, c.n, err)
			}
			return nil, readError(path, err)
		}
	}
	return &Array{Type: t, Dims: dims, Data: data}, nil
}

// fill reads len(buf) bytes from r. Unlike io.ReadFull it returns r's
// error unchanged, so that a clean io.EOF can be told from a truncated
// gzip stream's io.ErrUnexpectedEOF.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			if n == len(buf) {
				return n, nil
			}
			return n, err
		}
	}
	return n, nil
}

// readN reads exactly n bytes from r, growing its buffer as data arrives
// instead of trusting n up front. On a short read it returns the bytes it
// got with r's error.
func readN(r io.Reader, n int) ([]byte, error) {
	const chunk = 1 << 20
	buf := make([]byte, 0, min(n, chunk))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		m, err := fill(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// isGzipError reports whether err comes from a corrupt gzip stream.
func isGzipError(err error) bool {
	var corrupt flate.CorruptInputError
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) ||
		errors.As(err, &corrupt) || errors.Is(err, io.ErrUnexpectedEOF)
}

func gzipError(path string, off int64, err error) error {
	got := err.Error()
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		got = "truncated gzip stream"
	}
	return &FormatError{Path: path, Offset: off, Field: "gzip", Want: "a valid gzip stream", Got: got}
}

func readError(path string, err error) error {
	if path != "" {
		return fmt.Errorf("idx: %s: %w", path, err)
	}
	return fmt.Errorf("idx: %w", err)
}

// Write writes a as an uncompressed IDX file. It checks a first: a known
// Type, 1 to MaxDims dimensions each fitting a uint32, and exactly Len()
// elements in Data; a bad Array gives a *FormatError whose Offset is where
// the offending field would be written.
func Write(w io.Writer, a *Array) error {
	if a == nil {
		return &FormatError{Field: "array", Want: "an *Array", Got: "nil"}
	}
	if w == nil {
		return errors.New("idx: Write: nil io.Writer")
	}
	if a.Type.Size() == 0 {
		return &FormatError{Offset: 2, Field: "type", Want: "a known type", Got: a.Type.String()}
	}
	if len(a.Dims) == 0 || len(a.Dims) > MaxDims {
		return &FormatError{Offset: 3, Field: "ndims", Want: fmt.Sprintf("1 to %d", MaxDims), Got: strconv.Itoa(len(a.Dims))}
	}
	hdr := make([]byte, 4+4*len(a.Dims))
	hdr[2], hdr[3] = byte(a.Type), byte(len(a.Dims))
	for i, d := range a.Dims {
		if d < 0 || uint64(d) > math.MaxUint32 {
			return &FormatError{Offset: int64(4 + 4*i), Field: fmt.Sprintf("dims[%d]", i),
				Want: "0 to 4294967295", Got: strconv.Itoa(d)}
		}
		binary.BigEndian.PutUint32(hdr[4+4*i:], uint32(d))
	}
	n := a.Len()
	if size := a.Type.Size(); n < 0 || n > math.MaxInt/size || n*size != len(a.Data) {
		return &FormatError{Offset: int64(len(hdr)), Field: "payload",
			Want: fmt.Sprintf("%d elements of %s for dims %v", n, a.Type, a.Dims),
			Got:  fmt.Sprintf("%d bytes", len(a.Data))}
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("idx: write: %w", err)
	}
	if _, err := w.Write(a.Data); err != nil {
		return fmt.Errorf("idx: write: %w", err)
	}
	return nil
}
