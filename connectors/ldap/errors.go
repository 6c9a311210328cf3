package ldap

import (
	"errors"
	"net"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
)

// classify turns a go-ldap error into a connector error whose Kind tells the
// engine whether to retry the object, quarantine the job or give up.
func classify(op string, err error) *connectors.Error {
	ce := &connectors.Error{Op: op, Kind: connectors.KindServerError, Detail: err.Error()}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		ce.Kind = connectors.KindTimeout
		return ce
	}
	var le *goldap.Error
	if !errors.As(err, &le) {
		return ce
	}
	if le.ResultCode >= goldap.ErrorNetwork {
		// go-ldap's own codes (200+) describe the client side: the
		// connection failed, timed out or could not be secured.
		ce.Kind = connectors.KindUnavailable
		if strings.Contains(ce.Detail, "timed out") {
			ce.Kind = connectors.KindTimeout
		}
		return ce
	}
	ce.Status = int(le.ResultCode)
	ce.Detail = goldap.LDAPResultCodeMap[le.ResultCode]
	if le.Err != nil && le.Err.Error() != "" {
		ce.Detail += ": " + le.Err.Error()
	}
	ce.Kind = kindOfResult(le.ResultCode)
	return ce
}

func kindOfResult(code uint16) connectors.Kind {
	switch code {
	case goldap.LDAPResultInvalidCredentials,
		goldap.LDAPResultInappropriateAuthentication, goldap.LDAPResultStrongAuthRequired,
		goldap.LDAPResultConfidentialityRequired:
		return connectors.KindUnauthorized
	case goldap.LDAPResultInsufficientAccessRights:
		// Bound, but not allowed on this entry (an account AdminSDHolder
		// protects): the object fails alone.
		return connectors.KindForbidden
	case goldap.LDAPResultNoSuchObject:
		return connectors.KindNotFound
	case goldap.LDAPResultEntryAlreadyExists, goldap.LDAPResultAttributeOrValueExists,
		goldap.LDAPResultNotAllowedOnNonLeaf:
		return connectors.KindConflict
	case goldap.LDAPResultNoSuchAttribute, goldap.LDAPResultUndefinedAttributeType,
		goldap.LDAPResultInappropriateMatching, goldap.LDAPResultConstraintViolation,
		goldap.LDAPResultInvalidAttributeSyntax, goldap.LDAPResultInvalidDNSyntax,
		goldap.LDAPResultNamingViolation, goldap.LDAPResultObjectClassViolation,
		goldap.LDAPResultNotAllowedOnRDN, goldap.LDAPResultObjectClassModsProhibited,
		goldap.LDAPResultUnwillingToPerform, goldap.LDAPResultAffectsMultipleDSAs:
		return connectors.KindInvalidRequest
	case goldap.LDAPResultBusy:
		return connectors.KindTooManyRequests
	case goldap.LDAPResultUnavailable:
		return connectors.KindUnavailable
	case goldap.LDAPResultTimeLimitExceeded:
		return connectors.KindTimeout
	case goldap.LDAPResultUnavailableCriticalExtension, goldap.LDAPResultProtocolError:
		return connectors.KindServiceIncompatible
	}
	return connectors.KindServerError
}
