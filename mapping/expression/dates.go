package expression

import (
	"math"
	"strings"
	"time"
)

// Dates. Azure has no date attribute type: CDate, DateAdd, DateFromNum and
// Now produce a DateTime that prints as M/d/yyyy h:mm:ss tt in UTC, and
// date functions accept such strings back.

// lenientFormats are the shapes CDate and the other date functions read,
// standing in for .NET's DateTime.Parse: ISO 8601 with or without a time
// and offset (Workday's "2020-03-16-07:00"), the US form Azure prints,
// LDAP generalized time and RFC 1123.
var lenientFormats = func() []*dateFormat {
	var out []*dateFormat
	for _, f := range []string{
		"yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
		"yyyy-MM-dd'T'HH:mm:ssK",
		"yyyy-MM-dd'T'HH:mmK",
		"yyyy-MM-dd HH:mm:ss.FFFFFFFK",
		"yyyy-MM-dd HH:mm:ssK",
		"yyyy-MM-dd HH:mmK",
		"yyyy-MM-ddK",
		"M/d/yyyy h:mm:ss tt",
		"M/d/yyyy h:mm tt",
		"M/d/yyyy H:mm:ss",
		"M/d/yyyy H:mm",
		"M/d/yyyy",
		"yyyy/M/d H:mm:ss",
		"yyyy/M/d",
		"yyyyMMddHHmmss.FFFFFFFK",
		"yyyyMMddHHmmssK",
		"ddd, dd MMM yyyy HH:mm:ss 'GMT'",
		"d MMMM yyyy",
		"MMMM d, yyyy",
	} {
		df, err := parseDateFormat(f)
		if err != nil {
			panic(err)
		}
		out = append(out, df)
	}
	return out
}()

var lenientStyles = parseOptions{leadingWhite: true, trailingWhite: true, innerWhite: true, noCurrentDate: true}

