package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
)

// A small protobuf reader for the ONNX messages Export writes, used by
// Import and by the tests. It fails on anything malformed (a truncated
// varint, a length past the end, a group). Strict decoding, which the
// tests use on Export's output, also rejects every field Export does not
// write; lenient decoding, Import's, skips fields that carry no
// computation (doc strings, metadata, value_info).

// field is one decoded protobuf field: a varint, a fixed32 or a
// length-delimited body.
type field struct {
	num  int
	wire int
	v    uint64 // varint or fixed32
	b    []byte // wireBytes
}

func parseFields(b []byte) ([]field, error) {
	var fs []field
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, fmt.Errorf("bad key varint")
		}
		b = b[n:]
		f := field{num: int(key >> 3), wire: int(key & 7)}
		if f.num == 0 {
			return nil, fmt.Errorf("field number 0")
		}
		switch f.wire {
		case wireVarint:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, fmt.Errorf("field %d: bad varint", f.num)
			}
			f.v, b = v, b[n:]
		case wireFixed64:
			if len(b) < 8 {
				return nil, fmt.Errorf("field %d: short fixed64", f.num)
			}
			f.v, b = binary.LittleEndian.Uint64(b), b[8:]
		case wireFixed32:
			if len(b) < 4 {
				return nil, fmt.Errorf("field %d: short fixed32", f.num)
			}
			f.v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		case wireBytes:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return nil, fmt.Errorf("field %d: bad length", f.num)
			}
			f.b, b = b[n:n+int(l)], b[n+int(l):]
		default:
			return nil, fmt.Errorf("field %d: wire type %d", f.num, f.wire)
		}
		fs = append(fs, f)
	}
	return fs, nil
}

type dModel struct {
	ir, opset       int64
	opsetDomain     string
	producer, prodV string
	graph           dGraph
}

type dGraph struct {
	name    string
	nodes   []dNode
	inits   []dTensor
	inputs  []dValue
	outputs []dValue
}

type dNode struct {
	name, op        string
	inputs, outputs []string
	attrs           map[string]dAttr
}

type dAttr struct {
	typ  int64
	i    int64
	f    float32
	ints []int64
}

type dTensor struct {
	name  string
	dims  []int64
	dtype int64
	raw   []byte
}

// floats returns the tensor's values as float64.
func (t dTensor) floats() []float64 {
	var out []float64
	switch t.dtype {
	case dataFloat:
		for i := 0; i+4 <= len(t.raw); i += 4 {
			out = append(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(t.raw[i:]))))
		}
	case dataDouble:
		for i := 0; i+8 <= len(t.raw); i += 8 {
			out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(t.raw[i:])))
		}
	}
	return out
}

type dValue struct {
	name string
	elem int64
	dims []string // "batch" or a number
}

// want fails unless f has wire type w.
func want(f field, w int) error {
	if f.wire != w {
		return fmt.Errorf("field %d: wire type %d, want %d", f.num, f.wire, w)
	}
	return nil
}

