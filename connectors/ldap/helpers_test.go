package ldap

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
	"github.com/openprovisioning/provisioner/secrets"
)

// oldStamps gives the i-th preloaded entry a change time far in the past,
// as in a directory filled long before the first cycle; slapadd keeps the
// operational attributes it is given. CSNs are unique, as in a directory.
func oldStamps(i int) string {
	return fmt.Sprintf("modifyTimestamp: 20200101000000Z\nentryCSN: 20200101000000.%06dZ#000000#000#000000\n", i)
}

// userLDIF is n people, uid u1…un, with two mail values each.
func userLDIF(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "dn: uid=u%d,%s\nobjectClass: inetOrgPerson\nuid: u%d\ncn: User %d\nsn: %d\n"+
			"mail: u%d@example.org\nmail: u%d@example.net\n%s\n", i, slapd.People, i, i, i, i, i, oldStamps(i))
	}
	return b.String()
}

func startWithUsers(t testing.TB, n int, opts slapd.Options) *slapd.Server {
	t.Helper()
	pre := io.Reader(strings.NewReader(userLDIF(n)))
	if opts.Preload != nil {
		pre = io.MultiReader(pre, opts.Preload)
	}
	opts.Preload = pre
	return slapd.Start(t, opts)
}

func sourceConfig(s *slapd.Server) Config {
	return Config{
		Connection: Connection{URL: s.URL, BindDN: slapd.RootDN, BindPassword: secrets.Ref{File: s.RootPWFile}},
		BaseDNs:    []string{slapd.People},
		PageSize:   2,
	}
}

func testLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

func open(t testing.TB, cfg Config) *Directory {
	t.Helper()
	d, err := cfg.Open(context.Background(), testLog())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// readAll reads pages until the cursor is empty and returns the objects by
// locator, the pages' sizes and the watermark.
func readAll(t testing.TB, d *Directory, req connectors.ReadRequest) (map[string]connectors.Object, []int, string) {
	t.Helper()
	objs := map[string]connectors.Object{}
	var sizes []int
	for {
		page, err := d.Read(context.Background(), req)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		sizes = append(sizes, len(page.Objects))
		for _, o := range page.Objects {
			if _, dup := objs[o.Locator]; dup {
				t.Fatalf("%s returned twice", o.Locator)
			}
			objs[o.Locator] = o
		}
		if page.Cursor == "" {
			return objs, sizes, page.Watermark
		}
		req.Cursor = page.Cursor
	}
}

func userDN(i int) string { return fmt.Sprintf("uid=u%d,%s", i, slapd.People) }

func wantKind(t testing.TB, err error, kind connectors.Kind) *connectors.Error {
	t.Helper()
	ce, ok := err.(*connectors.Error)
	if !ok {
		t.Fatalf("got %T %v, want a *connectors.Error of kind %s", err, err, kind)
	}
	if ce.Kind != kind {
		t.Fatalf("got kind %s (%v), want %s", ce.Kind, err, kind)
	}
	return ce
}

func searchOne(t testing.TB, c *goldap.Conn, dn string, attrs ...string) *goldap.Entry {
	t.Helper()
	res, err := c.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", attrs, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("search %s: %v", dn, err)
	}
	return res.Entries[0]
}
