package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/myelin-go/myelin/internal/atomicfile"
)

// Write writes f to w in the safetensors format: tensors sorted by name and
// laid out contiguously in that order, the metadata (if any) first in the
// header, the header padded with spaces to a multiple of 8 bytes. The
// output for a given File is always the same bytes.
//
// Before writing anything, Write checks f and returns a *FormatError (with
// Offset -1) if a tensor name is empty, "__metadata__", not UTF-8 or not
// unique; a dtype is unknown; a shape has a negative dimension or a size
// that overflows; the length of a tensor's Data is not the product of its
// shape times its dtype's size; a metadata string is not UTF-8; or the
// header would exceed MaxHeaderSize. Errors from w are returned wrapped.
func Write(w io.Writer, f *File) error {
	if w == nil {
		return errors.New("safetensors: Write: nil io.Writer")
	}
	order, hdr, err := encodeHeader(f)
	if err != nil {
		return err
	}
	return writeEncoded(w, f, order, hdr)
}

// WriteFile writes f to the file at path atomically (see
// internal/atomicfile): readers see the previous file or the complete new
// one, never a partial write. The file gets permissions 0644 before the
// umask. Errors name the path: a *FormatError has its Path set.
func WriteFile(path string, f *File) error {
	order, hdr, err := encodeHeader(f)
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.Path = path
		}
		return err
	}
	err = atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		return writeEncoded(w, f, order, hdr)
	})
	if err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	return nil
}

// writeEncoded writes the length prefix, the encoded header and the data of
// f's tensors in the given order.
func writeEncoded(w io.Writer, f *File, order []int, hdr []byte) error {
	buf := binary.LittleEndian.AppendUint64(make([]byte, 0, 8+len(hdr)), uint64(len(hdr)))
	buf = append(buf, hdr...)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	for _, i := range order {
		if d := f.Tensors[i].Data; len(d) > 0 {
			if _, err := w.Write(d); err != nil {
				return fmt.Errorf("safetensors: write: %w", err)
			}
		}
	}
	return nil
}

// encodeHeader checks f and returns the order in which to write its tensors
// (indices into f.Tensors, by name) and the padded header.
func encodeHeader(f *File) ([]int, []byte, error) {
	if f == nil {
		return nil, nil, errors.New("safetensors: nil *File")
	}
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		na, nb := f.Tensors[a].Name, f.Tensors[b].Name
		if na < nb {
			return -1
		}
		if na > nb {
			return 1
		}
		return a - b
	})

	hdr := []byte{'{'}
	if len(f.Metadata) > 0 {
		hdr = appendQuoted(hdr, metadataKey)
		hdr = append(hdr, ":{"...)
		for i, k := range slices.Sorted(maps.Keys(f.Metadata)) {
			v := f.Metadata[k]
			for _, s := range []string{k, v} {
				if !utf8.ValidString(s) {
					return nil, nil, &FormatError{Offset: -1, Key: metadataKey, Field: k,
						Want: "UTF-8 text", Got: strconv.Quote(s)}
				}
			}
			if i > 0 {
				hdr = append(hdr, ',')
			}
			hdr = appendQuoted(hdr, k)
			hdr = append(hdr, ':')
			hdr = appendQuoted(hdr, v)
		}
		hdr = append(hdr, '}')
	}
	var offset uint64
	for j, i := range order {
		t := &f.Tensors[i]
		switch {
		case t.Name == "":
			return nil, nil, &FormatError{Offset: -1, Field: "name",
				Want: "a non-empty tensor name", Got: fmt.Sprintf(`"" for Tensors[%d]`, i)}
		case t.Name == metadataKey:
			return nil, nil, &FormatError{Offset: -1, Key: t.Name, Field: "name",
				Want: "a tensor name other than " + metadataKey, Got: "the reserved name"}
		case !utf8.ValidString(t.Name):
			return nil, nil, &FormatError{Offset: -1, Key: t.Name, Field: "name",
				Want: "UTF-8 text", Got: strconv.Quote(t.Name)}
		case j > 0 && f.Tensors[order[j-1]].Name == t.Name:
			return nil, nil, &FormatError{Offset: -1, Key: t.Name, Field: "name",
				Want: "unique tensor names", Got: fmt.Sprintf("Tensors[%d] and Tensors[%d]", order[j-1], i)}
		}
		nbytes, fe := tensorBytes(t.Shape, t.DType)
		if fe != nil {
			fe.Offset, fe.Key = -1, t.Name
			return nil, nil, fe
		}
		if uint64(len(t.Data)) != nbytes {
			return nil, nil, &FormatError{Offset: -1, Key: t.Name, Field: "data",
				Want: sizeWant(t.Shape, t.DType, nbytes), Got: plural(uint64(len(t.Data)), "byte")}
		}
		if len(hdr) > 1 {
			hdr = append(hdr, ',')
		}
		hdr = appendQuoted(hdr, t.Name)
		hdr = append(hdr, `:{"dtype":`...)
		hdr = appendQuoted(hdr, string(t.DType))
		hdr = append(hdr, `,"shape":[`...)
		for k, d := range t.Shape {
			if k > 0 {
				hdr = append(hdr, ',')
			}
			hdr = strconv.AppendInt(hdr, int64(d), 10)
		}
		hdr = append(hdr, `],"data_offsets":[`...)
		hdr = strconv.AppendUint(hdr, offset, 10)
		hdr = append(hdr, ',')
		offset += nbytes
		hdr = strconv.AppendUint(hdr, offset, 10)
		hdr = append(hdr, "]}"...)
	}
	hdr = append(hdr, '}')
	for len(hdr)%8 != 0 {
		hdr = append(hdr, ' ')
	}
	if len(hdr) > MaxHeaderSize {
		return nil, nil, &FormatError{Offset: -1, Field: "header",
			Want: "at most " + strconv.Itoa(MaxHeaderSize) + " bytes", Got: plural(uint64(len(hdr)), "byte")}
	}
	return order, hdr, nil
}

// appendQuoted appends s, valid UTF-8, as a JSON string, escaping only what
// JSON requires: '"', '\\' and control characters.
func appendQuoted(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}
