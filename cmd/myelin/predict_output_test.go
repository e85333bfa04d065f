package main

import (
	"bytes"
	"testing"

	"github.com/myelin-go/myelin/tensor"
)

func TestRankAndText(t *testing.T) {
	p := tensor.FromFloat32([]float32{0.1, 0.6, 0.3, 0.5, 0.25, 0.25}, 2, 3)
	names := []string{"cat", "dog", "Ankle boot"}
	preds := rank(p, 2, 4, []source{{"pet.png", -1}, {"many.csv", 3}}, []uint8{1, 2}, names)
	var b bytes.Buffer
	for _, pr := range preds {
		pr.writeText(&b)
	}
	want := "pet.png: dog (class 1, p=0.6000) label dog ok top: dog 0.6000, Ankle boot 0.3000\n" +
		"5: cat (class 0, p=0.5000) label Ankle boot WRONG top: cat 0.5000, dog 0.2500\n"
	if got := b.String(); got != want {
		t.Errorf("text:\ngot  %q\nwant %q", got, want)
	}
	// Names that do not fit the outputs are not used.
	b.Reset()
	rank(p, 1, 0, nil, nil, names[:2])[0].writeText(&b)
	if got, want := b.String(), "0: class 1 (p=0.6000)\n"; got != want {
		t.Errorf("text with 2 names for 3 classes: got %q, want %q", got, want)
	}
	// k above the number of classes gives them all.
	if got := len(rank(p, 9, 0, nil, nil, nil)[0].Top); got != 3 {
		t.Errorf("top 9 of 3 classes: got %d entries, want 3", got)
	}
}
