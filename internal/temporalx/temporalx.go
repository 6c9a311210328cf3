// Package temporalx holds what the worker and the starter share about
// reaching Temporal: connection options from flags or environment, and the
// registration of the provisioning search attributes.
package temporalx

import (
	"context"
	"errors"
	"fmt"
	"os"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/openprovisioning/provisioner/workflows"
)

// Defaults, overridable with TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE.
var (
	DefaultAddress   = envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233")
	DefaultNamespace = envOr("TEMPORAL_NAMESPACE", "default")
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Dial connects to Temporal.
func Dial(address, namespace string, logger log.Logger) (client.Client, error) {
	c, err := client.Dial(client.Options{HostPort: address, Namespace: namespace, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", address, err)
	}
	return c, nil
}

// RegisterSearchAttributes makes sure the namespace knows the provisioning
// search attributes; registering one that exists is not an error.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	want := map[string]enumspb.IndexedValueType{}
	for _, k := range workflows.Keys() {
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
