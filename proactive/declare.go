package proactive

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Each schema of the catalogue is declared once: its payload struct, whose
// json tags name the fields and whose schema tags give their rules, and its
// catalogue entry (declare), which adds the sentence Alexa speaks and an
// example. The validator, Preview and Skeleton all read that declaration,
// so adding a field to a schema is one edit of its struct.
//
// The schema tag holds comma-separated options:
//
//	required  the field must be present whenever its object is
//	text=KEY  a localized text: Alexa expects localizedattribute:KEY, and a
//	          literal is only warned about. On an object with one string
//	          field (Named), the option applies to that field.
//	time      an ISO 8601 date-time string
//	or=PATH   required unless PATH, read from the same object, is present:
//	          the field's other placement, which Preview falls back to
//	alias=KEY another spelling of the key, checked with the same rules
//	most=N    a list longer than N is a warning, not an error
//
// The Go type gives the rest: a string type with an enum method is an
// enumeration, and a slice of one a non-empty list of its values; an int is
// a whole number, 0 or more; a struct, or a pointer to one, is an object;
// any other string must not be empty.

// kind is how a payload field is checked and said.
type kind int

const (
	kindObject kind = iota
	kindString
	kindText
	kindTime
	kindEnum
	kindEnumList
	kindCount
)

// field is the declaration of one payload field, at one place in a schema:
// the same Go type (Named) may carry different rules in different places.
type field struct {
	key      string // the JSON key
	index    int    // the Go field's index in its struct
	kind     kind
	required bool
	// placeholder is the conventional value of a kindText field.
	placeholder string
	enum        enumSet // kindEnum, kindEnumList
	// or is the path of the field's other placement, from its object,
	// and other that placement's declaration, which is checked right
	// after this field (and is marked placement) so that both places of
	// one value are reported together.
	or        []string
	other     *field
	placement bool
	alias     string
	most      int      // kindEnumList: 0 means no limit
	fields    []*field // kindObject
}

// timeRule is what a kindTime field must be.
const timeRule = "an ISO 8601 date-time such as 2026-11-25T12:00:00Z"

// countRule is what a kindCount field must be.
const countRule = "a whole number, 0 or more"

// what says what the field must be, after "is required: ".
func (f *field) what() string {
	switch f.kind {
	case kindObject:
		return "an object"
	case kindTime:
		return timeRule
	case kindEnum:
		return "one of " + f.enum.String()
	case kindEnumList:
		return "an array of " + f.enum.String()
	case kindCount:
		return countRule
	}
	return "a string"
}

// child returns the field of an object declared under key, or nil.
func (f *field) child(key string) *field {
	for _, c := range f.fields {
		if c.key == key {
			return c
		}
	}
	return nil
}

// enumerated is implemented by the string types of enumerated fields.
type enumerated interface{ enum() enumSet }

var enumeratedType = reflect.TypeFor[enumerated]()

// enumSet is the list of values of one enumerated type: the one source of
// the values, for the validator and its messages alike.
type enumSet struct {
	values []string
	// proper is true for values said capitalized, such as a day's name.
	proper bool
}

func enumOf[T ~string](values ...T) enumSet {
	e := enumSet{values: make([]string, len(values))}
	for i, v := range values {
		e.values[i] = string(v)
	}
	return e
}

func (e enumSet) has(s string) bool {
	for _, v := range e.values {
		if v == s {
			return true
		}
	}
	return false
}

func (e enumSet) String() string { return strings.Join(e.values, ", ") }

// describe returns the declaration of the payload struct t: its fields, in
// the order they are checked and reported. It panics on a declaration it
// cannot read, a mistake in this package that every test run would show.
func describe(t reflect.Type) *field {
	root := &field{kind: kindObject}
	root.fields = describeStruct(t)
	return root
}

func describeStruct(t reflect.Type) []*field {
	var out []*field
	for i := range t.NumField() {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || key == "-" {
			continue
		}
		if key == "" {
			panic(fmt.Sprintf("proactive: %s.%s has no json name", t.Name(), sf.Name))
		}
		f := &field{key: key, index: i}
		var text, isTime bool
		for opt := range strings.SplitSeq(sf.Tag.Get("schema"), ",") {
			name, value, _ := strings.Cut(opt, "=")
			switch name {
			case "":
			case "required":
				f.required = true
			case "text":
				text, f.placeholder = true, PlaceholderPrefix+value
			case "time":
				isTime = true
			case "or":
				f.or = strings.Split(value, ".")
			case "alias":
				f.alias = value
			case "most":
				n, err := strconv.Atoi(value)
				if err != nil {
					panic(fmt.Sprintf("proactive: %s.%s: most=%s", t.Name(), sf.Name, value))
				}
				f.most = n
			default:
				panic(fmt.Sprintf("proactive: %s.%s: unknown schema option %q", t.Name(), sf.Name, opt))
			}
		}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			f.kind, f.fields = kindObject, describeStruct(ft)
			if text {
				textField(t, sf, f)
			}
		case ft.Kind() == reflect.String && ft.Implements(enumeratedType):
			f.kind, f.enum = kindEnum, reflect.Zero(ft).Interface().(enumerated).enum()
		case ft.Kind() == reflect.String && isTime:
			f.kind = kindTime
		case ft.Kind() == reflect.String && text:
			f.kind = kindText
		case ft.Kind() == reflect.String:
			f.kind = kindString
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String && ft.Elem().Implements(enumeratedType):
			f.kind, f.enum = kindEnumList, reflect.Zero(ft.Elem()).Interface().(enumerated).enum()
		case ft.Kind() == reflect.Int:
			f.kind = kindCount
		default:
			panic(fmt.Sprintf("proactive: %s.%s: unsupported type %s", t.Name(), sf.Name, sf.Type))
		}
		if f.alias != "" && f.required {
			panic(fmt.Sprintf("proactive: %s.%s: an alias is for optional fields", t.Name(), sf.Name))
		}
		out = append(out, f)
	}
	for _, f := range out {
		if f.or != nil {
			f.other = (&field{fields: out}).at(f.or)
			if f.other == nil || f.other.kind != f.kind {
				panic(fmt.Sprintf("proactive: %s.%s: or=%s is not a field of the same kind", t.Name(), f.key, strings.Join(f.or, ".")))
			}
			f.other.placement = true
		}
	}
	return out
}

// at returns the field declared at path below the object f, or nil.
func (f *field) at(path []string) *field {
	for _, key := range path {
		if f = f.child(key); f == nil {
			return nil
		}
	}
	return f
}

// textField applies text=KEY, given on the object f, to its one string
// field.
func textField(t reflect.Type, sf reflect.StructField, f *field) {
	var only *field
	for _, c := range f.fields {
		if c.kind == kindString {
			if only != nil {
				panic(fmt.Sprintf("proactive: %s.%s: text on an object with several strings", t.Name(), sf.Name))
			}
			only = c
		}
	}
	if only == nil {
		panic(fmt.Sprintf("proactive: %s.%s: text on an object without a string", t.Name(), sf.Name))
	}
	only.kind, only.placeholder = kindText, f.placeholder
	f.placeholder = ""
}

// declare returns the catalogue entry of the payload type T: its name
// (from T.EventName), its fields (from T's tags), and the sentence and
// example of info.
func declare[T Schema](info SchemaInfo) schemaDef {
	var zero T
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("proactive: schema %s is not a struct", t))
	}
	info.Name = zero.EventName()
	return schemaDef{SchemaInfo: info, typ: t, root: describe(t), sentence: mustParseSentence(info.Template)}
}
