package proactive

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/alexa-oos/alexa/internal/text"
	"github.com/alexa-oos/alexa/internal/validate"
)

// findings collects the violations and warnings of one payload.
type findings struct {
	vs       validate.Violations
	warnings []string
}

// object checks the fields of obj, the decoded JSON object at path,
// against their declaration. An object that is absent or not an object
// was reported where it was found: nothing below it is checked.
func (f *findings) object(path string, obj map[string]any, decl *field) {
	f.unknownKeys(path, obj, decl)
	for _, fd := range decl.fields {
		if fd.placement {
			continue // checked with the field it is the other placement of
		}
		f.field(path, obj, fd, fd.key)
		if fd.alias != "" {
			f.field(path, obj, fd, fd.alias)
		}
		if fd.other != nil {
			// The other placement's object, if it is one: an absent one
			// or another value was reported in its own place.
			parent, in := path, obj
			for _, key := range fd.or[:len(fd.or)-1] {
				if in, _ = in[key].(map[string]any); in == nil {
					break
				}
				parent += "." + key
			}
			if in != nil {
				f.field(parent, in, fd.other, fd.other.key)
			}
		}
	}
}

// unknownKeys warns of the keys of obj that decl does not declare: a
// misspelt one, such as "urgencyy", would otherwise be dropped without a
// word (and Alexa may refuse it).
func (f *findings) unknownKeys(path string, obj map[string]any, decl *field) {
	var known []string
	for _, fd := range decl.fields {
		known = append(known, fd.key)
		if fd.alias != "" {
			known = append(known, fd.alias)
		}
		if len(fd.or) > 1 {
			known = append(known, fd.or[0])
		}
	}
	var unknown []string
	for k := range obj {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return
	}
	slices.Sort(unknown)
	slices.Sort(known)
	known = slices.Compact(known)
	for _, k := range unknown {
		f.warnings = append(f.warnings, fmt.Sprintf("%s.%s: unknown field; the schema has %s here", path, k, strings.Join(known, ", ")))
	}
}

// field checks the value of obj[key] against fd.
func (f *findings) field(parent string, obj map[string]any, fd *field, key string) {
	path := parent + "." + key
	v := obj[key]
	if v == nil {
		if fd.required && !(fd.or != nil && present(obj, fd.or)) {
			f.vs.Add(path, "is required: "+fd.what(), nil)
		}
		return
	}
	switch fd.kind {
	case kindObject:
		m, ok := v.(map[string]any)
		if !ok {
			f.vs.Add(path, "must be an object", shown(v))
			return
		}
		f.object(path, m, fd)
	case kindString:
		f.str(path, v)
	case kindText:
		s, ok := f.str(path, v)
		if !ok {
			return
		}
		k, isPlaceholder := strings.CutPrefix(s, PlaceholderPrefix)
		switch {
		case isPlaceholder && strings.TrimSpace(k) == "":
			f.vs.Add(path, "must name a key: "+fd.placeholder, s)
		case !isPlaceholder:
			// Sources disagree on how strict Alexa is with literals;
			// Validate already checks that every locale resolves a key.
			f.warnings = append(f.warnings, fmt.Sprintf("%s: %s is a literal; the schema expects a placeholder such as %s, resolved per locale", path, text.ShowValue(s), fd.placeholder))
		}
	case kindTime:
		if s, isStr := v.(string); !isStr {
			f.vs.Add(path, "must be "+timeRule, shown(v))
		} else if _, err := ParseTime(s); err != nil {
			f.vs.Add(path, "must be "+timeRule, s)
		}
	case kindEnum:
		f.enum(path, v, fd.enum)
	case kindEnumList:
		list, ok := v.([]any)
		switch {
		case !ok:
			f.vs.Add(path, "must be an array of "+fd.enum.String(), shown(v))
		case len(list) == 0:
			f.vs.Add(path, "must list at least one of "+fd.enum.String(), nil)
		}
		for i, item := range list {
			f.enum(fmt.Sprintf("%s[%d]", path, i), item, fd.enum)
		}
		if fd.most > 0 && len(list) > fd.most {
			f.warnings = append(f.warnings, fmt.Sprintf("%s: %d %s; one source allows at most %d", path, len(list), spokenKey(key), fd.most))
		}
	case kindCount:
		if i, isInt := wholeNumber(v); !isInt || i < 0 {
			f.vs.Add(path, "must be "+countRule, shown(v))
		}
	}
}

// str checks a non-empty string.
func (f *findings) str(path string, v any) (string, bool) {
	s, ok := v.(string)
	switch {
	case !ok:
		f.vs.Add(path, "must be a string", shown(v))
	case strings.TrimSpace(s) == "":
		f.vs.Add(path, "must not be empty", s)
	default:
		return s, true
	}
	return "", false
}

func (f *findings) enum(path string, v any, e enumSet) {
	if s, ok := v.(string); !ok || !e.has(s) {
		f.vs.Add(path, "must be one of "+e.String(), shown(v))
	}
}

// present reports whether the value at path below obj is present and not
// null.
func present(obj map[string]any, path []string) bool {
	var v any = obj
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		v = m[k]
	}
	return v != nil
}

func wholeNumber(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	case float64: // a payload decoded without UseNumber
		return int64(x), x == float64(int64(x))
	}
	return 0, false
}

// spokenKey says a JSON key: garbageTypes is "garbage types".
func spokenKey(key string) string {
	var b strings.Builder
	for _, c := range key {
		if c >= 'A' && c <= 'Z' {
			b.WriteByte(' ')
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// jsonText is JSON that text.ShowValue prints unquoted.
type jsonText string

// shown renders objects and arrays of a violation's value as JSON rather
// than Go's map syntax.
func shown(v any) any {
	switch v.(type) {
	case map[string]any, []any:
		b, _ := json.Marshal(v)
		return jsonText(b)
	}
	return v
}
