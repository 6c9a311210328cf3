package expression

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// .NET date and time format strings, as FormatDateTime uses them: a
// one-letter standard format ("s", "o", "d"…) or a custom format made of
// specifiers such as yyyy, MM, dd, HH, mm, ss, fff, tt and zzz. Only the
// invariant culture is supported.

// formatItem is one piece of a parsed format: a specifier repeated count
// times, or literal text.
type formatItem struct {
	spec  byte // 0 for literal text
	count int
	text  string
}

// dateFormat is a parsed .NET format string.
type dateFormat struct {
	items []formatItem
	// utc makes formatting convert to UTC ("u" and "U" standard formats).
	utc bool
}

// standardFormats are the invariant culture's standard formats.
var standardFormats = map[byte]string{
	'd': "MM/dd/yyyy",
	'D': "dddd, dd MMMM yyyy",
	'f': "dddd, dd MMMM yyyy HH:mm",
	'F': "dddd, dd MMMM yyyy HH:mm:ss",
	'g': "MM/dd/yyyy HH:mm",
	'G': "MM/dd/yyyy HH:mm:ss",
	'm': "MMMM dd",
	'M': "MMMM dd",
	'o': "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
	'O': "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
	'r': "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
	'R': "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
	's': "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
	't': "HH:mm",
	'T': "HH:mm:ss",
	'u': "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
	'U': "dddd, dd MMMM yyyy HH:mm:ss",
	'y': "yyyy MMMM",
	'Y': "yyyy MMMM",
}

// specifiers are the letters with a meaning in custom formats, with the
// most repetitions that still differ.
var specifiers = map[byte]int{
	'd': 4, 'f': 7, 'F': 7, 'g': 2, 'h': 2, 'H': 2, 'K': 1, 'm': 2,
	'M': 4, 's': 2, 't': 2, 'y': 5, 'z': 3,
}

