package slapd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

// confTemplate is a static slapd.conf: simpler to write than cn=config and
// still read by OpenLDAP 2.5/2.6. Limits are unlimited so paged searches are
// bounded by the paging control alone. No syncprov or accesslog overlay:
// entryCSN and modifyTimestamp are kept by slapd itself.
var confTemplate = template.Must(template.New("slapd.conf").Parse(`
{{range .Schemas}}include {{.}}
{{end}}
pidfile {{.Dir}}/slapd.pid
argsfile {{.Dir}}/slapd.args
{{if .ModuleDir}}modulepath {{.ModuleDir}}
moduleload back_mdb
{{end}}
sizelimit unlimited
timelimit unlimited
{{if .TLS}}
TLSCACertificateFile {{.Dir}}/ca.pem
TLSCertificateFile {{.Dir}}/server.pem
TLSCertificateKeyFile {{.Dir}}/server.key
{{end}}
database mdb
suffix "{{.Base}}"
rootdn "{{.RootDN}}"
rootpw {{.RootPW}}
directory {{.Dir}}/db
maxsize 4294967296
index objectClass eq
index entryUUID eq
index entryCSN eq
index uid,cn,mail eq
index member eq

access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read
access to attrs=userPassword by self write by anonymous auth by * none
access to * by self write by users read by * none
`))

type confData struct {
	Dir, ModuleDir       string
	Schemas              []string
	TLS                  bool
	Base, RootDN, RootPW string
}

// writeConfig writes slapd.conf and any extra schema into dir and returns
// the configuration file's path.
func writeConfig(dir string, tl tools, opts Options, rootPW string) (string, error) {
	d := confData{
		Dir:       dir,
		ModuleDir: tl.moduleDir,
		TLS:       opts.TLS,
		Base:      Base,
		RootDN:    RootDN,
		RootPW:    rootPW,
	}
	for _, name := range []string{"core", "cosine", "inetorgperson", "nis"} {
		d.Schemas = append(d.Schemas, filepath.Join(tl.schemaDir, name+".schema"))
	}
	for i, s := range opts.Schemas {
		p := filepath.Join(dir, fmt.Sprintf("extra%d.schema", i))
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			return "", err
		}
		d.Schemas = append(d.Schemas, p)
	}
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		return "", err
	}
	var b strings.Builder
	if err := confTemplate.Execute(&b, d); err != nil {
		return "", err
	}
	p := filepath.Join(dir, "slapd.conf")
	return p, os.WriteFile(p, []byte(b.String()), 0o600)
}

// baseLDIF is loaded into every server: the suffix and the two containers
// tests put people and groups in.
const baseLDIF = `dn: ` + Base + `
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ` + People + `
objectClass: organizationalUnit
ou: people

dn: ` + Groups + `
objectClass: organizationalUnit
ou: groups

`
