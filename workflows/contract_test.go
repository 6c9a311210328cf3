package workflows_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/workflows"
)

// TestClientViewsMatchWorkflowTypes checks that what a client sends to start
// a job or a cycle, and reads of a cycle's result, are the workflows' own
// JSON fields: a field renamed on one side only would be silently dropped.
func TestClientViewsMatchWorkflowTypes(t *testing.T) {
	for _, c := range []struct{ client, workflow any }{
		{api.JobStart{}, workflows.JobInput{}},
		{api.CycleStart{}, workflows.CycleInput{}},
		{api.CycleOutcome{}, workflows.CycleResult{}},
	} {
		ct, wt := reflect.TypeOf(c.client), reflect.TypeOf(c.workflow)
		fields := map[string]reflect.StructField{}
		for i := range wt.NumField() {
			fields[jsonName(wt.Field(i))] = wt.Field(i)
		}
		for i := range ct.NumField() {
			f := ct.Field(i)
			w, ok := fields[jsonName(f)]
			if !ok {
				t.Errorf("%s.%s: %s has no JSON field %q", ct, f.Name, wt, jsonName(f))
				continue
			}
			if f.Type != w.Type || f.Tag.Get("json") != w.Tag.Get("json") {
				t.Errorf("%s.%s is %s `json:%q`, %s.%s is %s `json:%q`", ct, f.Name, f.Type, f.Tag.Get("json"), wt, w.Name, w.Type, w.Tag.Get("json"))
			}
		}
	}
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}
