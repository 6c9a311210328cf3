package httpexport_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/connectortest"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/connectors/httpexport"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv/hrreport"
	"github.com/openprovisioning/provisioner/secrets"
)

const passwordEnv = "PROVISIONING_SECRET_TEST_REPORT"

// A Workday report read over HTTPS, page by page; the next read of the
// unchanged report is one request, answered 304, and reads nothing.
func TestUnchangedReportIsOneConditionalRequest(t *testing.T) {
	s := hrreport.Start(t)
	s.Set("application/json", hrreport.Workers(5, nil), `"v1"`, "")
	c := reportConfig(t, s, "/ccx/service/customreport2/acme/ISU_HR/Workers?format=json", passwordEnv)
	c.RecordsPath = "Report_Entry"
	src := open(t, c)

	objs, last := readAll(t, src, "")
	require.Len(t, objs, 5)
	require.Equal(t, "Worker 1", objs[0].Attributes["Legal_Name"])
	require.Equal(t, "21001", objs[0].ID)
	require.NotEmpty(t, last.Watermark)
	require.False(t, last.Unchanged)
	reqs, _ := seen(s)
	require.Len(t, reqs, 1, "one download for every page of the read")

	// The next cycle: one request, conditional on the ETag, answered 304.
	objs, page := readAll(t, src, last.Watermark)
	require.Empty(t, objs)
	require.True(t, page.Unchanged)
	require.Equal(t, last.Watermark, page.Watermark)
	reqs, statuses := seen(s)
	require.Len(t, reqs, 2)
	require.Equal(t, `"v1"`, reqs[1].Get("If-None-Match"))
	require.Equal(t, http.StatusNotModified, statuses[1])

	// A fresh source (another worker) asks the same from the watermark.
	objs, page = readAll(t, open(t, c), last.Watermark)
	require.Empty(t, objs)
	require.True(t, page.Unchanged)

	// A changed report is read whole.
	s.Set("application/json", hrreport.Workers(4, map[string]string{"21002": "Renamed Worker"}), `"v2"`, "")
	objs, page = readAll(t, src, last.Watermark)
	require.False(t, page.Unchanged)
	require.Len(t, objs, 4)
	require.Equal(t, "Renamed Worker", objs[1].Attributes["Legal_Name"])
	require.NotEqual(t, last.Watermark, page.Watermark)
}

// Without an ETag the request is conditional on Last-Modified; without
// either, a report answered with the same bytes is not read again.
func TestUnchangedReportWithoutETag(t *testing.T) {
	s := hrreport.Start(t)
	s.Set("text/csv", "Employee_ID,Legal_Name\n21001,Ada\n21002,Grace\n", "", "Wed, 02 Dec 2026 06:00:00 GMT")
	src := open(t, reportConfig(t, s, "/exports/workers.csv", passwordEnv))
	objs, last := readAll(t, src, "")
	require.Len(t, objs, 2)
	_, page := readAll(t, src, last.Watermark)
	require.True(t, page.Unchanged)
	reqs, statuses := seen(s)
	require.Equal(t, "Wed, 02 Dec 2026 06:00:00 GMT", reqs[1].Get("If-Modified-Since"))
	require.Equal(t, http.StatusNotModified, statuses[1])

	s.Set("text/csv", "Employee_ID,Legal_Name\n21001,Ada\n21002,Grace\n", "", "")
	_, page = readAll(t, src, last.Watermark)
	require.True(t, page.Unchanged, "the same bytes")
	_, statuses = seen(s)
	require.Equal(t, http.StatusOK, statuses[2])
}

// A watermark of another configuration is no version to compare with: the
// report is read whole even though the server would answer 304.
func TestChangedConfigurationReadsAgain(t *testing.T) {
	s := hrreport.Start(t)
	s.Set("application/json", hrreport.Workers(3, nil), `"v1"`, "")
	c := reportConfig(t, s, "/r?format=json", passwordEnv)
	c.RecordsPath = "Report_Entry"
	_, last := readAll(t, open(t, c), "")
	c.DisabledColumn, c.DisabledValues = "Active", []string{"0"}
	objs, page := readAll(t, open(t, c), last.Watermark)
	require.False(t, page.Unchanged)
	require.Len(t, objs, 3)
	reqs, _ := seen(s)
	require.Empty(t, reqs[1].Get("If-None-Match"))
}

