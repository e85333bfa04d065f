package main

import (
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// readIDX reads a gzipped IDX file of unsigned bytes (MNIST's format) and
// returns its dimensions and data.
func readIDX(path string) (dims []int, data []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("gorgonia: %s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, nil, fmt.Errorf("gorgonia: %s: %v", path, err)
	}
	return parseIDX(path, b)
}

// parseIDX decodes an IDX file of unsigned bytes: a magic number
// 0x0000080N (N dimensions), N big-endian uint32 sizes, then the bytes.
func parseIDX(name string, b []byte) (dims []int, data []byte, err error) {
	if len(b) < 4 {
		return nil, nil, fmt.Errorf("gorgonia: %s: %d bytes, too short for an IDX header", name, len(b))
	}
	magic := binary.BigEndian.Uint32(b)
	if magic>>8 != 0x08 {
		return nil, nil, fmt.Errorf("gorgonia: %s: magic %#x, want an unsigned-byte IDX file (0x0000080N)", name, magic)
	}
	nd := int(magic & 0xff)
	if len(b) < 4+4*nd {
		return nil, nil, fmt.Errorf("gorgonia: %s: header of %d dimensions cut short", name, nd)
	}
	n := 1
	for i := 0; i < nd; i++ {
		d := int(binary.BigEndian.Uint32(b[4+4*i:]))
		dims = append(dims, d)
		n *= d
	}
	data = b[4+4*nd:]
	if len(data) != n {
		return nil, nil, fmt.Errorf("gorgonia: %s: %d data bytes, dimensions %v want %d", name, len(data), dims, n)
	}
	return dims, data, nil
}

// loadTrain returns MNIST's training images as float32 pixels/255, row by
// row (n×784), and their labels.
func loadTrain(dir string) (x []float32, labels []byte, err error) {
	dims, img, err := readIDX(filepath.Join(dir, "train-images-idx3-ubyte.gz"))
	if err != nil {
		return nil, nil, err
	}
	if len(dims) != 3 || dims[1]*dims[2] != features {
		return nil, nil, fmt.Errorf("gorgonia: training images of shape %v, want n×28×28", dims)
	}
	ldims, labels, err := readIDX(filepath.Join(dir, "train-labels-idx1-ubyte.gz"))
	if err != nil {
		return nil, nil, err
	}
	if len(ldims) != 1 || ldims[0] != dims[0] {
		return nil, nil, fmt.Errorf("gorgonia: %v labels for %d images", ldims, dims[0])
	}
	x = make([]float32, len(img))
	for i, p := range img {
		x[i] = float32(p) / 255
	}
	return x, labels, nil
}
