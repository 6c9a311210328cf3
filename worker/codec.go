package main

import (
	"context"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/codec"
)

// serveCodec logs whether history is encrypted, and starts the codec
// server when -codec-listen asks for it.
func serveCodec(cfg codec.Config, keys *codec.Keys, log *logrus.Logger) error {
	if keys == nil {
		log.Warn("payload codec off: workflow history holds the provisioned objects' names and values in clear (set -codec-keys-file or -codec-keys-env)")
		return nil
	}
	log.WithFields(logrus.Fields{"keys": keys.IDs(), "current": keys.Current()}).Info("payload codec on: workflow history is compressed and encrypted")
	addr, err := cfg.Serve(context.Background(), keys, func(err error) { log.WithError(err).Error("codec server stopped") })
	if err != nil || addr == nil {
		return err
	}
	log.WithFields(logrus.Fields{"address": addr.String(), "tls": cfg.TLSCert != "", "origins": cfg.Origins}).Info("codec server listening")
	return nil
}