// parseDateFormat reads a .NET format string.
func parseDateFormat(f string) (*dateFormat, error) {
	if f == "" {
		return nil, fmt.Errorf("format is empty")
	}
	if len(f) == 1 {
		std, ok := standardFormats[f[0]]
		if !ok {
			return nil, fmt.Errorf("%q is not a standard date format", f)
		}
		df, err := parseDateFormat(std)
		if err != nil {
			return nil, err
		}
		df.utc = f == "u" || f == "U"
		return df, nil
	}
	df := &dateFormat{}
	lit := func(s string) {
		if n := len(df.items); n > 0 && df.items[n-1].spec == 0 {
			df.items[n-1].text += s
			return
		}
		df.items = append(df.items, formatItem{text: s})
	}
	for i := 0; i < len(f); {
		c := f[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(f[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("quoted text in %q is not closed", f)
			}
			lit(f[i+1 : i+1+end])
			i += end + 2
		case c == '\\':
			if i+1 >= len(f) {
				return nil, fmt.Errorf("format %q ends with \\", f)
			}
			_, size := utf8.DecodeRuneInString(f[i+1:])
			lit(f[i+1 : i+1+size])
			i += 1 + size
		case c == '%':
			i++
		case specifiers[c] > 0:
			j := i
			for j < len(f) && f[j] == c {
				j++
			}
			n := j - i
			if c == 'f' || c == 'F' {
				if n > 7 {
					return nil, fmt.Errorf("%q has more than seven %c", f, c)
				}
			}
			df.items = append(df.items, formatItem{spec: c, count: n})
			i = j
		default:
			lit(f[i : i+1])
			i++
		}
	}
	return df, nil
}

var (
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	dayNames   = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// format writes t, which is in UTC, in the format.
func (df *dateFormat) format(t time.Time) string {
	var b strings.Builder
	pad := func(v, width int) {
		s := strconv.Itoa(v)
		for i := len(s); i < width; i++ {
			b.WriteByte('0')
		}
		b.WriteString(s)
	}
	for _, it := range df.items {
		n := it.count
		switch it.spec {
		case 0:
			b.WriteString(it.text)
		case 'd':
			switch {
			case n <= 2:
				pad(t.Day(), n)
			case n == 3:
				b.WriteString(dayNames[t.Weekday()][:3])
			default:
				b.WriteString(dayNames[t.Weekday()])
			}
		case 'f', 'F':
			frac := fmt.Sprintf("%07d", t.Nanosecond()/100)[:n]
			if it.spec == 'F' {
				frac = strings.TrimRight(frac, "0")
				if frac == "" && b.Len() > 0 && strings.HasSuffix(b.String(), ".") {
					s := b.String()
					b.Reset()
					b.WriteString(s[:len(s)-1])
				}
			}
			b.WriteString(frac)
		case 'g':
			b.WriteString("A.D.")
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			pad(h, n)
		case 'H':
			pad(t.Hour(), n)
		case 'K':
			b.WriteString("Z")
		case 'm':
			pad(t.Minute(), n)
		case 'M':
			switch {
			case n <= 2:
				pad(int(t.Month()), n)
			case n == 3:
				b.WriteString(monthNames[t.Month()-1][:3])
			default:
				b.WriteString(monthNames[t.Month()-1])
			}
		case 's':
			pad(t.Second(), n)
		case 't':
			ampm := "AM"
			if t.Hour() >= 12 {
				ampm = "PM"
			}
			b.WriteString(ampm[:min(n, 2)])
		case 'y':
			y := t.Year()
			switch n {
			case 1:
				b.WriteString(strconv.Itoa(y % 100))
			case 2:
				pad(y%100, 2)
			default:
				pad(y, n)
			}
		case 'z':
			switch n {
			case 1:
				b.WriteString("+0")
			case 2:
				b.WriteString("+00")
			default:
				b.WriteString("+00:00")
			}
		}
	}
	return b.String()
}

// parseOptions are the DateTimeStyles that change parsing.
type parseOptions struct {
	leadingWhite, trailingWhite, innerWhite bool
	noCurrentDate                           bool
}

// dateStyles are .NET's DateTimeStyles names.
var dateStyles = map[string]func(*parseOptions){
	"none":                 func(*parseOptions) {},
	"allowleadingwhite":    func(o *parseOptions) { o.leadingWhite = true },
	"allowtrailingwhite":   func(o *parseOptions) { o.trailingWhite = true },
	"allowinnerwhite":      func(o *parseOptions) { o.innerWhite = true },
	"allowwhitespaces":     func(o *parseOptions) { o.leadingWhite, o.trailingWhite, o.innerWhite = true, true, true },
	"nocurrentdatedefault": func(o *parseOptions) { o.noCurrentDate = true },
	// Times are kept in UTC, the service's local time, so the kind and
	// time zone styles change nothing.
	"adjusttouniversal": func(*parseOptions) {},
	"assumelocal":       func(*parseOptions) {},
	"assumeuniversal":   func(*parseOptions) {},
	"roundtripkind":     func(*parseOptions) {},
}

// defaultStyles is what FormatDateTime uses when dateTimeStyles is empty:
// RoundtripKind, AllowLeadingWhite, AllowTrailingWhite.
var defaultStyles = parseOptions{leadingWhite: true, trailingWhite: true}

// parseStyles reads a list of DateTimeStyles names separated by commas,
// "|" or spaces, with or without the "DateTimeStyles." prefix.
func parseStyles(s string) (parseOptions, error) {
	if strings.TrimSpace(s) == "" {
		return defaultStyles, nil
	}
	var o parseOptions
	for _, name := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '|' || unicode.IsSpace(r) }) {
		name = strings.TrimPrefix(strings.ToLower(name), "datetimestyles.")
		set, ok := dateStyles[name]
		if !ok {
			return o, fmt.Errorf("unknown DateTimeStyles value %q", name)
		}
		set(&o)
	}
	return o, nil
}

