package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/myelin-go/myelin/tensor"
)

// prediction is predict's answer for one input; its JSON is --json's.
type prediction struct {
	Index       int       `json:"index"`
	Input       string    `json:"input,omitempty"` // the --images file; "-" for standard input
	Row         *int      `json:"row,omitempty"`   // the row within Input, for files of many samples
	Class       int       `json:"class"`
	ClassName   string    `json:"class_name,omitempty"`
	Probability float64   `json:"probability"`
	Label       *int      `json:"label,omitempty"`
	LabelName   string    `json:"label_name,omitempty"`
	Top         []ranked  `json:"top"`
	Outputs     []float64 `json:"outputs"`
}

// ranked is one of an input's most probable classes.
type ranked struct {
	Class       int     `json:"class"`
	ClassName   string  `json:"class_name,omitempty"`
	Probability float64 `json:"probability"`
}

// rank turns the model's outputs p (n × classes) into predictions with
// the k most probable classes each, most probable first (ties to the lower
// class). Input i is numbered first+i, named inputs[i] when inputs has a
// name for it, and labelled labels[i] when labels is not nil; names are
// the class names, used when there is one per class.
func rank(p *tensor.Tensor, k, first int, inputs []source, labels []uint8, names []string) []prediction {
	n := p.Dim(0)
	c := p.Len() / n
	if len(names) != c {
		names = nil
	}
	name := func(k int) string {
		if names == nil {
			return ""
		}
		return names[k]
	}
	preds := make([]prediction, n)
	for i := range n {
		pr := prediction{Index: first + i, Outputs: make([]float64, c)}
		if i < len(inputs) {
			pr.Input = inputs[i].File
			if row := inputs[i].Row; row >= 0 {
				pr.Row = &row
			}
		}
		order := make([]int, c)
		for j := range c {
			pr.Outputs[j] = p.Index(i*c + j)
			order[j] = j
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(pr.Outputs[b], pr.Outputs[a]) })
		for _, j := range order[:min(k, c)] {
			pr.Top = append(pr.Top, ranked{Class: j, ClassName: name(j), Probability: pr.Outputs[j]})
		}
		pr.Class, pr.ClassName, pr.Probability = pr.Top[0].Class, pr.Top[0].ClassName, pr.Top[0].Probability
		if labels != nil {
			l := int(labels[i])
			pr.Label = &l
			if l < len(names) {
				pr.LabelName = names[l]
			}
		}
		preds[i] = pr
	}
	return preds
}

// writeText writes pr as one line: "7: class 2 (p=0.9876) label 2 ok", or
// with class names "0: Ankle boot (class 9, p=0.9876) label Ankle boot ok";
// a picture's line starts with its file name instead of its index, and
// with --top K > 1 the line ends with the K classes.
func (pr prediction) writeText(w io.Writer) {
	var b strings.Builder
	if pr.Input != "" && pr.Row == nil {
		b.WriteString(pr.Input)
	} else {
		b.WriteString(strconv.Itoa(pr.Index))
	}
	b.WriteString(": ")
	if pr.ClassName != "" {
		fmt.Fprintf(&b, "%s (class %d, p=%.4f)", pr.ClassName, pr.Class, pr.Probability)
	} else {
		fmt.Fprintf(&b, "class %d (p=%.4f)", pr.Class, pr.Probability)
	}
	if pr.Label != nil {
		mark := "ok"
		if *pr.Label != pr.Class {
			mark = "WRONG"
		}
		label := strconv.Itoa(*pr.Label)
		if pr.LabelName != "" {
			label = pr.LabelName
		}
		fmt.Fprintf(&b, " label %s %s", label, mark)
	}
	if len(pr.Top) > 1 {
		b.WriteString(" top:")
		for i, r := range pr.Top {
			if i > 0 {
				b.WriteByte(',')
			}
			c := strconv.Itoa(r.Class)
			if r.ClassName != "" {
				c = r.ClassName
			}
			fmt.Fprintf(&b, " %s %.4f", c, r.Probability)
		}
	}
	fmt.Fprintln(w, b.String())
}
