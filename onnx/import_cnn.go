package onnx

import (
	"slices"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
)

// Importing convolutional models. ONNX's images are NCHW, myelin's NHWC:
// Import keeps myelin's layout throughout and tracks which layout the
// graph's tensor is in at each node (imageState), so that a Transpose
// between the two is no layer at all, a Conv's kernel is read in either
// of the two layouts that reach it (Export's HWIO behind a Transpose, or
// PyTorch's OIHW initializer), and a Flatten of an NCHW tensor (PyTorch's
// x.flatten(1)) becomes myelin's Flatten with the next Gemm's input rows
// reordered to match.

// imageState is where a rank-4 tensor of the graph stands.
type imageState struct {
	nchw bool  // the graph's tensor is NCHW (else NHWC)
	h, w int64 // its height and width
	flat bool  // after GlobalAveragePool: myelin's tensor is already (N, C)
}

// derivedKernel is a Transpose node applied to an initializer (Export's
// kernel_oihw): its output names the initializer, permuted.
type derivedKernel struct {
	init dTensor
	perm []int64
}

// convKernel returns the Conv's kernel initializer and whether it is OIHW
// (PyTorch's, to transpose) rather than HWIO behind Export's Transpose.
func convKernel(n dNode, inits map[string]dTensor, derived map[string]derivedKernel) (dTensor, bool, error) {
	if len(n.inputs) < 2 {
		return dTensor{}, false, nodeError(n, "no weight input")
	}
	if d, ok := derived[n.inputs[1]]; ok {
		if !slices.Equal(d.perm, []int64{3, 2, 0, 1}) || len(d.init.dims) != 4 {
			return dTensor{}, false, nodeError(n, "weight %q is %q transposed by %v, want an HWIO kernel transposed by [3 2 0 1]", n.inputs[1], d.init.name, d.perm)
		}
		return d.init, false, nil
	}
	t, ok := inits[n.inputs[1]]
	if !ok || len(t.dims) != 4 {
		return dTensor{}, false, nodeError(n, "weight %q is not a rank-4 initializer", n.inputs[1])
	}
	return t, true, nil
}

// importPadding maps a Conv's or pool's auto_pad and pads over an image
// of h×w to Keras's "valid" or TensorFlow's "same"; anything else is an
// error naming the pads.
func importPadding(n dNode, h, w int64, k, s, d [2]int) (nn.Padding, error) {
	switch a := n.attrs["auto_pad"].s; a {
	case "", "NOTSET":
	case "VALID":
		return nn.Valid, nil
	case "SAME_UPPER":
		return nn.Same, nil
	default:
		return 0, nodeError(n, "auto_pad %s: only VALID and SAME_UPPER (TensorFlow's same) are imported", a)
	}
	pads := n.attrs["pads"].ints
	if len(pads) == 0 || !slices.ContainsFunc(pads, func(p int64) bool { return p != 0 }) {
		return nn.Valid, nil
	}
	if len(pads) == 4 {
		same := true
		for ax, size := range []int64{h, w} {
			out, before := nn.OutSize(int(size), k[ax], s[ax], d[ax], nn.Same)
			total := max((out-1)*s[ax]+(k[ax]-1)*d[ax]+1-int(size), 0)
			if pads[ax] != int64(before) || pads[ax+2] != int64(total-before) {
				same = false
			}
		}
		if same {
			return nn.Same, nil
		}
	}
	return 0, nodeError(n, "pads %v: only none (valid) or TensorFlow's same padding are imported", pads)
}

// pair returns attribute name as two ints, def when absent.
func pair(n dNode, name string, def int) ([2]int, error) {
	a, ok := n.attrs[name]
	if !ok {
		return [2]int{def, def}, nil
	}
	if len(a.ints) != 2 || a.ints[0] <= 0 || a.ints[1] <= 0 {
		return [2]int{}, nodeError(n, "%s %v: want two positive values", name, a.ints)
	}
	return [2]int{int(a.ints[0]), int(a.ints[1])}, nil
}

