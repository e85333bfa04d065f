package model_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/model"
)

func TestDatasetRoundTrip(t *testing.T) {
	m := small(t)
	want := &model.DatasetInfo{Name: "three", InputShape: []int{5}, Classes: 3, ClassNames: []string{"a", "b", "c"}}
	m.Dataset = want
	f, err := m.File()
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["dataset"] == "" {
		t.Fatalf("metadata: got no \"dataset\" key, want the record (metadata %v)", f.Metadata)
	}
	got, err := model.Decode(encodeFile(t, f))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Dataset, want) {
		t.Errorf("Dataset after a round trip: got %+v, want %+v", got.Dataset, want)
	}
	if n := got.Dataset.ClassName(2); n != "c" {
		t.Errorf("ClassName(2): got %q, want %q", n, "c")
	}
}

func TestDatasetAbsentInOldFile(t *testing.T) {
	m, err := model.Load(filepath.Join(compatDir, "model-v1.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Dataset != nil {
		t.Errorf("Dataset of a file from before the record: got %+v, want nil", m.Dataset)
	}
	if n := m.Dataset.ClassName(4); n != "4" {
		t.Errorf("nil Dataset's ClassName(4): got %q, want \"4\"", n)
	}
}

func TestDatasetBadRecord(t *testing.T) {
	for name, rec := range map[string]string{
		"not JSON":      `{`,
		"unknown field": `{"name": "x", "input_shape": [5], "classes": 3, "colour": 1}`,
		"names count":   `{"name": "x", "input_shape": [5], "classes": 3, "class_names": ["a"]}`,
		"bad shape":     `{"name": "x", "input_shape": [0], "classes": 3}`,
	} {
		t.Run(name, func(t *testing.T) {
			f, err := small(t).File()
			if err != nil {
				t.Fatal(err)
			}
			f.Metadata["dataset"] = rec
			_, err = model.Decode(encodeFile(t, f))
			var le *model.LoadError
			if !errors.As(err, &le) || le.Key != "__metadata__.dataset" {
				t.Fatalf("Decode with dataset %s: got %v, want a *LoadError for __metadata__.dataset", rec, err)
			}
		})
	}
	m := small(t)
	m.Dataset = &model.DatasetInfo{Classes: 3, ClassNames: []string{"a"}}
	if _, err := m.File(); err == nil || !strings.Contains(err.Error(), "class names") {
		t.Errorf("File with 1 name for 3 classes: got %v, want an error about class names", err)
	}
}

func TestDatasetDiffers(t *testing.T) {
	d := &model.DatasetInfo{Name: "mnist", InputShape: []int{28, 28}, Classes: 10}
	for _, c := range []struct {
		other *model.DatasetInfo
		want  string
	}{
		{&model.DatasetInfo{Name: "MNIST", InputShape: []int{28, 28}, Classes: 10}, ""},
		{nil, ""},
		{&model.DatasetInfo{Name: "", InputShape: []int{28, 28}, Classes: 10}, ""},
		{&model.DatasetInfo{Name: "fashion-mnist", InputShape: []int{28, 28}, Classes: 10}, "fashion-mnist, not mnist"},
		{&model.DatasetInfo{Name: "mnist", InputShape: []int{32, 32}, Classes: 5}, "input shape [32 32], not [28 28]; 5 classes, not 10"},
	} {
		if got := d.Differs(c.other); got != c.want {
			t.Errorf("Differs(%+v): got %q, want %q", c.other, got, c.want)
		}
	}
}
