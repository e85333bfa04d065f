package onnx

import (
	"encoding/binary"
	"math"

	"github.com/myelin-go/myelin/internal/protowire"
	"github.com/myelin-go/myelin/tensor"
)

// The ModelProto encoder, on internal/protowire's field encoders so that
// myelin has no protobuf dependency. A message is encoded by encoding its
// body into its own slice first and appending that with AppendBytes, which
// is simpler than back-patching a length and costs nothing that matters
// for a file written once.

// Field numbers of onnx.proto (ONNX 1.12, the messages this file writes).
const (
	modelIRVersion       = 1
	modelProducerName    = 2
	modelProducerVersion = 3
	modelGraph           = 7
	modelOpsetImport     = 8

	opsetVersion = 2

	graphNode        = 1
	graphName        = 2
	graphInitializer = 5
	graphInput       = 11
	graphOutput      = 12

	nodeInput     = 1
	nodeOutput    = 2
	nodeName      = 3
	nodeOpType    = 4
	nodeAttribute = 5

	attrName   = 1
	attrF      = 2
	attrI      = 3
	attrS      = 4
	attrIntsNo = 8
	attrType   = 20

	tensorDims     = 1
	tensorDataType = 2
	tensorName     = 8
	tensorRawData  = 9

	valueName = 1
	valueType = 2

	typeTensor     = 1
	tensorElemType = 1
	tensorShape    = 2
	shapeDim       = 1
	dimValue       = 1
	dimParam       = 2
)

// TensorProto.DataType values.
const (
	dataFloat  = 1
	dataInt64  = 7
	dataDouble = 11
)

func dataType(dt tensor.DType) int64 {
	if dt == tensor.Float64 {
		return dataDouble
	}
	return dataFloat
}

// header is what ModelProto holds besides the graph.
type header struct {
	ir, opset       int
	producerVersion string
	name            string // the graph's name: the model's
}

// encode returns the ModelProto of g, whose input is in and output out.
func encode(h header, g *Graph, in, out Value) []byte {
	var b []byte
	b = protowire.AppendInt(b, modelIRVersion, int64(h.ir))
	b = protowire.AppendString(b, modelProducerName, "myelin")
	b = protowire.AppendString(b, modelProducerVersion, h.producerVersion)
	b = protowire.AppendBytes(b, modelGraph, encodeGraph(h.name, g, in, out))
	// The default domain "" is ai.onnx; field 1 (domain) is left out.
	return protowire.AppendBytes(b, modelOpsetImport, protowire.AppendInt(nil, opsetVersion, int64(h.opset)))
}

func encodeGraph(name string, g *Graph, in, out Value) []byte {
	var b []byte
	for _, n := range g.nodes {
		b = protowire.AppendBytes(b, graphNode, encodeNode(n))
	}
	b = protowire.AppendString(b, graphName, name)
	for _, in := range g.inits {
		if in.t == nil {
			b = protowire.AppendBytes(b, graphInitializer, encodeInt64s(in.name, in.ints))
			continue
		}
		b = protowire.AppendBytes(b, graphInitializer, encodeTensor(in.name, in.t))
	}
	b = protowire.AppendBytes(b, graphInput, encodeValueInfo(in, g.dtype))
	return protowire.AppendBytes(b, graphOutput, encodeValueInfo(out, g.dtype))
}

func encodeNode(n node) []byte {
	var b []byte
	for _, s := range n.inputs {
		b = protowire.AppendString(b, nodeInput, s)
	}
	for _, s := range n.output {
		b = protowire.AppendString(b, nodeOutput, s)
	}
	b = protowire.AppendString(b, nodeName, n.name)
	b = protowire.AppendString(b, nodeOpType, n.op)
	for _, a := range n.attrs {
		b = protowire.AppendBytes(b, nodeAttribute, encodeAttr(a))
	}
	return b
}

func encodeAttr(a Attr) []byte {
	b := protowire.AppendString(nil, attrName, a.name)
	switch a.kind {
	case attrFloat:
		b = protowire.AppendFloat(b, attrF, a.f)
	case attrInt:
		b = protowire.AppendInt(b, attrI, a.i)
	case attrInts:
		b = protowire.AppendPackedInts(b, attrIntsNo, a.ints)
	}
	return protowire.AppendInt(b, attrType, int64(a.kind))
}

// encodeTensor writes t as raw little-endian data, which every ONNX
// reader accepts and which keeps each value's bits.
func encodeTensor(name string, t *tensor.Tensor) []byte {
	var b []byte
	dims := make([]int64, len(t.Shape()))
	for i, d := range t.Shape() {
		dims[i] = int64(d)
	}
	b = protowire.AppendPackedInts(b, tensorDims, dims)
	b = protowire.AppendInt(b, tensorDataType, dataType(t.DType()))
	b = protowire.AppendString(b, tensorName, name)
	var raw []byte
	if d := t.Float32s(); d != nil {
		raw = make([]byte, 0, 4*len(d))
		for _, v := range d {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	} else {
		d := t.Float64s()
		raw = make([]byte, 0, 8*len(d))
		for _, v := range d {
			raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(v))
		}
	}
	return protowire.AppendBytes(b, tensorRawData, raw)
}

// encodeInt64s writes the int64 vector vs as a raw little-endian tensor.
func encodeInt64s(name string, vs []int64) []byte {
	b := protowire.AppendPackedInts(nil, tensorDims, []int64{int64(len(vs))})
	b = protowire.AppendInt(b, tensorDataType, dataInt64)
	b = protowire.AppendString(b, tensorName, name)
	raw := make([]byte, 0, 8*len(vs))
	for _, v := range vs {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
	}
	return protowire.AppendBytes(b, tensorRawData, raw)
}

// encodeValueInfo writes a graph input or output: a tensor of dt shaped
// ("batch", v.Shape...), the batch dimension symbolic.
func encodeValueInfo(v Value, dt tensor.DType) []byte {
	shape := protowire.AppendBytes(nil, shapeDim, protowire.AppendString(nil, dimParam, "batch"))
	for _, d := range v.Shape {
		shape = protowire.AppendBytes(shape, shapeDim, protowire.AppendInt(nil, dimValue, int64(d)))
	}
	tt := protowire.AppendInt(nil, tensorElemType, dataType(dt))
	tt = protowire.AppendBytes(tt, tensorShape, shape)
	b := protowire.AppendString(nil, valueName, v.Name)
	return protowire.AppendBytes(b, valueType, protowire.AppendBytes(nil, typeTensor, tt))
}
