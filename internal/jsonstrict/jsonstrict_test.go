package jsonstrict

import (
	"strings"
	"testing"
)

type cfg struct {
	Units int    `json:"units"`
	Name  string `json:"name"`
}

func TestDecode(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	for _, c := range []struct {
		name, in, want string // want: "" for success, else a part of the error
	}{
		{"ok", `{"units": 3, "name": "d"}`, ""},
		{"unknown field", `{"units": 3, "size": 1}`, `unknown field "size"`},
		{"duplicate key", `{"units": 3, "units": 4}`, `offset 13: key "units": want unique keys, got a duplicate`},
		{"duplicate by case", `{"units": 3, "Units": 4}`, `got a duplicate of "units" (keys match regardless of case)`},
		{"duplicate by folding", `{"name": "a", "ſ": 1, "s": 2}`, `key "s": want unique keys, got a duplicate of "ſ"`},
		{"trailing value", `{"units": 3} {}`, "offset 13: want the end of the JSON, got more data"},
		{"trailing garbage", `{"units": 3} x`, "offset"},
		{"empty", ``, "offset 0: want a JSON value, got the end of the input"},
		{"truncated", `{"units": 3`, "want a JSON value, got the end of the input"},
		{"wrong type", `{"units": "3"}`, "offset 13: json: cannot unmarshal string"},
		{"too deep", `{"name": ` + deep + `}`, "levels of nesting"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var v cfg
			err := Decode([]byte(c.in), &v)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Decode(%s): got error %v, want none", c.in, err)
			case c.want == "" && (v.Units != 3 || v.Name != "d"):
				t.Fatalf("Decode(%s): got %+v, want {Units:3 Name:d}", c.in, v)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("Decode(%s): got error %v, want one containing %q", c.in, err, c.want)
			}
		})
	}
}