// parse reads s exactly in the format. A parsed time zone offset is
// applied and the result converted to UTC; times without one are taken as
// UTC. When the format has no date part, the date of now is used unless
// NoCurrentDateDefault is set.
func (df *dateFormat) parse(s string, o parseOptions, now time.Time) (time.Time, error) {
	if o.leadingWhite {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
	}
	if o.trailingWhite {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	p := dateParser{s: s}
	year, month, day := -1, -1, -1
	hour, minute, second, nanos := 0, 0, 0, 0
	pm, twelve := false, false
	offset, hasOffset := 0, false
	for idx, it := range df.items {
		if o.innerWhite {
			p.skipSpace()
		}
		n := it.count
		var err error
		switch it.spec {
		case 0:
			err = p.literal(it.text, o.innerWhite)
		case 'd':
			if n <= 2 {
				day, err = p.digits(n, 2)
			} else {
				_, err = p.name(dayNames, n == 3)
			}
		case 'f', 'F':
			var frac string
			minDigits := n
			if it.spec == 'F' {
				minDigits = 0
			}
			frac, err = p.digitText(minDigits, n)
			if err == nil && frac != "" {
				v, _ := strconv.Atoi((frac + "000000000")[:9])
				nanos = v
			}
		case 'g':
			err = p.literal("A.D.", false)
		case 'h':
			hour, err = p.digits(n, 2)
			twelve = true
		case 'H':
			hour, err = p.digits(n, 2)
		case 'K':
			offset, hasOffset, err = p.offset(true, 3)
		case 'm':
			minute, err = p.digits(n, 2)
		case 'M':
			if n <= 2 {
				month, err = p.digits(n, 2)
			} else {
				var m int
				m, err = p.name(monthNames, n == 3)
				month = m + 1
			}
		case 's':
			second, err = p.digits(n, 2)
		case 't':
			pm, err = p.ampm(n)
		case 'y':
			switch {
			case n <= 2:
				year, err = p.digits(n, 2)
				if err == nil {
					year = twoDigitYear(year)
				}
			default:
				year, err = p.digits(n, max(n, 4))
			}
		case 'z':
			offset, hasOffset, err = p.offset(false, n)
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("%q does not match the format at character %d (item %d): %v", s, p.i+1, idx+1, err)
		}
	}
	if o.innerWhite {
		p.skipSpace()
	}
	if p.i < len(p.s) {
		return time.Time{}, fmt.Errorf("%q has unexpected text %q after the date", s, p.s[p.i:])
	}
	if twelve {
		if hour < 1 || hour > 12 {
			return time.Time{}, fmt.Errorf("hour %d is not between 1 and 12", hour)
		}
		hour %= 12
	}
	if pm && hour < 12 {
		hour += 12
	}
	if year < 0 && month < 0 && day < 0 && !o.noCurrentDate {
		year, month, day = now.Year(), int(now.Month()), now.Day()
	}
	year, month, day = max(year, 1), max(month, 1), max(day, 1)
	if month > 12 || day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, fmt.Errorf("%q is not a valid date and time", s)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, nanos, time.UTC)
	if hasOffset {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, nil
}

// twoDigitYear maps yy to a year the way .NET's Gregorian calendar does,
// with 2029 as the last year of the century window.
func twoDigitYear(y int) int {
	if y <= 29 {
		return 2000 + y
	}
	return 1900 + y
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

type dateParser struct {
	s string
	i int
}

func (p *dateParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *dateParser) literal(text string, flexibleSpace bool) error {
	for _, c := range []byte(text) {
		if flexibleSpace && c == ' ' {
			p.skipSpace()
			continue
		}
		if p.i >= len(p.s) || p.s[p.i] != c {
			return fmt.Errorf("expected %q", text)
		}
		p.i++
	}
	return nil
}

// digitText reads between least and most ASCII digits.
func (p *dateParser) digitText(least, most int) (string, error) {
	start := p.i
	for p.i < len(p.s) && p.i-start < most && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if p.i-start < least {
		return "", fmt.Errorf("expected %d digits", least)
	}
	return p.s[start:p.i], nil
}

func (p *dateParser) digits(least, most int) (int, error) {
	text, err := p.digitText(least, most)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(text)
}

// name reads a month or day name (or its three-letter abbreviation),
// case-insensitively, and returns its index.
func (p *dateParser) name(names []string, abbreviated bool) (int, error) {
	rest := strings.ToLower(p.s[p.i:])
	for i, n := range names {
		if abbreviated {
			n = n[:3]
		}
		if strings.HasPrefix(rest, strings.ToLower(n)) {
			p.i += len(n)
			return i, nil
		}
	}
	return 0, fmt.Errorf("expected a month or day name")
}

func (p *dateParser) ampm(n int) (pm bool, err error) {
	rest := strings.ToUpper(p.s[p.i:])
	for _, d := range []string{"AM", "PM"} {
		d = d[:min(n, 2)]
		if strings.HasPrefix(rest, d) {
			p.i += len(d)
			return d[0] == 'P', nil
		}
	}
	return false, fmt.Errorf("expected AM or PM")
}

// offset reads a time zone offset: +h, +hh, +hh:mm or +hhmm; with k (the K
// specifier) also "Z" or nothing.
func (p *dateParser) offset(k bool, n int) (seconds int, ok bool, err error) {
	if p.i >= len(p.s) {
		if k {
			return 0, false, nil
		}
		return 0, false, fmt.Errorf("expected a time zone offset")
	}
	switch c := p.s[p.i]; {
	case c == 'Z' || c == 'z':
		if !k {
			return 0, false, fmt.Errorf("expected a time zone offset")
		}
		p.i++
		return 0, true, nil
	case c != '+' && c != '-':
		if k {
			return 0, false, nil
		}
		return 0, false, fmt.Errorf("expected a time zone offset")
	}
	sign := 1
	if p.s[p.i] == '-' {
		sign = -1
	}
	p.i++
	h, err := p.digits(min(n, 2), 2)
	if err != nil {
		return 0, false, err
	}
	m := 0
	if p.i < len(p.s) && p.s[p.i] == ':' {
		p.i++
		if m, err = p.digits(2, 2); err != nil {
			return 0, false, err
		}
	} else if p.i+1 < len(p.s) && isDigit(p.s[p.i]) && isDigit(p.s[p.i+1]) {
		m, _ = p.digits(2, 2)
	}
	if h > 14 || m > 59 {
		return 0, false, fmt.Errorf("time zone offset out of range")
	}
	return sign * (h*3600 + m*60), true, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
