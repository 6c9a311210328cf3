package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
	// Time zones come with the binary, so every worker reads a schedule the
	// same way whatever its machine has installed.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"

	"github.com/openprovisioning/provisioner/connectors"
)

// Schedule confines the cycles a job starts by itself to set times, for
// targets that may only be written at night or on working days. A cron
// expression names each start; a window lets cycles start at the job's
// interval on some days between two times of day. An operator's sync-now,
// release, restart and provision on demand do not wait for it.
type Schedule struct {
	// Cron starts a cycle at each time the expression names: five fields
	// (minute hour day-of-month month day-of-week) or a descriptor such as
	// @daily. The job's interval is then not used.
	Cron string `json:"cron,omitempty" yaml:"cron,omitempty"`
	// Window lets cycles start only on these days between these times.
	Window *Window `json:"window,omitempty" yaml:"window,omitempty"`
	// TimeZone is the IANA zone the schedule is read in; UTC by default.
	TimeZone string `json:"timeZone,omitempty" yaml:"timeZone,omitempty"`
}

// Window is a weekly window: cycles start on Days from From to To, times of
// day as 15:04. A window whose To is earlier than its From runs past
// midnight into the next day; Days are the days it opens.
type Window struct {
	// Days are English day names or their first three letters; every day
	// when empty.
	Days []string `json:"days,omitempty" yaml:"days,omitempty"`
	From string   `json:"from" yaml:"from"`
	To   string   `json:"to" yaml:"to"`
}

// Validate reports what is wrong with the schedule as
// connectors.FieldErrors naming their fields from the job's root
// ("schedule.cron").
func (s *Schedule) Validate() error {
	var errs []error
	if (s.Cron == "") == (s.Window == nil) {
		errs = append(errs, connectors.Invalid("schedule", "set one of cron or window"))
	}
	if _, err := s.location(); err != nil {
		errs = append(errs, err)
	}
	if s.Cron != "" {
		if _, err := cronParser.Parse(s.Cron); err != nil {
			errs = append(errs, connectors.Invalid("schedule.cron", "%q: %v", s.Cron, err))
		}
	}
	if w := s.Window; w != nil {
		if _, err := w.days(); err != nil {
			errs = append(errs, err)
		}
		from, errFrom := clock("schedule.window.from", w.From)
		to, errTo := clock("schedule.window.to", w.To)
		errs = append(errs, errFrom, errTo)
		if errFrom == nil && errTo == nil && from == to {
			errs = append(errs, connectors.Invalid("schedule.window", "from and to are both %s; the window would be empty", w.From))
		}
	}
	return errors.Join(errs...)
}

// First returns the first time at or after t at which the job may start a
// cycle by itself.
func (s *Schedule) First(t time.Time) time.Time {
	if s == nil {
		return t
	}
	loc, _ := s.location()
	if s.Cron != "" {
		sched, _ := cronParser.Parse(s.Cron)
		// Cron's Next is strictly after its argument, and minute-aligned.
		return sched.Next(t.In(loc).Add(-time.Nanosecond)).In(t.Location())
	}
	return s.Window.first(t.In(loc)).In(t.Location())
}

// After returns when the cycle after one that started at last is due: the
// next start the cron expression names, or the interval later, moved into
// the window.
func (s *Schedule) After(last time.Time, interval time.Duration) time.Time {
	if s == nil {
		return last.Add(interval)
	}
	if s.Cron != "" {
		return s.First(last.Add(time.Minute).Truncate(time.Minute))
	}
	return s.First(last.Add(interval))
}

// String describes the schedule for status output.
func (s *Schedule) String() string {
	if s == nil {
		return ""
	}
	zone := s.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	if s.Cron != "" {
		return fmt.Sprintf("cron %q (%s)", s.Cron, zone)
	}
	days := "every day"
	if len(s.Window.Days) > 0 {
		days = strings.Join(s.Window.Days, ",")
	}
	return fmt.Sprintf("%s %s-%s (%s)", days, s.Window.From, s.Window.To, zone)
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (s *Schedule) location() (*time.Location, error) {
	if s.TimeZone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return nil, connectors.Invalid("schedule.timeZone", "%q is not an IANA time zone such as Europe/Paris", s.TimeZone)
	}
	return loc, nil
}

var weekdays = map[string]time.Weekday{}

func init() {
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		weekdays[name], weekdays[name[:3]] = d, d
	}
}

// days returns the set of days the window opens on.
func (w *Window) days() ([7]bool, error) {
	var set [7]bool
	if len(w.Days) == 0 {
		return [7]bool{true, true, true, true, true, true, true}, nil
	}
	for i, name := range w.Days {
		d, ok := weekdays[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			return set, connectors.Invalid(fmt.Sprintf("schedule.window.days[%d]", i), "%q is not a day; use Mon, Tue, … or Monday, Tuesday, …", name)
		}
		set[d] = true
	}
	return set, nil
}

// clock parses a time of day as the duration since midnight.
func clock(field, s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, connectors.Invalid(field, "%q is not a time of day such as 20:00", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// first returns t when it falls in the window, else the window's next
// opening. t is in the schedule's zone; days are walked by calendar date
// so that daylight-saving changes keep the window at its times of day.
func (w *Window) first(t time.Time) time.Time {
	days, _ := w.days()
	from, _ := clock("", w.From)
	to, _ := clock("", w.To)
	at := func(day time.Time, d time.Duration) time.Time {
		return time.Date(day.Year(), day.Month(), day.Day(), int(d/time.Hour), int(d%time.Hour/time.Minute), 0, 0, t.Location())
	}
	midnight := at(t, 0)
	// A window past midnight may have opened the day before.
	for i := -1; i <= 7; i++ {
		day := midnight.AddDate(0, 0, i)
		if !days[day.Weekday()] {
			continue
		}
		open, close := at(day, from), at(day, to)
		if to < from {
			close = at(day.AddDate(0, 0, 1), to)
		}
		if t.Before(close) {
			if t.Before(open) {
				return open
			}
			return t
		}
	}
	return t
}
