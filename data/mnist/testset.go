package mnist

import "fmt"

// LoadTest decodes only the embedded MNIST test set: 10,000 images of 28×28
// pixels in 10 classes. Evaluating or classifying a few images needs no
// training images, and decoding the 60,000 of them is most of Load's time
// and memory.
func LoadTest() (*Set, error) {
	return loadTest(10, readEmbedded)
}

// LoadTestDir loads only the test split of an MNIST-like dataset in dir:
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each optionally
// gzip-compressed, with the same checks as LoadDir. The training files
// need not exist. Classes is inferred from the test labels alone, so it
// is less than LoadDir's when the largest class never occurs in the test
// set.
func LoadTestDir(dir string) (*Set, error) {
	return loadTest(0, dirReader(dir))
}

// loadTest reads the test images and labels through read (as load does)
// and sets Classes to classes, or infers it from the labels when 0.
func loadTest(classes int, read reader) (*Set, error) {
	images, imagesName, err := read(TestImages)
	if err != nil {
		return nil, err
	}
	labels, labelsName, err := read(TestLabels)
	if err != nil {
		return nil, err
	}
	s, err := newSet(images, labels, imagesName, labelsName)
	if err != nil {
		return nil, err
	}
	inferred := 0
	for i, l := range s.Labels {
		if classes > 0 && int(l) >= classes {
			return nil, &FormatError{Path: labelsName, Field: "labels",
				Want: fmt.Sprintf("labels in [0, %d)", classes),
				Got:  fmt.Sprintf("label %d at index %d", l, i)}
		}
		inferred = max(inferred, int(l)+1)
	}
	s.Classes = classes
	if classes == 0 {
		s.Classes = inferred
	}
	return s, nil
}
