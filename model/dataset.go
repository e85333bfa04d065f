package model

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/myelin-go/myelin/internal/jsonstrict"
)

// DatasetInfo describes the dataset a model was trained on, so that tools
// reading the model file can name its classes and notice when they are
// given different data. A model file stores it as JSON under the metadata
// key "dataset"; files written before it existed have none and still load,
// with Sequential.Dataset nil.
type DatasetInfo struct {
	Name       string   `json:"name"`                  // e.g. "mnist", "fashion-mnist", or the directory read
	InputShape []int    `json:"input_shape"`           // one sample's shape as the data has it, e.g. [28, 28]
	Classes    int      `json:"classes"`               // number of classes
	ClassNames []string `json:"class_names,omitempty"` // label i's name; empty when the labels are their own names (digits)
}

// datasetKey is the metadata key of the dataset record.
const datasetKey = "dataset"

// ClassName returns class k's name, or its number when d has no names.
func (d *DatasetInfo) ClassName(k int) string {
	if d != nil && k >= 0 && k < len(d.ClassNames) {
		return d.ClassNames[k]
	}
	return fmt.Sprint(k)
}

// Differs returns a one-line description of how other differs from d
// (name, input shape or number of classes), or "" when it does not, or
// when either is nil. An empty Name on either side matches any name, for
// data known only by its shape.
func (d *DatasetInfo) Differs(other *DatasetInfo) string {
	if d == nil || other == nil {
		return ""
	}
	var diffs []string
	if d.Name != "" && other.Name != "" && !strings.EqualFold(d.Name, other.Name) {
		diffs = append(diffs, fmt.Sprintf("%s, not %s", other.Name, d.Name))
	}
	if !slices.Equal(d.InputShape, other.InputShape) {
		diffs = append(diffs, fmt.Sprintf("input shape %v, not %v", other.InputShape, d.InputShape))
	}
	if d.Classes != other.Classes {
		diffs = append(diffs, fmt.Sprintf("%d classes, not %d", other.Classes, d.Classes))
	}
	return strings.Join(diffs, "; ")
}

// validate checks a record read from a file.
func (d *DatasetInfo) validate() error {
	if d.Classes < 0 {
		return fmt.Errorf("classes %d, want ≥ 0", d.Classes)
	}
	if len(d.ClassNames) != 0 && len(d.ClassNames) != d.Classes {
		return fmt.Errorf("%d class names for %d classes", len(d.ClassNames), d.Classes)
	}
	for _, n := range d.InputShape {
		if n <= 0 {
			return fmt.Errorf("input shape %v, want positive dimensions", d.InputShape)
		}
	}
	return nil
}

// putDataset stores m.Dataset in metadata md, if there is one.
func (m *Sequential) putDataset(md map[string]string) error {
	if m.Dataset == nil {
		return nil
	}
	if err := m.Dataset.validate(); err != nil {
		return fmt.Errorf("model: Dataset: %w", err)
	}
	b, err := json.Marshal(m.Dataset)
	if err != nil {
		return fmt.Errorf("model: Dataset: %w", err)
	}
	md[datasetKey] = string(b)
	return nil
}

// readDataset returns the dataset record in metadata md, or nil when there
// is none (a file from before the record existed).
func readDataset(md map[string]string) (*DatasetInfo, error) {
	s, ok := md[datasetKey]
	if !ok {
		return nil, nil
	}
	var d DatasetInfo
	if err := jsonstrict.Decode([]byte(s), &d); err != nil {
		return nil, err
	}
	if err := d.validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// ClassNamesOrNil returns d's class names, or nil when d is nil or has none.
func (d *DatasetInfo) ClassNamesOrNil() []string {
	if d == nil {
		return nil
	}
	return d.ClassNames
}
