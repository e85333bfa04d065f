package tensorboard_test

// An event-file decoder written for the tests from the TFRecord and protocol
// buffer wire-format specifications. It shares no code with the writer's
// record framing (its own bitwise CRC-32C and little-endian reads); the
// protobuf fields are split by internal/protowire's Parse, which shares
// no code with the Append encoders the writer calls, and TestProtocDecodes
// checks the bytes with protoc where it is installed.

import (
	"errors"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/myelin-go/myelin/internal/protowire"
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

func decodeEvent(b []byte) (event, error) {
	var e event
	fs, err := protowire.Parse(b)
	if err != nil {
		return e, err
	}
	for _, f := range fs {
		switch f.Num {
		case 1: // double wall_time
			if err := f.Want(1); err != nil {
				return e, err
			}
			e.wallTime = math.Float64frombits(f.V)
		case 2: // int64 step
			if err := f.Want(0); err != nil {
				return e, err
			}
			e.step = int64(f.V)
		case 3: // string file_version
			if err := f.Want(2); err != nil {
				return e, err
			}
			e.fileVersion = string(f.B)
		case 5: // Summary summary
			if err := f.Want(2); err != nil {
				return e, err
			}
			if e.values, err = decodeSummary(f.B); err != nil {
				return e, err
			}
		default:
			return e, fmt.Errorf("Event: unexpected field %d", f.Num)
		}
	}
	return e, nil
}

func decodeSummary(b []byte) ([]value, error) {
	fs, err := protowire.Parse(b)
	if err != nil {
		return nil, err
	}
	var vs []value
	for _, f := range fs {
		if f.Num != 1 || f.Wire != 2 { // repeated Value value = 1
			return nil, fmt.Errorf("Summary: unexpected field %d wire %d", f.Num, f.Wire)
		}
		v, err := decodeValue(f.B)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, nil
}

func decodeValue(b []byte) (value, error) {
	var v value
	fs, err := protowire.Parse(b)
	if err != nil {
		return v, err
	}
	for _, f := range fs {
		switch f.Num {
		case 1: // string tag
			if err := f.Want(2); err != nil {
				return v, err
			}
			v.tag = string(f.B)
		case 2: // float simple_value
			if err := f.Want(5); err != nil {
				return v, err
			}
			v.isScalar, v.scalar = true, math.Float32frombits(uint32(f.V))
		case 5: // HistogramProto histo
			if err := f.Want(2); err != nil {
				return v, err
			}
			if v.histo, err = decodeHisto(f.B); err != nil {
				return v, err
			}
		default:
			return v, fmt.Errorf("Value: unexpected field %d", f.Num)
		}
	}
	return v, nil
}

func decodeHisto(b []byte) (*histo, error) {
	fs, err := protowire.Parse(b)
	if err != nil {
		return nil, err
	}
	h := &histo{}
	for _, f := range fs {
		switch f.Num {
		case 1, 2, 3, 4, 5:
			if err := f.Want(1); err != nil {
				return nil, err
			}
			x := math.Float64frombits(f.V)
			*[]*float64{&h.min, &h.max, &h.num, &h.sum, &h.sumSquares}[f.Num-1] = x
		case 6, 7: // packed repeated double
			if err := f.Want(2); err != nil {
				return nil, err
			}
			vs, err := protowire.Doubles(f.B)
			if err != nil {
				return nil, fmt.Errorf("HistogramProto field %d: %w", f.Num, err)
			}
			if f.Num == 6 {
				h.limits = append(h.limits, vs...)
			} else {
				h.counts = append(h.counts, vs...)
			}
		default:
			return nil, fmt.Errorf("HistogramProto: unexpected field %d", f.Num)
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
