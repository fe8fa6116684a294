package digest

// A parser for RFC 8941 Structured Field Dictionaries, following the parsing
// algorithms of its §4.2, with the Date and Display String types RFC 9651
// added. Only what Content-Digest needs is kept: each member's bare value when
// it is a byte sequence. Everything else is validated and dropped.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// kind is the type of a dictionary member's value.
type kind int

const (
	kindOther     kind = iota // integer, decimal, string, token, boolean, date, display string
	kindBytes                 // byte sequence
	kindInnerList             // inner list
)

// member is a dictionary member's value, parameters dropped.
type member struct {
	kind  kind
	bytes []byte // for kindBytes
}

// parser holds the input not consumed yet.
type parser struct{ s string }

func (p *parser) empty() bool { return p.s == "" }

// peek returns the next byte, or 0 at the end.
func (p *parser) peek() byte {
	if p.s == "" {
		return 0
	}
	return p.s[0]
}

func (p *parser) skipSP() { p.s = strings.TrimLeft(p.s, " ") }

func (p *parser) skipOWS() { p.s = strings.TrimLeft(p.s, " \t") }

// errEnd reports input that ended too early.
var errEnd = errors.New("unexpected end")

func (p *parser) unexpected(what string) error {
	if p.empty() {
		return fmt.Errorf("%w, want %s", errEnd, what)
	}
	return fmt.Errorf("unexpected %q, want %s", p.s[0], what)
}

// parseDictionary parses a dictionary field value (RFC 8941 §4.2, §4.2.2).
// Leading and trailing white space is ignored; an empty value is an empty
// dictionary.
func parseDictionary(s string) (map[string]member, error) {
	p := &parser{s: strings.Trim(s, " \t")}
	dict := make(map[string]member)
	for !p.empty() {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		var m member
		if p.peek() == '=' {
			p.s = p.s[1:]
			if m, err = p.itemOrInnerList(); err != nil {
				return nil, err
			}
		} else if err := p.parameters(); err != nil { // Boolean true
			return nil, err
		}
		dict[key] = m
		p.skipOWS()
		if p.empty() {
			break
		}
		if p.peek() != ',' {
			return nil, p.unexpected(`","`)
		}
		p.s = p.s[1:]
		p.skipOWS()
		if p.empty() {
			return nil, errors.New("trailing comma")
		}
	}
	return dict, nil
}

