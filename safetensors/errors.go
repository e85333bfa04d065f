package safetensors

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrFormat is wrapped by every *FormatError: test with errors.Is(err, ErrFormat).
var ErrFormat = errors.New("safetensors: invalid format")

// FormatError describes a malformed file, or a File or Tensor value that
// cannot be written or converted. It wraps ErrFormat.
type FormatError struct {
	// Path is the file's name, set by ReadFile and WriteFile.
	Path string
	// Offset is the byte offset in the file at or near which the problem
	// was found, or -1 when the error is about a File or Tensor value
	// rather than bytes read.
	Offset int64
	// Key is the header key concerned: a tensor name or "__metadata__";
	// empty if the problem is not with one entry.
	Key string
	// Field is the part concerned: within a tensor entry "dtype", "shape",
	// "data_offsets" or an unknown field's name; within "__metadata__" the
	// metadata key; otherwise a part of the file such as "header length",
	// "header" or "data", or "name" for a tensor name given to Write.
	Field string
	// Want describes what the format requires, Got what was found.
	Want, Got string
}

// Error returns a message such as
//
//	safetensors: invalid format in m.safetensors at offset 92: tensor "w": data_offsets: want end-begin = 24 bytes (shape [2,3] × 4-byte F32), got 20 bytes
func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("safetensors: invalid format")
	if e.Path != "" {
		b.WriteString(" in ")
		b.WriteString(e.Path)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " at offset %d", e.Offset)
	}
	switch e.Key {
	case "":
	case metadataKey:
		b.WriteString(": " + metadataKey)
	default:
		fmt.Fprintf(&b, ": tensor %q", e.Key)
	}
	if e.Field != "" {
		if e.Key == metadataKey {
			fmt.Fprintf(&b, ": key %q", e.Field)
		} else {
			b.WriteString(": " + e.Field)
		}
	}
	fmt.Fprintf(&b, ": want %s, got %s", e.Want, e.Got)
	return b.String()
}

// Unwrap returns ErrFormat.
func (e *FormatError) Unwrap() error { return ErrFormat }

// ErrDType is wrapped by every *DTypeError.
var ErrDType = errors.New("safetensors: unsupported dtype")

// DTypeError reports a conversion that the tensor's dtype does not support,
// such as Float32s on an I64 tensor. It wraps ErrDType.
type DTypeError struct {
	Name  string // the tensor's name
	DType DType  // its dtype
	To    string // the requested Go type, such as "float32"
}

// Error returns a message such as
//
//	safetensors: tensor "step": cannot convert dtype I64 to float32
func (e *DTypeError) Error() string {
	return fmt.Sprintf("safetensors: tensor %q: cannot convert dtype %s to %s", e.Name, quoteTrunc(string(e.DType)), e.To)
}

// Unwrap returns ErrDType.
func (e *DTypeError) Unwrap() error { return ErrDType }

// quoteTrunc quotes s for a message, shortening it if long.
func quoteTrunc(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

// plural returns "1 byte", "2 bytes".
func plural(n uint64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatUint(n, 10) + " " + unit + "s"
}

// shapeString formats a shape as in the header: [2,3].
func shapeString(shape []int) string {
	var b []byte
	b = append(b, '[')
	for i, d := range shape {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(d), 10)
	}
	return string(append(b, ']'))
}

// sizeWant describes the byte size required by a shape and dtype.
func sizeWant(shape []int, dtype DType, nbytes uint64) string {
	return fmt.Sprintf("%s (shape %s × %d-byte %s)", plural(nbytes, "byte"), shapeString(shape), dtype.Size(), dtype)
}
