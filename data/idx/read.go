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
	"strconv"
)

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
//
// The buffer grows eightfold each time it fills: a lying header costs at
// most eight times the bytes that did arrive (or the first 1 MiB), and a
// real payload leaves little garbage behind (9 MB of outgrown buffers for
// MNIST's 47 MB of training images, where doubling left 63 MB, which
// raised the heap's peak by as much).
func readN(r io.Reader, n int) ([]byte, error) {
	const chunk = 1 << 20
	buf := make([]byte, 0, min(n, chunk))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 8*cap(buf)))
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