// each parses b and calls fn on each field, stopping at the first error.
func each(b []byte, fn func(f field) error) error {
	fs, err := parseFields(b)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func decodeModel(b []byte, strict bool) (*dModel, error) {
	m := &dModel{}
	graphs := 0
	err := each(b, func(f field) error {
		switch f.num {
		case modelIRVersion:
			m.ir = int64(f.v)
			return want(f, wireVarint)
		case modelProducerName:
			m.producer = string(f.b)
			return want(f, wireBytes)
		case modelProducerVersion:
			m.prodV = string(f.b)
			return want(f, wireBytes)
		case modelOpsetImport:
			var domain string
			var version int64
			err := each(f.b, func(g field) error {
				switch g.num {
				case 1:
					domain = string(g.b)
				case opsetVersion:
					version = int64(g.v)
				}
				return nil
			})
			if domain == "" || domain == "ai.onnx" {
				m.opsetDomain, m.opset = domain, version
			}
			return err
		case modelGraph:
			graphs++
			return decodeGraph(f.b, &m.graph, strict)
		}
		return unexpected(strict, "ModelProto", f)
	})
	if err == nil && graphs != 1 {
		err = fmt.Errorf("ModelProto: %d graphs", graphs)
	}
	return m, err
}

func decodeGraph(b []byte, g *dGraph, strict bool) error {
	return each(b, func(f field) error {
		if f.num != graphNode && f.num != graphName && f.num != graphInitializer && f.num != graphInput && f.num != graphOutput {
			return unexpected(strict, "GraphProto", f)
		}
		if err := want(f, wireBytes); err != nil {
			return err
		}
		switch f.num {
		case graphName:
			g.name = string(f.b)
		case graphNode:
			n, err := decodeNode(f.b, strict)
			g.nodes = append(g.nodes, n)
			return err
		case graphInitializer:
			t, err := decodeTensor(f.b, strict)
			g.inits = append(g.inits, t)
			return err
		case graphInput, graphOutput:
			v, err := decodeValue(f.b, strict)
			if f.num == graphInput {
				g.inputs = append(g.inputs, v)
			} else {
				g.outputs = append(g.outputs, v)
			}
			return err
		default:
			return unexpected(strict, "GraphProto", f)
		}
		return nil
	})
}

func decodeNode(b []byte, strict bool) (dNode, error) {
	n := dNode{attrs: map[string]dAttr{}}
	err := each(b, func(f field) error {
		if f.num == nodeDomain {
			if len(f.b) > 0 {
				return fmt.Errorf("operator domain %q: only the default domain (ai.onnx) is read", f.b)
			}
			return unexpected(strict, "NodeProto", f)
		}
		if f.num > nodeAttribute {
			return unexpected(strict, "NodeProto", f)
		}
		if err := want(f, wireBytes); err != nil {
			return err
		}
		switch f.num {
		case nodeInput:
			n.inputs = append(n.inputs, string(f.b))
		case nodeOutput:
			n.outputs = append(n.outputs, string(f.b))
		case nodeName:
			n.name = string(f.b)
		case nodeOpType:
			n.op = string(f.b)
		case nodeAttribute:
			var name string
			var a dAttr
			err := each(f.b, func(g field) error {
				switch g.num {
				case attrName:
					name = string(g.b)
				case attrF:
					a.f = math.Float32frombits(uint32(g.v))
					return want(g, wireFixed32)
				case attrI:
					a.i = int64(g.v)
				case attrIntsNo:
					vs, err := repeatedInts(g)
					a.ints = append(a.ints, vs...)
					return err
				case attrType:
					a.typ = int64(g.v)
				default:
					return unexpected(strict, "AttributeProto", g)
				}
				return nil
			})
			if _, dup := n.attrs[name]; dup {
				return fmt.Errorf("attribute %q twice", name)
			}
			n.attrs[name] = a
			return err
		default:
			return unexpected(strict, "NodeProto", f)
		}
		return nil
	})
	return n, err
}

func varints(b []byte) ([]int64, error) {
	var vs []int64
	for len(b) > 0 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, fmt.Errorf("bad packed varint")
		}
		vs, b = append(vs, int64(v)), b[n:]
	}
	return vs, nil
}

func decodeTensor(b []byte, strict bool) (dTensor, error) {
	var t dTensor
	err := each(b, func(f field) error {
		switch f.num {
		case tensorDims:
			vs, err := repeatedInts(f)
			t.dims = append(t.dims, vs...)
			return err
		case tensorDataType:
			t.dtype = int64(f.v)
		case tensorName:
			t.name = string(f.b)
		case tensorRawData:
			t.raw = f.b
		default:
			return unexpected(strict, "TensorProto", f)
		}
		return nil
	})
	if err != nil {
		return t, err
	}
	n, size := int64(1), int64(4)
	if t.dtype == dataDouble {
		size = 8
	}
	for _, d := range t.dims {
		if d < 0 || d > 0 && n > int64(len(t.raw))/d { // past the data: no overflow below
			return t, fmt.Errorf("tensor %q: dims %v for %d raw bytes", t.name, t.dims, len(t.raw))
		}
		n *= d
	}
	if int64(len(t.raw)) != n*size {
		return t, fmt.Errorf("tensor %q: %d raw bytes for dims %v", t.name, len(t.raw), t.dims)
	}
	return t, nil
}

func decodeValue(b []byte, strict bool) (dValue, error) {
	var v dValue
	err := each(b, func(f field) error {
		switch f.num {
		case valueName:
			v.name = string(f.b)
			return nil
		case valueType:
			return each(f.b, func(g field) error {
				if g.num != typeTensor {
					return unexpected(strict, "TypeProto", g)
				}
				return each(g.b, func(h field) error {
					switch h.num {
					case tensorElemType:
						v.elem = int64(h.v)
					case tensorShape:
						return each(h.b, func(d field) error {
							return each(d.b, func(e field) error {
								switch e.num {
								case dimValue:
									v.dims = append(v.dims, fmt.Sprint(e.v))
								case dimParam:
									v.dims = append(v.dims, string(e.b))
								}
								return nil
							})
						})
					}
					return nil
				})
			})
		}
		return unexpected(strict, "ValueInfoProto", f)
	})
	return v, err
}

// nodeDomain is NodeProto's domain field.
const nodeDomain = 7

// unexpected fails on field f of message msg when decoding strictly, and
// skips it otherwise.
func unexpected(strict bool, msg string, f field) error {
	if strict {
		return fmt.Errorf("%s: unexpected field %d", msg, f.num)
	}
	return nil
}

// repeatedInts reads one field of a repeated int64: packed (what Export
// writes) or one varint per field (what PyTorch writes); a reader must
// take both.
func repeatedInts(f field) ([]int64, error) {
	if f.wire == wireVarint {
		return []int64{int64(f.v)}, nil
	}
	if f.wire != wireBytes {
		return nil, fmt.Errorf("field %d: wire type %d for repeated int64", f.num, f.wire)
	}
	return varints(f.b)
}
