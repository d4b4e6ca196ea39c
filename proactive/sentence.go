package proactive

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A sentence is the template of what Alexa says for a schema, as
// SchemaInfo.Template documents it: literal text, <path> holes, [optional]
// groups and <path?V=text|text> choices.
type sentence []piece

// piece is literal text, a hole (path set), a choice (path and branches
// set) or an optional group (group set).
type piece struct {
	text     string
	path     []string
	branches []branch
	group    sentence
}

// branch is one text of a choice: said when the value is one of values,
// or for any other value when values is nil.
type branch struct {
	values []string
	body   sentence
}

// branchValues matches the "V1,V2=" that starts a branch.
var branchValues = regexp.MustCompile(`^[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*=`)

// mustParseSentence parses a template of the catalogue, and panics on a
// malformed one: a mistake in this package that every test run shows.
func mustParseSentence(tmpl string) sentence {
	s, rest, err := parseSentence(tmpl, "")
	if err == nil && rest != "" {
		err = fmt.Errorf("unexpected %q", rest[:1])
	}
	if err != nil {
		panic(fmt.Sprintf("proactive: template %q: %v", tmpl, err))
	}
	return s
}

// parseSentence reads pieces up to one of the characters of stop (or the
// end), and returns them with the unread rest.
func parseSentence(s, stop string) (sentence, string, error) {
	var out sentence
	for s != "" {
		i := strings.IndexAny(s, "<>[]|")
		if i < 0 {
			i = len(s)
		}
		if i > 0 {
			out = append(out, piece{text: s[:i]})
			s = s[i:]
			continue
		}
		switch c := s[:1]; {
		case strings.Contains(stop, c):
			return out, s, nil
		case c == "[":
			g, rest, err := parseSentence(s[1:], "]")
			if err != nil {
				return nil, "", err
			}
			if !strings.HasPrefix(rest, "]") {
				return nil, "", fmt.Errorf("unclosed [")
			}
			out = append(out, piece{group: g})
			s = rest[1:]
		case c == "<":
			p, rest, err := parseHole(s[1:])
			if err != nil {
				return nil, "", err
			}
			out = append(out, p)
			s = rest
		default:
			return nil, "", fmt.Errorf("unexpected %q", c)
		}
	}
	return out, "", nil
}

// parseHole reads "path>" or "path?branch|branch>".
func parseHole(s string) (piece, string, error) {
	end := strings.IndexAny(s, "?>")
	if end <= 0 {
		return piece{}, "", fmt.Errorf("malformed hole at %q", s)
	}
	p := piece{path: strings.Split(s[:end], ".")}
	if s[end] == '>' {
		return p, s[end+1:], nil
	}
	s = s[end+1:]
	for {
		var b branch
		if m := branchValues.FindString(s); m != "" {
			b.values = strings.Split(m[:len(m)-1], ",")
			s = s[len(m):]
		}
		body, rest, err := parseSentence(s, "|>")
		if err != nil {
			return piece{}, "", err
		}
		b.body = body
		p.branches = append(p.branches, b)
		switch {
		case strings.HasPrefix(rest, "|"):
			s = rest[1:]
		case strings.HasPrefix(rest, ">"):
			return p, rest[1:], nil
		default:
			return piece{}, "", fmt.Errorf("unclosed choice <%s", strings.Join(p.path, "."))
		}
	}
}

// holes returns the path of every hole and choice of s.
func (s sentence) holes() [][]string {
	var out [][]string
	for _, p := range s {
		if p.path != nil {
			out = append(out, p.path)
		}
		for _, b := range p.branches {
			out = append(out, b.body.holes()...)
		}
		out = append(out, p.group.holes()...)
	}
	return out
}

// payloadView is a typed payload read through its declaration, for one
// locale: text resolves a localizedattribute:KEY value and returns
// literals as they are.
type payloadView struct {
	value reflect.Value // the payload struct
	decl  *field
	text  func(string) string
}

// say renders s. absent is true when a hole of s (outside its own groups)
// has no value: the enclosing group is then left out.
func (v payloadView) say(s sentence) (out string, absent bool) {
	var b strings.Builder
	for _, p := range s {
		switch {
		case p.path != nil && p.branches != nil:
			raw, _, ok := v.lookup(p.path)
			if !ok {
				absent = true
				continue
			}
			i := slices.IndexFunc(p.branches, func(b branch) bool { return slices.Contains(b.values, raw) })
			if i < 0 {
				i = slices.IndexFunc(p.branches, func(b branch) bool { return b.values == nil })
			}
			if i >= 0 {
				text, a := v.say(p.branches[i].body)
				b.WriteString(text)
				absent = absent || a
			}
		case p.path != nil:
			_, said, ok := v.lookup(p.path)
			if !ok || said == "" {
				absent = true
			}
			b.WriteString(said)
		case p.group != nil:
			if text, a := v.say(p.group); !a {
				b.WriteString(text)
			}
		default:
			b.WriteString(p.text)
		}
	}
	return b.String(), absent
}

// lookup returns the value at path as sent (raw) and as said, and whether
// it is present. A field with another placement (or=) falls back to it.
func (v payloadView) lookup(path []string) (raw, said string, ok bool) {
	val, decl := v.value, v.decl
	for i, key := range path {
		f := decl.child(key)
		if f == nil {
			return "", "", false
		}
		val = val.Field(f.index)
		if val.Kind() == reflect.Pointer {
			if val.IsNil() {
				return v.fallback(path[:i], f)
			}
			val = val.Elem()
		}
		decl = f
	}
	switch decl.kind {
	case kindString, kindText:
		raw = val.String()
		said = strings.TrimSpace(v.text(raw))
	case kindTime:
		raw = val.String()
		said = spokenTime(raw)
	case kindEnum:
		raw = val.String()
		said = decl.enum.say(raw)
	case kindEnumList:
		items := make([]string, val.Len())
		spoken := make([]string, val.Len())
		for i := range val.Len() {
			items[i] = val.Index(i).String()
			spoken[i] = decl.enum.say(items[i])
		}
		raw, said = strings.Join(items, ","), and(spoken)
	case kindCount:
		raw = strconv.FormatInt(val.Int(), 10)
		said = raw
	default:
		return "", "", false
	}
	if raw == "" {
		return v.fallback(path[:len(path)-1], decl)
	}
	return raw, said, true
}

// fallback looks up the other placement of the absent field f, below the
// object at parent.
func (v payloadView) fallback(parent []string, f *field) (raw, said string, ok bool) {
	if f.or == nil {
		return "", "", false
	}
	return v.lookup(append(slices.Clone(parent), f.or...))
}

// say says an enum value: SNOW_STORM is "snow storm", and a proper
// name's first letter is a capital.
func (e enumSet) say(v string) string {
	s := strings.ToLower(strings.ReplaceAll(v, "_", " "))
	if e.proper && s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}
