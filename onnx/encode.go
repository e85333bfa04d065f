package onnx

import (
	"encoding/binary"
	"math"

	"github.com/myelin-go/myelin/tensor"
)

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
	b = appendInt(b, modelIRVersion, int64(h.ir))
	b = appendString(b, modelProducerName, "myelin")
	b = appendString(b, modelProducerVersion, h.producerVersion)
	b = appendBytes(b, modelGraph, encodeGraph(h.name, g, in, out))
	// The default domain "" is ai.onnx; field 1 (domain) is left out.
	return appendBytes(b, modelOpsetImport, appendInt(nil, opsetVersion, int64(h.opset)))
}

func encodeGraph(name string, g *Graph, in, out Value) []byte {
	var b []byte
	for _, n := range g.nodes {
		b = appendBytes(b, graphNode, encodeNode(n))
	}
	b = appendString(b, graphName, name)
	for _, in := range g.inits {
		b = appendBytes(b, graphInitializer, encodeTensor(in.name, in.t))
	}
	b = appendBytes(b, graphInput, encodeValueInfo(in, g.dtype))
	return appendBytes(b, graphOutput, encodeValueInfo(out, g.dtype))
}

func encodeNode(n node) []byte {
	var b []byte
	for _, s := range n.inputs {
		b = appendString(b, nodeInput, s)
	}
	for _, s := range n.output {
		b = appendString(b, nodeOutput, s)
	}
	b = appendString(b, nodeName, n.name)
	b = appendString(b, nodeOpType, n.op)
	for _, a := range n.attrs {
		b = appendBytes(b, nodeAttribute, encodeAttr(a))
	}
	return b
}

func encodeAttr(a Attr) []byte {
	b := appendString(nil, attrName, a.name)
	switch a.kind {
	case attrFloat:
		b = appendFloat(b, attrF, a.f)
	case attrInt:
		b = appendInt(b, attrI, a.i)
	case attrInts:
		b = appendPackedInts(b, attrIntsNo, a.ints)
	}
	return appendInt(b, attrType, int64(a.kind))
}

// encodeTensor writes t as raw little-endian data, which every ONNX
// reader accepts and which keeps each value's bits.
func encodeTensor(name string, t *tensor.Tensor) []byte {
	var b []byte
	dims := make([]int64, len(t.Shape()))
	for i, d := range t.Shape() {
		dims[i] = int64(d)
	}
	b = appendPackedInts(b, tensorDims, dims)
	b = appendInt(b, tensorDataType, dataType(t.DType()))
	b = appendString(b, tensorName, name)
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
	return appendBytes(b, tensorRawData, raw)
}

// encodeValueInfo writes a graph input or output: a tensor of dt shaped
// ("batch", v.Shape...), the batch dimension symbolic.
func encodeValueInfo(v Value, dt tensor.DType) []byte {
	shape := appendBytes(nil, shapeDim, appendString(nil, dimParam, "batch"))
	for _, d := range v.Shape {
		shape = appendBytes(shape, shapeDim, appendInt(nil, dimValue, int64(d)))
	}
	tt := appendInt(nil, tensorElemType, dataType(dt))
	tt = appendBytes(tt, tensorShape, shape)
	b := appendString(nil, valueName, v.Name)
	return appendBytes(b, valueType, appendBytes(nil, typeTensor, tt))
}
