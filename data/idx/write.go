package idx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

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
