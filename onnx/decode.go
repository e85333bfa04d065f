package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/myelin-go/myelin/internal/protowire"
)

// A reader for the ONNX messages Export writes, on internal/protowire, used by
// Import and by the tests. It fails on anything malformed (a truncated
// varint, a length past the end, a group). Strict decoding, which the
// tests use on Export's output, also rejects every field Export does not
// write; lenient decoding, Import's, skips fields that carry no
// computation (doc strings, metadata, value_info).

// field is one decoded protobuf field.
type field = protowire.Field

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
	s    string
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
	case dataInt64: // a Reshape's shape; exact below 2⁵³
		for i := 0; i+8 <= len(t.raw); i += 8 {
			out = append(out, float64(int64(binary.LittleEndian.Uint64(t.raw[i:]))))
		}
	}
	return out
}

type dValue struct {
	name string
	elem int64
	dims []string // "batch" or a number
}

func decodeModel(b []byte, strict bool) (*dModel, error) {
	m := &dModel{}
	graphs := 0
	err := protowire.Each(b, func(f field) error {
		switch f.Num {
		case modelIRVersion:
			m.ir = int64(f.V)
			return f.Want(protowire.Varint)
		case modelProducerName:
			m.producer = string(f.B)
			return f.Want(protowire.Bytes)
		case modelProducerVersion:
			m.prodV = string(f.B)
			return f.Want(protowire.Bytes)
		case modelOpsetImport:
			var domain string
			var version int64
			err := protowire.Each(f.B, func(g field) error {
				switch g.Num {
				case 1:
					domain = string(g.B)
				case opsetVersion:
					version = int64(g.V)
				}
				return nil
			})
			if domain == "" || domain == "ai.onnx" {
				m.opsetDomain, m.opset = domain, version
			}
			return err
		case modelGraph:
			graphs++
			return decodeGraph(f.B, &m.graph, strict)
		}
		return unexpected(strict, "ModelProto", f)
	})
	if err == nil && graphs != 1 {
		err = fmt.Errorf("ModelProto: %d graphs", graphs)
	}
	return m, err
}

func decodeGraph(b []byte, g *dGraph, strict bool) error {
	return protowire.Each(b, func(f field) error {
		if f.Num != graphNode && f.Num != graphName && f.Num != graphInitializer && f.Num != graphInput && f.Num != graphOutput {
			return unexpected(strict, "GraphProto", f)
		}
		if err := f.Want(protowire.Bytes); err != nil {
			return err
		}
		switch f.Num {
		case graphName:
			g.name = string(f.B)
		case graphNode:
			n, err := decodeNode(f.B, strict)
			g.nodes = append(g.nodes, n)
			return err
		case graphInitializer:
			t, err := decodeTensor(f.B, strict)
			g.inits = append(g.inits, t)
			return err
		case graphInput, graphOutput:
			v, err := decodeValue(f.B, strict)
			if f.Num == graphInput {
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
	err := protowire.Each(b, func(f field) error {
		if f.Num == nodeDomain {
			if len(f.B) > 0 {
				return fmt.Errorf("operator domain %q: only the default domain (ai.onnx) is read", f.B)
			}
			return unexpected(strict, "NodeProto", f)
		}
		if f.Num > nodeAttribute {
			return unexpected(strict, "NodeProto", f)
		}
		if err := f.Want(protowire.Bytes); err != nil {
			return err
		}
		switch f.Num {
		case nodeInput:
			n.inputs = append(n.inputs, string(f.B))
		case nodeOutput:
			n.outputs = append(n.outputs, string(f.B))
		case nodeName:
			n.name = string(f.B)
		case nodeOpType:
			n.op = string(f.B)
		case nodeAttribute:
			var name string
			var a dAttr
			err := protowire.Each(f.B, func(g field) error {
				switch g.Num {
				case attrName:
					name = string(g.B)
				case attrF:
					a.f = math.Float32frombits(uint32(g.V))
					return g.Want(protowire.Fixed32)
				case attrI:
					a.i = int64(g.V)
				case attrS:
					a.s = string(g.B)
					return g.Want(protowire.Bytes)
				case attrIntsNo:
					vs, err := protowire.RepeatedInts(g)
					a.ints = append(a.ints, vs...)
					return err
				case attrType:
					a.typ = int64(g.V)
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

func decodeTensor(b []byte, strict bool) (dTensor, error) {
	var t dTensor
	err := protowire.Each(b, func(f field) error {
		switch f.Num {
		case tensorDims:
			vs, err := protowire.RepeatedInts(f)
			t.dims = append(t.dims, vs...)
			return err
		case tensorDataType:
			t.dtype = int64(f.V)
		case tensorName:
			t.name = string(f.B)
		case tensorRawData:
			t.raw = f.B
		default:
			return unexpected(strict, "TensorProto", f)
		}
		return nil
	})
	if err != nil {
		return t, err
	}
	n, size := int64(1), elemSize(t.dtype)
	if size == 0 {
		return t, fmt.Errorf("tensor %q: data type %d is not one ONNX defines with a fixed size", t.name, t.dtype)
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
	err := protowire.Each(b, func(f field) error {
		switch f.Num {
		case valueName:
			v.name = string(f.B)
			return nil
		case valueType:
			return protowire.Each(f.B, func(g field) error {
				if g.Num != typeTensor {
					return unexpected(strict, "TypeProto", g)
				}
				return protowire.Each(g.B, func(h field) error {
					switch h.Num {
					case tensorElemType:
						v.elem = int64(h.V)
					case tensorShape:
						return protowire.Each(h.B, func(d field) error {
							return protowire.Each(d.B, func(e field) error {
								switch e.Num {
								case dimValue:
									v.dims = append(v.dims, fmt.Sprint(e.V))
								case dimParam:
									v.dims = append(v.dims, string(e.B))
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
		return fmt.Errorf("%s: unexpected field %d", msg, f.Num)
	}
	return nil
}

// elemSize returns the bytes of one element of ONNX data type dt in
// raw_data, 0 for a type without a fixed size (string) or unknown.
func elemSize(dt int64) int64 {
	switch dt {
	case 2, 3, 9: // uint8, int8, bool
		return 1
	case 4, 5, 10, 16: // uint16, int16, float16, bfloat16
		return 2
	case dataFloat, 6, 12: // float, int32, uint32
		return 4
	case dataInt64, dataDouble, 13, 14: // int64, double, uint64, complex64
		return 8
	case 15: // complex128
		return 16
	}
	return 0
}
