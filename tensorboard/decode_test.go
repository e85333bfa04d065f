package tensorboard_test

// An event-file decoder written for the tests from the TFRecord and protocol
// buffer wire-format specifications. It shares no code with the writer: its
// own bitwise CRC-32C, its own varint, fixed64 and length-delimited parsing.

import (
	"errors"
	"fmt"
	"math"
	"os"
	"testing"
)

// errCRC marks a record whose stored checksum does not match its bytes.
var errCRC = errors.New("CRC mismatch")

// crc32cBitwise is CRC-32C (Castagnoli, reflected polynomial 0x82F63B78)
// one bit at a time, as the definition reads.
func crc32cBitwise(b []byte) uint32 {
	c := ^uint32(0)
	for _, x := range b {
		c ^= uint32(x)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0x82F63B78
			} else {
				c >>= 1
			}
		}
	}
	return ^c
}

func maskCRC(c uint32) uint32 { return (c>>15 | c<<17) + 0xa282ead8 }

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func le64(b []byte) uint64 { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }

// readRecords splits a TFRecord file into its records, checking both CRCs
// of each.
func readRecords(data []byte) ([][]byte, error) {
	var recs [][]byte
	for off := 0; off < len(data); {
		if len(data)-off < 12 {
			return recs, fmt.Errorf("record %d at byte %d: truncated header", len(recs), off)
		}
		head := data[off : off+8]
		if got, want := le32(data[off+8:]), maskCRC(crc32cBitwise(head)); got != want {
			return recs, fmt.Errorf("record %d at byte %d: length %w: stored %#x, computed %#x", len(recs), off, errCRC, got, want)
		}
		n := le64(head)
		off += 12
		if n > uint64(len(data)-off) || len(data)-off-int(n) < 4 {
			return recs, fmt.Errorf("record %d: length %d runs past the end", len(recs), n)
		}
		rec := data[off : off+int(n)]
		off += int(n)
		if got, want := le32(data[off:]), maskCRC(crc32cBitwise(rec)); got != want {
			return recs, fmt.Errorf("record %d: data %w: stored %#x, computed %#x", len(recs), errCRC, got, want)
		}
		off += 4
		recs = append(recs, rec)
	}
	return recs, nil
}

// field is one decoded protobuf field.
type field struct {
	num  int
	wire int
	u    uint64 // varint, fixed64 or fixed32 value
	b    []byte // length-delimited value
}

func varint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("bad varint")
}

// fields parses one message level.
func fields(b []byte) ([]field, error) {
	var fs []field
	for len(b) > 0 {
		key, n, err := varint(b)
		if err != nil {
			return nil, err
		}
		b = b[n:]
		f := field{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case 0:
			if f.u, n, err = varint(b); err != nil {
				return nil, err
			}
		case 1:
			if len(b) < 8 {
				return nil, errors.New("truncated fixed64")
			}
			f.u, n = le64(b), 8
		case 2:
			l, k, err := varint(b)
			if err != nil {
				return nil, err
			}
			if l > uint64(len(b)-k) {
				return nil, fmt.Errorf("field %d: length %d past the end", f.num, l)
			}
			f.b, n = b[k:k+int(l)], k+int(l)
		case 5:
			if len(b) < 4 {
				return nil, errors.New("truncated fixed32")
			}
			f.u, n = uint64(le32(b)), 4
		default:
			return nil, fmt.Errorf("field %d: unsupported wire type %d", f.num, f.wire)
		}
		b = b[n:]
		fs = append(fs, f)
	}
	return fs, nil
}

type event struct {
	wallTime    float64
	step        int64
	fileVersion string
	values      []value
}

type value struct {
	tag      string
	isScalar bool
	scalar   float32
	histo    *histo
}

type histo struct {
	min, max, num, sum, sumSquares float64
	limits, counts                 []float64
}

func want(f field, wire int) error {
	if f.wire != wire {
		return fmt.Errorf("field %d: wire type %d, want %d", f.num, f.wire, wire)
	}
	return nil
}

func decodeEvent(b []byte) (event, error) {
	var e event
	fs, err := fields(b)
	if err != nil {
		return e, err
	}
	for _, f := range fs {
		switch f.num {
		case 1: // double wall_time
			if err := want(f, 1); err != nil {
				return e, err
			}
			e.wallTime = math.Float64frombits(f.u)
		case 2: // int64 step
			if err := want(f, 0); err != nil {
				return e, err
			}
			e.step = int64(f.u)
		case 3: // string file_version
			if err := want(f, 2); err != nil {
				return e, err
			}
			e.fileVersion = string(f.b)
		case 5: // Summary summary
			if err := want(f, 2); err != nil {
				return e, err
			}
			if e.values, err = decodeSummary(f.b); err != nil {
				return e, err
			}
		default:
			return e, fmt.Errorf("Event: unexpected field %d", f.num)
		}
	}
	return e, nil
}

func decodeSummary(b []byte) ([]value, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, err
	}
	var vs []value
	for _, f := range fs {
		if f.num != 1 || f.wire != 2 { // repeated Value value = 1
			return nil, fmt.Errorf("Summary: unexpected field %d wire %d", f.num, f.wire)
		}
		v, err := decodeValue(f.b)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, nil
}

func decodeValue(b []byte) (value, error) {
	var v value
	fs, err := fields(b)
	if err != nil {
		return v, err
	}
	for _, f := range fs {
		switch f.num {
		case 1: // string tag
			if err := want(f, 2); err != nil {
				return v, err
			}
			v.tag = string(f.b)
		case 2: // float simple_value
			if err := want(f, 5); err != nil {
				return v, err
			}
			v.isScalar, v.scalar = true, math.Float32frombits(uint32(f.u))
		case 5: // HistogramProto histo
			if err := want(f, 2); err != nil {
				return v, err
			}
			if v.histo, err = decodeHisto(f.b); err != nil {
				return v, err
			}
		default:
			return v, fmt.Errorf("Value: unexpected field %d", f.num)
		}
	}
	return v, nil
}

func decodeHisto(b []byte) (*histo, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, err
	}
	h := &histo{}
	for _, f := range fs {
		switch f.num {
		case 1, 2, 3, 4, 5:
			if err := want(f, 1); err != nil {
				return nil, err
			}
			x := math.Float64frombits(f.u)
			*[]*float64{&h.min, &h.max, &h.num, &h.sum, &h.sumSquares}[f.num-1] = x
		case 6, 7: // packed repeated double
			if err := want(f, 2); err != nil {
				return nil, err
			}
			if len(f.b)%8 != 0 {
				return nil, fmt.Errorf("HistogramProto field %d: %d bytes, not a multiple of 8", f.num, len(f.b))
			}
			dst := &h.limits
			if f.num == 7 {
				dst = &h.counts
			}
			for i := 0; i < len(f.b); i += 8 {
				*dst = append(*dst, math.Float64frombits(le64(f.b[i:])))
			}
		default:
			return nil, fmt.Errorf("HistogramProto: unexpected field %d", f.num)
		}
	}
	return h, nil
}

// rawRecords returns the records of an event file, checked.
func rawRecords(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readRecords(data)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// readEvents reads and decodes an event file.
func readEvents(path string) ([]event, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	recs, err := readRecords(data)
	if err != nil {
		return nil, err
	}
	evs := make([]event, len(recs))
	for i, r := range recs {
		if evs[i], err = decodeEvent(r); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
	}
	return evs, nil
}
