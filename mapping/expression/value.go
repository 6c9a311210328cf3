package expression

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/openprovisioning/provisioner/mapping/internal/azvalue"
)

// Kind is the type of a Value.
type Kind uint8

// Value kinds. Azure has no date attribute type; dates exist only between
// date functions and print as M/d/yyyy h:mm:ss tt in UTC.
const (
	KindNull Kind = iota
	KindString
	KindBool
	KindInt
	KindFloat
	KindDate
	KindList
)

// DateLayout is how Azure prints a DateTime: M/d/yyyy h:mm:ss tt.
const DateLayout = "1/2/2006 3:04:05 PM"

// Value is the result of evaluating an expression or a sub-expression.
// It is kept small because values are passed by copy at every call.
type Value struct {
	kind Kind
	// ignore marks the null produced by IgnoreFlowIfNullOrEmpty: the target
	// attribute is left out of the flow instead of being cleared.
	ignore bool
	s      string
	// n holds integers, booleans (0 or 1) and the bits of floats.
	n int64
	// ref holds a date's time.Time or a list's []string.
	ref any
}

func (v Value) float() float64 { return math.Float64frombits(uint64(v.n)) }

func (v Value) date() time.Time {
	t, _ := v.ref.(time.Time)
	return t
}

func (v Value) list() []string {
	l, _ := v.ref.([]string)
	return l
}

// Null is the absent value.
func Null() Value { return Value{} }

// StringValue returns a string value.
func StringValue(s string) Value { return Value{kind: KindString, s: s} }

// BoolValue returns a boolean value.
func BoolValue(b bool) Value {
	v := Value{kind: KindBool}
	if b {
		v.n = 1
	}
	return v
}

// IntValue returns an integer value.
func IntValue(n int64) Value { return Value{kind: KindInt, n: n} }

// FloatValue returns a floating-point value.
func FloatValue(f float64) Value { return Value{kind: KindFloat, n: int64(math.Float64bits(f))} }

// DateValue returns a date value, kept in UTC.
func DateValue(t time.Time) Value { return Value{kind: KindDate, ref: t.UTC()} }

// ListValue returns a multi-valued value; an empty list is null.
func ListValue(l []string) Value {
	if len(l) == 0 {
		return Value{}
	}
	return Value{kind: KindList, ref: l}
}

// FromNative converts an attribute value (string, bool, int64, int,
// float64, []string or nil) to a Value; a list that went through JSON
// ([]any of strings, as staged records are read back) is a list too.
// Unknown types are null.
func FromNative(v any) Value {
	switch x := v.(type) {
	case string:
		return StringValue(x)
	case bool:
		return BoolValue(x)
	case int64:
		return IntValue(x)
	case int:
		return IntValue(int64(x))
	case float64:
		return FloatValue(x)
	case []string:
		return ListValue(x)
	case []any:
		l := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return Value{}
			}
			l = append(l, s)
		}
		return ListValue(l)
	}
	return Value{}
}

// Kind returns the value's kind.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether the value is absent.
func (v Value) IsNull() bool { return v.kind == KindNull }

// IsNullOrEmpty reports whether the value is absent or the empty string.
func (v Value) IsNullOrEmpty() bool {
	return v.kind == KindNull || (v.kind == KindString && v.s == "")
}

// Ignored reports whether IgnoreFlowIfNullOrEmpty dropped the value: the
// target attribute must be left as it is.
func (v Value) Ignored() bool { return v.ignore }

// Native converts the value to an attribute value: string, bool, int64,
// float64, []string or nil. Dates become strings in DateLayout.
func (v Value) Native() any {
	switch v.kind {
	case KindString:
		return v.s
	case KindBool:
		return v.n != 0
	case KindInt:
		return v.n
	case KindFloat:
		return v.float()
	case KindDate:
		return v.date().Format(DateLayout)
	case KindList:
		return slices.Clone(v.list())
	}
	return nil
}

// Text returns the string form of a single value: booleans as
// "True"/"False", dates in DateLayout, a one-element list as its element.
// ok is false for null and for lists of several values.
func (v Value) Text() (s string, ok bool) {
	switch v.kind {
	case KindString:
		return v.s, true
	case KindBool:
		return azvalue.FormatBool(v.n != 0), true
	case KindInt:
		return strconv.FormatInt(v.n, 10), true
	case KindFloat:
		return azvalue.FormatFloat(v.float()), true
	case KindDate:
		return v.date().Format(DateLayout), true
	case KindList:
		if l := v.list(); len(l) == 1 {
			return l[0], true
		}
	}
	return "", false
}

// Values returns the value as a list: a list's elements, a single value as
// one element, null as none.
func (v Value) Values() []string {
	switch v.kind {
	case KindNull:
		return nil
	case KindList:
		return v.list()
	}
	s, _ := v.Text()
	return []string{s}
}

// String implements fmt.Stringer for messages and tests.
func (v Value) String() string {
	switch v.kind {
	case KindNull:
		return "null"
	case KindList:
		return strconv.Quote(azvalue.Display(v.list()))
	}
	s, _ := v.Text()
	return strconv.Quote(s)
}