// parseDate reads a date in any of the lenient formats.
func parseDate(s string) (time.Time, bool) {
	for _, df := range lenientFormats {
		if t, err := df.parse(s, lenientStyles, time.Time{}); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// asDate reads a value as a date: a date, or a string parseDate accepts.
func asDate(v Value) (time.Time, bool) {
	switch v.kind {
	case KindDate:
		return v.date(), true
	case KindString:
		return parseDate(v.s)
	case KindList:
		if l := v.list(); len(l) == 1 {
			return parseDate(l[0])
		}
	}
	return time.Time{}, false
}

// date evaluates argument i as a date; null gives ok=false.
func (n *callNode) date(e *Env, i int) (t time.Time, ok bool, err error) {
	v, err := n.arg(e, i)
	if err != nil || v.kind == KindNull {
		return time.Time{}, false, err
	}
	t, ok = asDate(v)
	if !ok {
		return time.Time{}, false, n.failf("%s is not a date", v)
	}
	return t, true, nil
}

func evalCDate(e *Env, n *callNode) (Value, error) {
	t, ok, err := n.date(e, 0)
	if err != nil || !ok {
		return Value{}, err
	}
	return DateValue(t), nil
}

func evalNow(e *Env, _ *callNode) (Value, error) {
	return DateValue(e.current()), nil
}

// interval is a DateAdd/DateDiff unit.
type interval string

// intervals are the units Azure documents.
var intervals = map[string]interval{
	"yyyy": "yyyy", "m": "m", "d": "d", "ww": "ww", "h": "h", "n": "n", "s": "s",
}

func prepInterval(p *prep) {
	if s, ok := p.constText(0); ok {
		if _, ok := intervals[s]; !ok {
			p.errorAt(0, "interval must be one of yyyy, m, d, ww, h, n, s; got %q", s)
		}
	}
	if p.node.fn.name == "DateAdd" {
		prepInteger(p, 1, math.MinInt64)
	}
}

func (n *callNode) interval(e *Env) (interval, error) {
	s, _, err := n.text(e, 0)
	if err != nil {
		return "", err
	}
	iv, ok := intervals[s]
	if !ok {
		return "", n.failf("interval must be one of yyyy, m, d, ww, h, n, s; got %q", s)
	}
	return iv, nil
}

// addMonths adds months the way .NET does: the day is clamped to the end
// of the resulting month, so January 31 plus one month is February 28/29.
func addMonths(t time.Time, months int64) time.Time {
	total := int64(t.Year())*12 + int64(t.Month()) - 1 + months
	y, m := int(total/12), time.Month(total%12+1)
	d := min(t.Day(), daysIn(m, y))
	return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func evalDateAdd(e *Env, n *callNode) (Value, error) {
	iv, err := n.interval(e)
	if err != nil {
		return Value{}, err
	}
	k, kok, err := n.integer(e, 1)
	if err != nil {
		return Value{}, err
	}
	t, tok, err := n.date(e, 2)
	if err != nil || !kok || !tok {
		return Value{}, err
	}
	switch iv {
	case "yyyy":
		t = addMonths(t, 12*k)
	case "m":
		t = addMonths(t, k)
	case "d":
		t = t.AddDate(0, 0, int(k))
	case "ww":
		t = t.AddDate(0, 0, int(7*k))
	case "h":
		t = t.Add(time.Duration(k) * time.Hour)
	case "n":
		t = t.Add(time.Duration(k) * time.Minute)
	case "s":
		t = t.Add(time.Duration(k) * time.Second)
	}
	return DateValue(t), nil
}

// evalDateDiff returns date2 - date1 in the interval's unit. Years and
// months count calendar boundaries; the other units round the elapsed time
// to the nearest whole unit (half to even, as .NET's Math.Round), which
// reproduces every figure in Azure's documentation, such as -493 weeks from
// 8/25/2021 5:41:18 PM back to 2012-03-16-07:00.
func evalDateDiff(e *Env, n *callNode) (Value, error) {
	iv, err := n.interval(e)
	if err != nil {
		return Value{}, err
	}
	t1, ok1, err := n.date(e, 1)
	if err != nil {
		return Value{}, err
	}
	t2, ok2, err := n.date(e, 2)
	if err != nil || !ok1 || !ok2 {
		return Value{}, err
	}
	d := t2.Sub(t1)
	var r float64
	switch iv {
	case "yyyy":
		return IntValue(int64(t2.Year() - t1.Year())), nil
	case "m":
		return IntValue(int64((t2.Year()-t1.Year())*12 + int(t2.Month()) - int(t1.Month()))), nil
	case "d":
		r = d.Hours() / 24
	case "ww":
		r = d.Hours() / (24 * 7)
	case "h":
		r = d.Hours()
	case "n":
		r = d.Minutes()
	case "s":
		r = d.Seconds()
	}
	return IntValue(int64(math.RoundToEven(r))), nil
}

// fileTimeEpoch is where Active Directory's FILETIME counts from; values
// count 100-nanosecond ticks.
var fileTimeEpoch = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)

// maxFileTime is the tick count of 9999-12-31 23:59:59.9999999, the last
// instant .NET's DateTime can hold.
const maxFileTime = 2650467743999999999

// evalDateFromNum converts an AD FILETIME (accountExpires, lastLogonTimestamp)
// to a date: 129699324000000000 is 1/1/2012 11:00:00 PM.
func evalDateFromNum(e *Env, n *callNode) (Value, error) {
	ticks, ok, err := n.integer(e, 0)
	if err != nil || !ok {
		return Value{}, err
	}
	if ticks < 0 || ticks > maxFileTime {
		return Value{}, n.failf("%d is not a date (0 to %d)", ticks, int64(maxFileTime))
	}
	days := ticks / (864e9)
	rest := time.Duration(ticks%864e9) * 100
	return DateValue(fileTimeEpoch.AddDate(0, 0, int(days)).Add(rest)), nil
}

// evalNumFromDate converts a date (ISO 8601 text or a DateTime) to an AD
// FILETIME, as accountExpires needs.
func evalNumFromDate(e *Env, n *callNode) (Value, error) {
	t, ok, err := n.date(e, 0)
	if err != nil || !ok {
		return Value{}, err
	}
	if t.Before(fileTimeEpoch) {
		return Value{}, n.failf("%s is before 1601, the start of AD time", t.Format(DateLayout))
	}
	days := civilDays(t.Year(), int(t.Month()), t.Day()) - civilDays(1601, 1, 1)
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return IntValue(days*864e9 + int64(t.Sub(midnight)/100)), nil
}

// civilDays counts days from a fixed origin to a Gregorian date; only
// differences are meaningful. It avoids time.Duration, which spans only
// about 292 years.
func civilDays(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe)
}

// formatSpec is FormatDateTime's constant arguments, parsed once.
type formatSpec struct {
	styles      parseOptions
	input, outp *dateFormat
}

func prepFormatDateTime(p *prep) {
	var spec formatSpec
	constant := true
	if p.provided(1) {
		if s, ok := p.constText(1); ok {
			st, err := parseStyles(s)
			if err != nil {
				p.errorAt(1, "%v", err)
			}
			spec.styles = st
		} else {
			constant = false
		}
	} else {
		spec.styles = defaultStyles
	}
	for i, dst := range []**dateFormat{&spec.input, &spec.outp} {
		if !p.provided(i + 2) {
			p.errorAt(i+2, "argument %d (%s) is required", i+3, p.node.fn.param(i+2))
			constant = false
			continue
		}
		s, ok := p.constText(i + 2)
		if !ok {
			constant = false
			continue
		}
		df, err := parseDateFormat(s)
		if err != nil {
			p.errorAt(i+2, "%v", err)
			continue
		}
		*dst = df
	}
	if constant && spec.input != nil && spec.outp != nil {
		p.node.state = &spec
	}
}

// evalFormatDateTime reads source in inputFormat and writes it in
// outputFormat, both .NET format strings.
func evalFormatDateTime(e *Env, n *callNode) (Value, error) {
	src, ok, err := n.text(e, 0)
	if err != nil || !ok {
		return Value{}, err
	}
	spec, _ := n.state.(*formatSpec)
	if spec == nil {
		if spec, err = n.formatSpec(e); err != nil {
			return Value{}, err
		}
	}
	t, err := spec.input.parse(src, spec.styles, e.current())
	if err != nil {
		return Value{}, n.failf("%v", err)
	}
	if spec.outp.utc {
		t = t.UTC()
	}
	return StringValue(spec.outp.format(t)), nil
}

// formatSpec builds FormatDateTime's arguments when they are not constants.
func (n *callNode) formatSpec(e *Env) (*formatSpec, error) {
	styles, _, err := n.text(e, 1)
	if err != nil {
		return nil, err
	}
	spec := &formatSpec{}
	if spec.styles, err = parseStyles(styles); err != nil {
		return nil, n.failf("%v", err)
	}
	for i, dst := range []**dateFormat{&spec.input, &spec.outp} {
		s, _, err := n.text(e, i+2)
		if err != nil {
			return nil, err
		}
		if *dst, err = parseDateFormat(strings.TrimSpace(s)); err != nil {
			return nil, n.failf("%v", err)
		}
	}
	return spec, nil
}
