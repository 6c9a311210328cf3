package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestIntervalInDays(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "40m": 40 * time.Minute, "0d30m": 30 * time.Minute,
	} {
		var d Duration
		require.NoError(t, yaml.Unmarshal([]byte(in), &d), in)
		require.Equal(t, want, time.Duration(d), in)
		// A job's configuration travels as JSON in workflow inputs.
		b, err := d.MarshalJSON()
		require.NoError(t, err)
		var back Duration
		require.NoError(t, back.UnmarshalJSON(b))
		require.Equal(t, d, back)
	}
	for _, in := range []string{"d", "7days", "-1d", "1d-2h", "x7d", "1.5d"} {
		var d Duration
		require.ErrorContains(t, yaml.Unmarshal([]byte(in), &d), "use units such as 30s, 40m, 24h, 7d", in)
	}
}

func TestScheduleValidate(t *testing.T) {
	for _, tc := range []struct {
		s    Schedule
		want string
	}{
		{Schedule{}, "schedule: set one of cron or window"},
		{Schedule{Cron: "0 2 * * *", Window: &Window{From: "20:00", To: "06:00"}}, "schedule: set one of cron or window"},
		{Schedule{Cron: "0 25 * * *"}, `schedule.cron: "0 25 * * *"`},
		{Schedule{Cron: "@daily", TimeZone: "Mars/Olympus"}, `schedule.timeZone: "Mars/Olympus" is not an IANA time zone`},
		{Schedule{Window: &Window{Days: []string{"Mon", "Funday"}, From: "20:00", To: "06:00"}}, `schedule.window.days[1]: "Funday" is not a day`},
		{Schedule{Window: &Window{From: "8pm", To: "06:00"}}, `schedule.window.from: "8pm" is not a time of day`},
		{Schedule{Window: &Window{From: "06:00", To: "06:00"}}, "the window would be empty"},
	} {
		require.ErrorContains(t, tc.s.Validate(), tc.want)
	}
	for _, s := range []Schedule{
		{Cron: "*/30 20-23 * * 1-5", TimeZone: "Europe/Paris"},
		{Cron: "@weekly"},
		{Window: &Window{Days: []string{"monday", "Tue", "FRI"}, From: "20:00", To: "06:00"}, TimeZone: "America/New_York"},
	} {
		require.NoError(t, s.Validate())
	}
}

func TestJobValidateNamesScheduleFields(t *testing.T) {
	job := Job{Schedule: &Schedule{Cron: "61 * * * *"}}
	err := job.Validate()
	require.Error(t, err)
	var found bool
	for _, p := range err.(Problems) {
		found = found || p.Field == "schedule.cron"
	}
	require.True(t, found, err.Error())
}

func TestScheduleCron(t *testing.T) {
	s := &Schedule{Cron: "0 2 * * 1-5", TimeZone: "Europe/Paris"}
	paris, _ := time.LoadLocation("Europe/Paris")
	// Friday 2026-12-04 10:00 in Paris: the next start is Monday 02:00.
	fri := time.Date(2026, 12, 4, 10, 0, 0, 0, paris).UTC()
	require.Equal(t, time.Date(2026, 12, 7, 2, 0, 0, 0, paris).UTC(), s.First(fri).UTC())
	require.Equal(t, time.UTC, s.First(fri).Location(), "times stay in the caller's zone")
	mon := time.Date(2026, 12, 7, 2, 0, 0, 0, paris)
	require.True(t, s.First(mon).Equal(mon), "a start time itself is allowed")
	// The interval is not used: the cycle after one started at 02:00 runs
	// the next morning, not 40 minutes later.
	require.True(t, s.After(mon.Add(3*time.Second), 40*time.Minute).Equal(time.Date(2026, 12, 8, 2, 0, 0, 0, paris)))
}

func TestScheduleWindow(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, berlin) }
	// Weekday nights 20:00-06:00; 2026-12-04 is a Friday.
	s := &Schedule{Window: &Window{Days: []string{"Mon", "Tue", "Wed", "Thu", "Fri"}, From: "20:00", To: "06:00"}, TimeZone: "Europe/Berlin"}
	for _, tc := range []struct{ t, want time.Time }{
		{at(4, 10, 0), at(4, 20, 0)},  // Friday morning: Friday night
		{at(4, 21, 0), at(4, 21, 0)},  // in the window
		{at(5, 3, 0), at(5, 3, 0)},    // Saturday 03:00: still Friday's window
		{at(5, 7, 0), at(7, 20, 0)},   // Saturday morning: Monday night
		{at(6, 23, 0), at(7, 20, 0)},  // Sunday night is not open
		{at(8, 5, 59), at(8, 5, 59)},  // Tuesday 05:59, in Monday's window
		{at(8, 6, 0), at(8, 20, 0)},   // closed at 06:00
		{at(7, 19, 59), at(7, 20, 0)}, // opens at 20:00
	} {
		require.True(t, s.First(tc.t).Equal(tc.want), "%s: got %s, want %s", tc.t, s.First(tc.t).In(berlin), tc.want)
	}
	// The interval moves into the window: 40 minutes after 05:40 is past
	// closing, so the next cycle waits for the evening.
	require.True(t, s.After(at(8, 5, 40), 40*time.Minute).Equal(at(8, 20, 0)))
	require.True(t, s.After(at(8, 20, 0), 40*time.Minute).Equal(at(8, 20, 40)))
	// Across the change to summer time the window keeps its hours.
	day := &Schedule{Window: &Window{From: "01:00", To: "04:00"}, TimeZone: "Europe/Berlin"}
	spring := time.Date(2027, 3, 28, 0, 30, 0, 0, berlin)
	require.Equal(t, "01:00", day.First(spring).In(berlin).Format("15:04"))
	require.Equal(t, "01:00", day.First(time.Date(2027, 3, 28, 5, 0, 0, 0, berlin)).In(berlin).Format("15:04"))
	require.True(t, strings.Contains(s.String(), "Mon,Tue,Wed,Thu,Fri 20:00-06:00 (Europe/Berlin)"), s.String())
}
