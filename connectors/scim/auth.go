package scim

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/openprovisioning/provisioner/connectors"
)

// credentials are the resolved secrets of a Config and how to send them.
type credentials struct {
	authorize func(*http.Request) error
	// secrets are the strings that must never appear in an error or a log.
	secrets []string
	// identity tells whose calls these are, for limits shared by the
	// clients of one identity. It may hold a secret: it is only digested.
	identity string
}

// resolveCredentials reads the secrets the configuration names. tokenClient
// is used to call an OAuth token endpoint.
func (c Config) resolveCredentials(tokenClient *http.Client) (credentials, error) {
	switch {
	case c.Basic != nil:
		password, err := c.Basic.Password.Resolve()
		if err != nil {
			return credentials{}, connectors.SecretProblem("basic.password", err)
		}
		encoded := base64.StdEncoding.EncodeToString([]byte(c.Basic.Username + ":" + password))
		basic := []string{"Basic " + encoded} // shared, as the other headers' values (see call)
		return credentials{
			authorize: func(r *http.Request) error {
				r.Header["Authorization"] = basic
				return nil
			},
			secrets:  []string{password, encoded},
			identity: "basic\x00" + c.Basic.Username,
		}, nil
	case c.OAuth != nil:
		secret, err := c.OAuth.ClientSecret.Resolve()
		if err != nil {
			return credentials{}, connectors.SecretProblem("oauth.clientSecret", err)
		}
		cc := clientcredentials.Config{
			ClientID:     c.OAuth.ClientID,
			ClientSecret: secret,
			TokenURL:     c.OAuth.TokenURL,
			Scopes:       c.OAuth.Scopes,
		}
		// The token source outlives any one call, so it gets its own
		// context; tokenClient's timeout bounds each token request.
		tokens := cc.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient, tokenClient))
		return credentials{
			authorize: func(r *http.Request) error {
				tok, err := tokens.Token()
				if err != nil {
					var re *oauth2.RetrieveError
					if errors.As(err, &re) {
						// The endpoint answered and refused: retrying will not help.
						return &authError{err: err}
					}
					return err
				}
				tok.SetAuthHeader(r)
				return nil
			},
			secrets:  []string{secret},
			identity: "oauth\x00" + c.OAuth.TokenURL + "\x00" + c.OAuth.ClientID,
		}, nil
	}
	token, err := c.Token.Resolve()
	if err != nil {
		return credentials{}, connectors.SecretProblem("token", err)
	}
	bearer := []string{"Bearer " + token} // shared, as the other headers' values (see call)
	return credentials{
		authorize: func(r *http.Request) error {
			r.Header["Authorization"] = bearer
			return nil
		},
		secrets:  []string{token},
		identity: "token\x00" + token,
	}, nil
}
