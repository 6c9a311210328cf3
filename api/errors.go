package api

// Errors an update fails with, as the type of a Temporal ApplicationError
// (temporal.ApplicationError.Type in Go): the request itself is wrong, and
// sending it again as it is cannot help.
const (
	// ErrRequestRefused refuses a request the job cannot serve: a
	// configuration for another job, an object type it does not provision,
	// an ID missing, a source that cannot read one object, an empty
	// rollback plan, or a rollback or a connection's deletion while the job
	// is not stopped. Validators refuse before the
	// request reaches history; the message says what to change.
	ErrRequestRefused = "RequestRefused"
	// ErrInvalidConfiguration refuses a configuration the worker cannot use
	// (update-configuration, and a new job before its first cycle); its
	// details are the problems, each naming its field.
	ErrInvalidConfiguration = "InvalidConfiguration"
)
