package audit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFilter(t *testing.T) {
	e := sampleEntry()
	cases := []struct {
		f    Filter
		want bool
	}{
		{Filter{}, true},
		{Filter{CycleID: "3-abcdef12"}, true},
		{Filter{CycleID: "3"}, true},
		{Filter{CycleID: "3-abc"}, false},
		{Filter{CycleID: "30"}, false},
		{Filter{Action: "update"}, true},
		{Filter{Action: Create}, false},
		{Filter{Status: "SUCCESS"}, true},
		{Filter{Status: Failure}, false},
		{Filter{Object: "E7"}, true},
		{Filter{Object: "t-7"}, true},
		{Filter{Object: "ava, \"THE\" chen"}, true},
		{Filter{Object: "E70"}, false},
		{Filter{Since: e.Time}, true},
		{Filter{Since: e.Time.Add(time.Second)}, false},
		{Filter{Action: Update, Status: Success, Object: "E7", CycleID: "3"}, true},
		{Filter{Action: Update, Status: Failure}, false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, c.f.Match(e), "%+v", c.f)
	}
}
