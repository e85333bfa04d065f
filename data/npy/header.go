package npy

import (
	"fmt"
	"strconv"
)

// header is the content of a .npy header dict.
type header struct {
	descr   string
	fortran bool
	shape   []int
	descrAt int // offset of the descr value in the header
	shapeAt int // offset of the shape value in the header
}

// parser is a strict parser for the one Python literal a .npy header holds:
//
//	dict  = "{" [ item { "," item } [ "," ] ] "}"
//	item  = str ":" value
//	value = str | "True" | "False" | tuple
//	tuple = "(" ")" | "(" int "," ")" | "(" int { "," int } [ "," ] ")"  (two or more ints)
//	str   = "'" chars "'" | '"' chars '"'   (printable ASCII, no backslash)
//	int   = "0" | [1-9][0-9]* [ "L" ]
//
// with spaces or tabs allowed between tokens. The keys must be exactly
// 'descr', 'fortran_order' and 'shape', each once. After the closing brace
// only spaces may follow, then the final newline.
type parser struct {
	s   []byte
	pos int
	// field is what is being parsed: "header", or the key whose value.
	field string
	// On failure: the offset, the field, what was wanted and what was found.
	at                   int
	failField, want, got string
}

func (p *parser) fail(want string) bool {
	if p.want == "" {
		p.at, p.want, p.failField = p.pos, want, p.field
		if p.pos >= len(p.s) {
			p.got = "end of header"
		} else {
			end := min(p.pos+20, len(p.s))
			p.got = strconv.Quote(string(p.s[p.pos:end]))
		}
	}
	return false
}

func (p *parser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// token consumes c after optional spaces.
func (p *parser) token(c byte) bool {
	p.space()
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *parser) peek() byte {
	p.space()
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *parser) str() (string, bool) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", p.fail("a string")
	}
	start := p.pos + 1
	for i := start; i < len(p.s); i++ {
		c := p.s[i]
		if c == q {
			p.pos = i + 1
			return string(p.s[start:i]), true
		}
		if c < 0x20 || c > 0x7e || c == '\\' {
			p.pos = i
			return "", p.fail("a plain printable ASCII string")
		}
	}
	p.pos = len(p.s)
	return "", p.fail("a closing quote")
}

func (p *parser) word(w string) bool {
	p.space()
	if len(p.s)-p.pos >= len(w) && string(p.s[p.pos:p.pos+len(w)]) == w {
		p.pos += len(w)
		return true
	}
	return false
}

func (p *parser) boolean() (bool, bool) {
	switch {
	case p.word("True"):
		return true, true
	case p.word("False"):
		return false, true
	}
	return false, p.fail("True or False")
}

func (p *parser) integer() (int, bool) {
	p.space()
	start := p.pos
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	digits := string(p.s[start:p.pos])
	if digits == "" {
		return 0, p.fail("a non-negative integer")
	}
	if len(digits) > 1 && digits[0] == '0' {
		p.pos = start
		return 0, p.fail("an integer without leading zeros")
	}
	n, err := strconv.ParseInt(digits, 10, 0)
	if err != nil {
		p.pos = start
		return 0, p.fail("an integer that fits an int")
	}
	if p.pos < len(p.s) && p.s[p.pos] == 'L' { // Python 2 long
		p.pos++
	}
	return int(n), true
}

func (p *parser) tuple() ([]int, bool) {
	if !p.token('(') {
		return nil, p.fail("a tuple")
	}
	shape := []int{}
	if p.token(')') {
		return shape, true
	}
	for {
		if len(shape) == MaxDims {
			return nil, p.fail(fmt.Sprintf("at most %d dimensions", MaxDims))
		}
		n, ok := p.integer()
		if !ok {
			return nil, false
		}
		shape = append(shape, n)
		comma := p.token(',')
		if p.token(')') {
			if len(shape) == 1 && !comma {
				p.pos--
				return nil, p.fail("a comma: (n) is not a tuple in Python, (n,) is")
			}
			return shape, true
		}
		if !comma {
			return nil, p.fail("',' or ')'")
		}
	}
}

// parseHeader parses a .npy header. On failure it returns the offset in
// the header, the field ("header", "descr", "fortran_order" or "shape"),
// what was wanted and what was found.
func parseHeader(s []byte) (h header, at int, field, want, got string) {
	p := &parser{s: s, field: "header"}
	if !p.dict(&h) {
		return h, p.at, p.failField, p.want, p.got
	}
	for p.pos < len(s)-1 && s[p.pos] == ' ' {
		p.pos++
	}
	if p.pos != len(s)-1 || s[p.pos] != '\n' {
		p.fail("spaces and a final newline after the dict")
		return h, p.at, p.failField, p.want, p.got
	}
	return h, 0, "", "", ""
}

func (p *parser) dict(h *header) bool {
	if !p.token('{') {
		return p.fail("'{'")
	}
	seen := map[string]bool{}
	for !p.token('}') {
		keyAt := p.pos
		key, ok := p.str()
		if !ok {
			return false
		}
		if seen[key] {
			p.pos = keyAt
			return p.fail(fmt.Sprintf("no repeated key (%q again)", key))
		}
		seen[key] = true
		if !p.token(':') {
			return p.fail("':'")
		}
		p.space()
		p.field = key
		switch key {
		case "descr":
			h.descrAt = p.pos
			if p.peek() == '[' {
				return p.fail("a dtype string (structured dtypes are not supported)")
			}
			if h.descr, ok = p.str(); !ok {
				return false
			}
		case "fortran_order":
			if h.fortran, ok = p.boolean(); !ok {
				return false
			}
		case "shape":
			h.shapeAt = p.pos
			if h.shape, ok = p.tuple(); !ok {
				return false
			}
		default:
			p.pos, p.field = keyAt, "header"
			return p.fail("only the keys 'descr', 'fortran_order' and 'shape'")
		}
		p.field = "header"
		if !p.token(',') {
			if !p.token('}') {
				return p.fail("',' or '}'")
			}
			break
		}
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return p.fail(fmt.Sprintf("key '%s'", k))
		}
	}
	return true
}