func isLCAlpha(c byte) bool { return 'a' <= c && c <= 'z' }
func isAlpha(c byte) bool   { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool   { return '0' <= c && c <= '9' }

// isTChar reports whether c is an RFC 9110 tchar.
func isTChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isBase64Char(c byte) bool { return isAlpha(c) || isDigit(c) || c == '+' || c == '/' || c == '=' }

// key parses a key (§4.2.3.3).
func (p *parser) key() (string, error) {
	if c := p.peek(); !isLCAlpha(c) && c != '*' {
		return "", p.unexpected("a key (lowercase)")
	}
	i := 1
	for i < len(p.s) {
		c := p.s[i]
		if !isLCAlpha(c) && !isDigit(c) && strings.IndexByte("_-.*", c) < 0 {
			break
		}
		i++
	}
	k := p.s[:i]
	p.s = p.s[i:]
	return k, nil
}

// itemOrInnerList parses an item or an inner list (§4.2.1.1).
func (p *parser) itemOrInnerList() (member, error) {
	if p.peek() != '(' {
		return p.item()
	}
	p.s = p.s[1:]
	for {
		p.skipSP()
		if p.empty() {
			return member{}, p.unexpected(`")"`)
		}
		if p.peek() == ')' {
			p.s = p.s[1:]
			return member{kind: kindInnerList}, p.parameters()
		}
		if _, err := p.item(); err != nil {
			return member{}, err
		}
		if c := p.peek(); c != ' ' && c != ')' {
			return member{}, p.unexpected(`" " or ")"`)
		}
	}
}

// item parses an item: a bare item and its parameters (§4.2.3).
func (p *parser) item() (member, error) {
	m, err := p.bareItem()
	if err != nil {
		return member{}, err
	}
	return m, p.parameters()
}

// parameters parses and drops parameters (§4.2.3.2).
func (p *parser) parameters() error {
	for p.peek() == ';' {
		p.s = p.s[1:]
		p.skipSP()
		if _, err := p.key(); err != nil {
			return err
		}
		if p.peek() == '=' {
			p.s = p.s[1:]
			if _, err := p.bareItem(); err != nil {
				return err
			}
		}
	}
	return nil
}

// bareItem parses a bare item (§4.2.3.1, RFC 9651 §4.2.3.1).
func (p *parser) bareItem() (member, error) {
	var err error
	switch c := p.peek(); {
	case c == '-' || isDigit(c):
		err = p.number()
	case c == '"':
		err = p.str()
	case c == '*' || isAlpha(c):
		p.token()
	case c == ':':
		var b []byte
		b, err = p.byteSequence()
		return member{kind: kindBytes, bytes: b}, err
	case c == '?':
		err = p.boolean()
	case c == '@':
		p.s = p.s[1:]
		var decimal bool
		if decimal, err = p.numberKind(); err == nil && decimal {
			err = errors.New("date is not an integer")
		}
	case c == '%':
		err = p.displayString()
	default:
		err = p.unexpected("a value")
	}
	return member{}, err
}

// number parses an integer or a decimal (§4.2.4).
func (p *parser) number() error {
	_, err := p.numberKind()
	return err
}

// numberKind parses an integer or a decimal and reports which it was.
func (p *parser) numberKind() (decimal bool, err error) {
	s := strings.TrimPrefix(p.s, "-")
	if s == "" || !isDigit(s[0]) {
		return false, errors.New("malformed number")
	}
	i, dot := 0, -1
	for ; i < len(s); i++ {
		c := s[i]
		if isDigit(c) {
			continue
		}
		if c == '.' && dot < 0 {
			if i > 12 {
				return false, errors.New("decimal too long")
			}
			dot = i
			continue
		}
		break
	}
	switch {
	case dot < 0 && i > 15:
		return false, errors.New("integer too long")
	case dot >= 0 && (dot == i-1 || i-dot-1 > 3):
		return false, errors.New("malformed decimal")
	}
	p.s = s[i:]
	return dot >= 0, nil
}

// str parses a string (§4.2.5).
func (p *parser) str() error {
	for i := 1; i < len(p.s); i++ {
		switch c := p.s[i]; {
		case c == '\\':
			i++
			if i == len(p.s) || (p.s[i] != '"' && p.s[i] != '\\') {
				return errors.New("bad escape in string")
			}
		case c == '"':
			p.s = p.s[i+1:]
			return nil
		case c < 0x20 || c > 0x7E:
			return fmt.Errorf("invalid character %q in string", c)
		}
	}
	return fmt.Errorf("%w of string", errEnd)
}

// token parses a token (§4.2.6); the first character is already checked.
func (p *parser) token() {
	i := 1
	for i < len(p.s) && (isTChar(p.s[i]) || p.s[i] == ':' || p.s[i] == '/') {
		i++
	}
	p.s = p.s[i:]
}

// byteSequence parses a byte sequence (§4.2.7). Padding may be left out, as
// §4.2.7 asks parsers to tolerate.
func (p *parser) byteSequence() ([]byte, error) {
	end := strings.IndexByte(p.s[1:], ':')
	if end < 0 {
		return nil, fmt.Errorf("%w of byte sequence", errEnd)
	}
	b64 := p.s[1 : 1+end]
	p.s = p.s[end+2:]
	for i := 0; i < len(b64); i++ {
		if !isBase64Char(b64[i]) {
			return nil, fmt.Errorf("invalid character %q in byte sequence", b64[i])
		}
	}
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
	if err != nil {
		return nil, fmt.Errorf("byte sequence: %v", err)
	}
	if b == nil {
		b = []byte{} // :: is an empty byte sequence, not an absent one
	}
	return b, nil
}

// boolean parses a boolean (§4.2.8).
func (p *parser) boolean() error {
	if len(p.s) < 2 || (p.s[1] != '0' && p.s[1] != '1') {
		return errors.New("malformed boolean")
	}
	p.s = p.s[2:]
	return nil
}

// displayString parses a display string (RFC 9651 §4.2.10).
func (p *parser) displayString() error {
	if !strings.HasPrefix(p.s, `%"`) {
		return errors.New("malformed display string")
	}
	var b []byte
	for i := 2; i < len(p.s); i++ {
		switch c := p.s[i]; {
		case c == '%':
			if i+2 >= len(p.s) || !isLowerHex(p.s[i+1]) || !isLowerHex(p.s[i+2]) {
				return errors.New("bad escape in display string")
			}
			b = append(b, unhex(p.s[i+1])<<4|unhex(p.s[i+2]))
			i += 2
		case c == '"':
			if !utf8.Valid(b) {
				return errors.New("display string is not UTF-8")
			}
			p.s = p.s[i+1:]
			return nil
		case c < 0x20 || c > 0x7E:
			return fmt.Errorf("invalid character %q in display string", c)
		default:
			b = append(b, c)
		}
	}
	return fmt.Errorf("%w of display string", errEnd)
}

func isLowerHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' }

func unhex(c byte) byte {
	if isDigit(c) {
		return c - '0'
	}
	return c - 'a' + 10
}