// OAuth 2.0 client credentials: one token for several requests, the
// secret from its reference; a refused client is Unauthorized and its
// secret is in no error.
func TestOAuthClientCredentials(t *testing.T) {
	s := hrreport.Start(t)
	s.Set("application/json", hrreport.Workers(3, nil), `"v1"`, "")
	t.Setenv("PROVISIONING_SECRET_TEST_CLIENT", s.ClientSecret)
	c := reportConfig(t, s, "/r?format=json", passwordEnv)
	c.Basic = nil
	c.OAuth = &scim.OAuthClientCredentials{TokenURL: s.URL + "/oauth/token", ClientID: s.ClientID, ClientSecret: secrets.Ref{Env: "PROVISIONING_SECRET_TEST_CLIENT"}}
	c.RecordsPath = "Report_Entry"
	src := open(t, c)
	objs, last := readAll(t, src, "")
	require.Len(t, objs, 3)
	_, page := readAll(t, src, last.Watermark)
	require.True(t, page.Unchanged)
	require.Equal(t, 1, s.TokenRequests())
	reqs, _ := seen(s)
	require.Equal(t, "Bearer "+s.Token, reqs[0].Get("Authorization"))

	t.Setenv("PROVISIONING_SECRET_TEST_CLIENT", "wrong-secret")
	_, err := open(t, c).Read(context.Background(), connectors.ReadRequest{Type: connectors.User})
	require.Equal(t, connectors.KindUnauthorized, connectors.KindOf(err), "%v", err)
	require.NotContains(t, err.Error(), "wrong-secret")
}

func TestRefusedBasicCredentials(t *testing.T) {
	s := hrreport.Start(t)
	s.Set("text/csv", "Employee_ID\n1\n", "", "")
	c := reportConfig(t, s, "/r.csv?Effective_as_of_Date=2026-12-04", passwordEnv)
	t.Setenv(passwordEnv, "not-the-password")
	_, err := open(t, c).Read(context.Background(), connectors.ReadRequest{Type: connectors.User})
	require.Equal(t, connectors.KindUnauthorized, connectors.KindOf(err))
	require.Contains(t, err.Error(), "GET "+s.URL+"/r.csv: ")
	require.NotContains(t, err.Error(), "Effective_as_of_Date", "the query is not shown")
	require.NotContains(t, err.Error(), "not-the-password")
}

// Answers that are not the report fail the read with an error naming the
// URL, never a page of fewer records.
func TestAnswersThatAreNotTheReport(t *testing.T) {
	s := hrreport.Start(t)
	body := hrreport.Workers(50, nil)
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		kind   connectors.Kind
		says   string
	}{
		{"cut short", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.Write([]byte(body[:len(body)/2]))
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}, connectors.KindUnavailable, "the download stopped after"},
		{"a login page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, "<!DOCTYPE html><html><body><form>Sign in</form></body></html>")
		}, connectors.KindServiceIncompatible, "an HTML page"},
		{"XML", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprint(w, `<?xml version="1.0"?><wd:Report_Data xmlns:wd="urn:com.workday.report/Workers"></wd:Report_Data>`)
		}, connectors.KindServiceIncompatible, "HTML or XML"},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "Employee_ID,Legal_Name\n21001,Ada\n")
		}, connectors.KindServiceIncompatible, "does not begin as JSON does"},
		{"a server error", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "report engine unavailable", http.StatusInternalServerError)
		}, connectors.KindServerError, "report engine unavailable"},
		{"a redirect to sign in", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://sso.acme.example/login?session=x", http.StatusFound)
		}, connectors.KindServiceIncompatible, "redirected to https://sso.acme.example/login"},
		{"broken JSON", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, body[:len(body)-20])
		}, connectors.KindUnavailable, "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.Answer(tc.answer)
			c := reportConfig(t, s, "/r?format=json", passwordEnv)
			c.RecordsPath = "Report_Entry"
			src := open(t, c)
			var err error
			req := connectors.ReadRequest{Type: connectors.User, PageSize: 10}
			for range 10 {
				var page connectors.Page
				page, err = src.Read(context.Background(), req)
				if err != nil || page.Cursor == "" {
					break
				}
				req.Cursor = page.Cursor
			}
			require.Error(t, err, "the read fails")
			require.Equal(t, tc.kind, connectors.KindOf(err), "%v", err)
			require.Contains(t, err.Error(), s.URL+"/r")
			require.Contains(t, err.Error(), tc.says)
			require.NotContains(t, err.Error(), s.Password)
		})
	}
}

