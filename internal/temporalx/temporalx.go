// Package temporalx holds what the worker and the starter share about
// reaching Temporal: connection options from Temporal's environment
// configuration and flags, and the registration of the provisioning search
// attributes.
package temporalx

import (
	"context"
	"errors"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/log"

	"github.com/openprovisioning/provisioner/api"
)

// Where a connection goes when neither the environment configuration nor a
// flag says: the local dev server.
const (
	DefaultAddress   = "127.0.0.1:7233"
	DefaultNamespace = "default"
)

// Help for the -address and -namespace flags, alike in every command.
const (
	AddressHelp   = "Temporal frontend host:port, over TEMPORAL_ADDRESS and the TEMPORAL_PROFILE profile's (default " + DefaultAddress + ")"
	NamespaceHelp = "Temporal namespace, over TEMPORAL_NAMESPACE and the TEMPORAL_PROFILE profile's (default " + DefaultNamespace + ")"
)

// Connection says how to reach Temporal. Temporal's environment
// configuration, the convention its CLI and SDKs share, is read first: the
// profile TEMPORAL_PROFILE (default "default") of the TOML file
// TEMPORAL_CONFIG_FILE (default temporalio/temporal.toml in the user's
// configuration folder), then TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_API_KEY, TEMPORAL_TLS_* and TEMPORAL_GRPC_META_* over it. The
// fields set here override both.
type Connection struct {
	// Address and Namespace, when set, override the environment
	// configuration's (the -address and -namespace flags).
	Address, Namespace string
	// Logger receives the SDK client's log.
	Logger log.Logger
}

// ClientOptions returns the client options for the connection, with the
// address and namespace always filled in. A profile named but missing, or a
// TLS certificate that cannot be read, is an error naming it.
func (c Connection) ClientOptions() (client.Options, error) {
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{})
	if err != nil {
		return client.Options{}, fmt.Errorf("read the Temporal environment configuration (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE, TEMPORAL_*): %w", err)
	}
	opts.HostPort = first(c.Address, opts.HostPort, DefaultAddress)
	opts.Namespace = first(c.Namespace, opts.Namespace, DefaultNamespace)
	opts.Logger = c.Logger
	return opts, nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// Security names how a connection authenticates, for logs and errors.
func Security(opts client.Options) string {
	var parts []string
	switch tc := opts.ConnectionOptions.TLS; {
	case tc == nil || opts.ConnectionOptions.TLSDisabled:
		parts = append(parts, "plaintext")
	case len(tc.Certificates) > 0 || tc.GetClientCertificate != nil:
		parts = append(parts, "mTLS")
	default:
		parts = append(parts, "TLS")
	}
	if opts.Credentials != nil {
		parts = append(parts, "API key")
	}
	return strings.Join(parts, ", ")
}

// Dial connects to Temporal and checks that the server answers.
func Dial(opts client.Options) (client.Client, error) {
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s, %s): %w%s", opts.HostPort, opts.Namespace, Security(opts), err, hint(opts, err))
	}
	return c, nil
}

// hint says what to set for the handshake failures a new connection meets.
// A server that wants a client certificate and gets none ends the
// handshake with an alert or, under TLS 1.3, by closing the connection,
// which the client sees as a broken pipe, a reset or an EOF.
func hint(opts client.Options, err error) string {
	msg := err.Error()
	tc := opts.ConnectionOptions.TLS
	plaintext := tc == nil || opts.ConnectionOptions.TLSDisabled
	closed := strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset") || strings.Contains(msg, "EOF")
	switch {
	case strings.Contains(msg, "certificate signed by unknown authority"):
		return "; the server's certificate is not signed by a trusted CA: set TEMPORAL_TLS_SERVER_CA_CERT_PATH, or the profile's tls server_ca_cert_path"
	case strings.Contains(msg, "certificate is valid for") || strings.Contains(msg, "certificate is not valid for"):
		return "; the server's certificate names another host: set TEMPORAL_TLS_SERVER_NAME, or the profile's tls server_name"
	case plaintext && (closed || strings.Contains(msg, "server preface")):
		return "; the connection is plaintext: if the server wants TLS, set TEMPORAL_TLS=true, a TLS setting or an API key"
	case !plaintext && len(tc.Certificates) == 0 && tc.GetClientCertificate == nil && (closed || strings.Contains(msg, "certificate required")):
		return "; the server may want a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH, or the profile's tls client_cert_path and client_key_path"
	case !plaintext && (strings.Contains(msg, "bad certificate") || strings.Contains(msg, "unknown certificate authority")):
		return "; the server refused the client certificate: check that its CA is the one the server trusts"
	}
	return ""
}

// RegisterSearchAttributes makes sure the namespace knows the provisioning
// search attributes; registering one that exists is not an error.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	want := map[string]enumspb.IndexedValueType{}
	for _, k := range api.SearchAttributeKeys() {
		want[k.GetName()] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	existing, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err == nil {
		for name := range existing.GetCustomAttributes() {
			delete(want, name)
		}
	}
	if len(want) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: want})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register search attributes: %w", err)
	}
	return nil
}