// importConv reads a Conv on the NCHW image st of c channels.
func importConv(n dNode, st *imageState, c int64, inits map[string]dTensor, derived map[string]derivedKernel,
	weight func(dNode, int, int) (dTensor, error)) (*pending, int64, error) {
	if g := n.attrs["group"]; g.i > 1 {
		return nil, 0, nodeError(n, "group %d: grouped convolutions are not imported", g.i)
	}
	k, oihw, err := convKernel(n, inits, derived)
	if err != nil {
		return nil, 0, err
	}
	kh, kw, cin, filters := k.dims[0], k.dims[1], k.dims[2], k.dims[3]
	if oihw {
		filters, cin, kh, kw = k.dims[0], k.dims[1], k.dims[2], k.dims[3]
	}
	if cin != c {
		return nil, 0, nodeError(n, "a kernel for %d channels on %d", cin, c)
	}
	if ks, ok := n.attrs["kernel_shape"]; ok && !slices.Equal(ks.ints, []int64{kh, kw}) {
		return nil, 0, nodeError(n, "kernel_shape %v for a kernel of %d×%d", ks.ints, kh, kw)
	}
	strides, err := pair(n, "strides", 1)
	if err != nil {
		return nil, 0, err
	}
	dil, err := pair(n, "dilations", 1)
	if err != nil {
		return nil, 0, err
	}
	size := [2]int{int(kh), int(kw)}
	pad, err := importPadding(n, st.h, st.w, size, strides, dil)
	if err != nil {
		return nil, 0, err
	}
	conv := layers.NewConv2D(int(filters), layers.Size2{int(kh), int(kw)}, nn.Linear)
	conv.Strides, conv.DilationRate, conv.Padding = layers.Size2(strides), layers.Size2(dil), pad
	p := &pending{weights: map[string]dTensor{"kernel": k}, oihw: oihw}
	conv.UseBias = len(n.inputs) > 2 && n.inputs[2] != ""
	if conv.UseBias {
		b, err := weight(n, 2, 1)
		if err != nil {
			return nil, 0, err
		}
		if b.dims[0] != filters {
			return nil, 0, nodeError(n, "bias of %d for %d filters", b.dims[0], filters)
		}
		p.weights["bias"] = b
	}
	conv.SetName(layerName(k.name, "/kernel"))
	p.l = conv
	oh, _ := nn.OutSize(int(st.h), int(kh), strides[0], dil[0], pad)
	ow, _ := nn.OutSize(int(st.w), int(kw), strides[1], dil[1], pad)
	if oh <= 0 || ow <= 0 {
		return nil, 0, nodeError(n, "no output pixels from a %d×%d image", st.h, st.w)
	}
	st.h, st.w = int64(oh), int64(ow)
	return p, filters, nil
}

// importPool reads a MaxPool or AveragePool on the NCHW image st.
func importPool(n dNode, st *imageState) (*pending, error) {
	for _, a := range []string{"ceil_mode", "count_include_pad", "storage_order"} {
		if v, ok := n.attrs[a]; ok && v.i != 0 {
			return nil, nodeError(n, "%s %d: not imported (Keras's pools have no such mode)", a, v.i)
		}
	}
	if d, ok := n.attrs["dilations"]; ok && slices.ContainsFunc(d.ints, func(v int64) bool { return v != 1 }) {
		return nil, nodeError(n, "dilations %v: pools are not dilated in myelin", d.ints)
	}
	if len(n.outputs) != 1 {
		return nil, nodeError(n, "%d outputs (the Indices output is not imported)", len(n.outputs))
	}
	size, err := pair(n, "kernel_shape", 0)
	if err != nil || size[0] == 0 {
		return nil, nodeError(n, "kernel_shape %v: want two positive values", n.attrs["kernel_shape"].ints)
	}
	strides, err := pair(n, "strides", 1) // ONNX's default; Keras's would be the pool size
	if err != nil {
		return nil, err
	}
	pad, err := importPadding(n, st.h, st.w, size, strides, [2]int{1, 1})
	if err != nil {
		return nil, err
	}
	p := layers.Pool2D{PoolSize: layers.Size2(size), Strides: layers.Size2(strides), Padding: pad}
	if strides == size {
		p.Strides = layers.Size2{} // Keras's None: the pool size, as Export reads it
	}
	var l layers.Layer = &layers.MaxPooling2D{Pool2D: p}
	if n.op == "AveragePool" {
		l = &layers.AveragePooling2D{Pool2D: p}
	}
	if name := layerName(n.name, "/"+n.op); name != "" {
		l.(interface{ SetName(string) }).SetName(name)
	}
	oh, _ := nn.OutSize(int(st.h), size[0], strides[0], 1, pad)
	ow, _ := nn.OutSize(int(st.w), size[1], strides[1], 1, pad)
	if oh <= 0 || ow <= 0 {
		return nil, nodeError(n, "no output pixels from a %d×%d image", st.h, st.w)
	}
	st.h, st.w = int64(oh), int64(ow)
	return &pending{l: l}, nil
}

// nchwRows returns, for each input row of a Gemm that follows a Flatten of
// an NCHW tensor of c channels over h×w, the row of the ONNX weight that
// multiplies it: myelin flattens (h, w, c), ONNX (c, h, w).
func nchwRows(c, h, w int) []int {
	rows := make([]int, c*h*w)
	for y := range h {
		for x := range w {
			for ch := range c {
				rows[(y*w+x)*c+ch] = (ch*h+y)*w + x
			}
		}
	}
	return rows
}