// On demand, one record is read from the latest copy when the server says
// the report is unchanged.
func TestGetUsesTheLatestCopyWhenUnchanged(t *testing.T) {
	s := hrreport.Start(t)
	s.Set("application/json", hrreport.Workers(3, nil), `"v1"`, "")
	c := reportConfig(t, s, "/r?format=json", passwordEnv)
	c.RecordsPath = "Report_Entry"
	src := open(t, c)
	readAll(t, src, "")
	o, err := src.Get(context.Background(), connectors.User, "21002", []string{"Legal_Name"})
	require.NoError(t, err)
	require.Equal(t, connectors.Attributes{"Legal_Name": "Worker 2"}, o.Attributes)
	_, statuses := seen(s)
	require.Equal(t, []int{http.StatusOK, http.StatusNotModified}, statuses)

	s.Set("application/json", hrreport.Workers(3, map[string]string{"21002": "New Name"}), `"v2"`, "")
	o, err = src.Get(context.Background(), connectors.User, "21002", nil)
	require.NoError(t, err)
	require.Equal(t, "New Name", o.Attributes["Legal_Name"])
	_, err = src.Get(context.Background(), connectors.User, "99999", nil)
	require.ErrorIs(t, err, connectors.ErrNotFound)
}

// A read resumed from its cursor on another source downloads the report
// again and goes on where it was; a report replaced meanwhile starts the
// read again.
func TestResumedRead(t *testing.T) {
	s := hrreport.Start(t)
	s.Set("application/json", hrreport.Workers(6, nil), "", "")
	c := reportConfig(t, s, "/r?format=json", passwordEnv)
	c.RecordsPath = "Report_Entry"
	first, err := open(t, c).Read(context.Background(), connectors.ReadRequest{Type: connectors.User, PageSize: 2})
	require.NoError(t, err)
	second, err := open(t, c).Read(context.Background(), connectors.ReadRequest{Type: connectors.User, PageSize: 2, Cursor: first.Cursor})
	require.NoError(t, err)
	require.Equal(t, "21003", second.Objects[0].ID)

	s.Set("application/json", hrreport.Workers(7, nil), "", "")
	_, err = open(t, c).Read(context.Background(), connectors.ReadRequest{Type: connectors.User, PageSize: 2, Cursor: second.Cursor})
	require.ErrorIs(t, err, connectors.ErrSnapshotChanged)
}

// The worker's validation reads the report's columns from its start: a
// misspelt attribute is named with the closest column.
func TestCheckAttributes(t *testing.T) {
	s := hrreport.Start(t)
	s.Set("text/csv", "Employee_ID,Legal_Name,Email\n21001,Ada,ada@acme.example\n", "", "")
	src := open(t, reportConfig(t, s, "/r?format=csv", passwordEnv))
	check, err := src.CheckAttributes(context.Background(), connectors.User, []string{"Legal_Name", "Emial"})
	require.NoError(t, err)
	require.Len(t, check.Unknown, 1)
	require.Equal(t, "Email", check.Unknown[0].Suggestion)
	require.Contains(t, check.Against, s.URL+"/r")
}

