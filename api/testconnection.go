package api

import "time"

// TestConnectionWorkflow tests a job's connections where the worker runs,
// with the secrets only the worker reads: started with the job's
// configuration (config.Job), it answers with a ConnectionTest. It reads
// one page of the source, queries the target for an object that cannot
// exist, and makes the connectors' own checks; it writes nothing.
const TestConnectionWorkflow = "TestConnection"

// TestConnectionWorkflowID is the workflow ID of one connection test of a
// job; attempt tells tests of the same job apart.
func TestConnectionWorkflowID(job, attempt string) string {
	return "provisioning-test-connection:" + job + ":" + attempt
}

// ConnectionTest is the outcome of a connection test, step by step.
type ConnectionTest struct {
	Job   string           `json:"job"`
	Steps []ConnectionStep `json:"steps"`
}

// Passed reports whether every step passed.
func (t ConnectionTest) Passed() bool {
	for _, s := range t.Steps {
		if s.Failure != "" {
			return false
		}
	}
	return len(t.Steps) > 0
}

// ConnectionStep is one step of a connection test. A failed step has its
// Failure and Error; the steps that needed it are left out.
type ConnectionStep struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration"`
	// Failure classifies a failed step for an operator; empty when it
	// passed.
	Failure ConnectionFailure `json:"failure,omitempty"`
	// Error is what failed, as the system answered, without secrets.
	Error string `json:"error,omitempty"`
	// Note says what the step found worth knowing when it passed.
	Note string `json:"note,omitempty"`
}

// ConnectionFailure classifies why a connection test step failed.
type ConnectionFailure string

// Connection test failures.
const (
	FailureDNS               ConnectionFailure = "DNS"                 // the host name does not resolve
	FailureRefused           ConnectionFailure = "ConnectionRefused"   // nothing listens at the address
	FailureUnreachable       ConnectionFailure = "Unreachable"         // no route, or the connection dropped
	FailureTLSUnknownCA      ConnectionFailure = "TLSUnknownAuthority" // the certificate's issuer is not trusted
	FailureTLSNameMismatch   ConnectionFailure = "TLSNameMismatch"     // the certificate names another host
	FailureTLSExpired        ConnectionFailure = "TLSExpired"          // the certificate expired or is not yet valid
	FailureTLS               ConnectionFailure = "TLS"                 // another TLS failure
	FailureTimeout           ConnectionFailure = "Timeout"             // no answer in time
	FailureUnauthorized      ConnectionFailure = "Unauthorized"        // credentials refused (401; the error names the scheme asked for)
	FailureForbidden         ConnectionFailure = "Forbidden"           // credentials accepted, request refused (403)
	FailureNotFound          ConnectionFailure = "NotFound"            // the address answers, but not there (404)
	FailureIncompatible      ConnectionFailure = "NotSCIM"             // the answer is not what the protocol says (an HTML page, a wrong content type)
	FailureUnexpectedObjects ConnectionFailure = "UnexpectedObjects"   // a query for an object that cannot exist found some
	FailureOther             ConnectionFailure = "Other"               // anything else; the error says what
)