// A report too slow to begin its answer within the caller's time is not
// checked, rather than failing the job's validation.
func TestCheckAttributesOfASlowReport(t *testing.T) {
	s := hrreport.Start(t)
	s.Answer(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	})
	src := open(t, reportConfig(t, s, "/r?format=csv", passwordEnv))
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	_, err := src.CheckAttributes(ctx, connectors.User, []string{"Legal_Name"})
	require.ErrorIs(t, err, connectors.ErrAttributesUnknown)
	require.Contains(t, err.Error(), "did not answer in time")
	require.NoError(t, ctx.Err())
}

func TestConfigValidate(t *testing.T) {
	t.Setenv(passwordEnv, "x")
	base := func() httpexport.Config {
		c := httpexport.Config{URL: "https://wd2-impl-services1.workday.com/ccx/service/customreport2/acme/ISU/Workers?format=json"}
		c.Basic = basic("ISU@acme", passwordEnv)
		c.IDColumn = "Employee_ID"
		c.RecordsPath = "Report_Entry"
		return c
	}
	require.NoError(t, base().Validate())
	for _, tc := range []struct {
		change func(*httpexport.Config)
		want   string
	}{
		{func(c *httpexport.Config) { c.URL = "http://hr.example/r.csv" }, `url: "http://hr.example/r.csv" is not an https URL`},
		{func(c *httpexport.Config) { c.URL = "https://isu:pw@hr.example/r.csv" }, "url: must not hold credentials"},
		{func(c *httpexport.Config) { c.URL = "https://hr.example/report" }, "format: cannot tell the format from the URL"},
		{func(c *httpexport.Config) { c.Path = "hr.csv" }, "path: a report is read from url"},
		{func(c *httpexport.Config) { c.IDColumn = "" }, "idColumn: required"},
		{func(c *httpexport.Config) { c.URL = "https://hr.example/r.csv" }, "recordsPath: only for format json"},
		{func(c *httpexport.Config) { c.Basic.Password = secrets.Ref{Env: "PROVISIONING_SECRET_TEST_UNSET"} }, "basic.password: environment variable PROVISIONING_SECRET_TEST_UNSET is not set"},
		{func(c *httpexport.Config) {
			c.OAuth = &scim.OAuthClientCredentials{TokenURL: "https://login.example/token"}
		}, "basic: set at most one of basic and oauth"},
	} {
		c := base()
		tc.change(&c)
		err := c.Validate()
		require.Error(t, err, tc.want)
		require.Contains(t, err.Error(), tc.want)
		connectortest.Problems(t, err)
	}
}

// The records of a SuccessFactors OData answer are d.results; a page of
// a longer result is refused, never read as the whole export.
func TestSuccessFactorsPages(t *testing.T) {
	s := hrreport.Start(t)
	rec := `{"__metadata":{"uri":"https://api.successfactors.example/odata/v2/User('1')","type":"SFOData.User"},"userId":"1","username":"ada"}`
	c := reportConfig(t, s, "/odata/v2/User?$format=json", passwordEnv)
	c.IDColumn, c.RecordsPath = "userId", "d.results"
	s.Set("application/json", `{"d":{"results":[`+rec+`]}}`, "", "")
	src := open(t, c)
	page, err := src.Read(context.Background(), connectors.ReadRequest{Type: connectors.User, Attributes: []string{"username"}})
	require.NoError(t, err)
	require.Equal(t, []connectors.Object{{ID: "1", Locator: "record 1", Attributes: connectors.Attributes{"username": "ada"}}}, page.Objects)

	s.Set("application/json", `{"d":{"results":[`+rec+`],"__next":"https://api.successfactors.example/odata/v2/User?$skiptoken=abc"}}`, "", "")
	_, err = src.Read(context.Background(), connectors.ReadRequest{Type: connectors.User, Attributes: []string{"username"}})
	require.Error(t, err)
	require.Contains(t, err.Error(), "one page of a longer result (it has a __next link")
	require.False(t, errors.Is(err, file.ErrUnchanged))
	require.True(t, strings.Contains(err.Error(), s.URL+"/odata/v2/User"))
}

// The report cannot be written back.
func TestNoWriteback(t *testing.T) {
	var src connectors.Source = open(t, reportConfig(t, hrreport.Start(t), "/r.csv", passwordEnv))
	_, writer := src.(connectors.Writer)
	require.False(t, writer)
}
