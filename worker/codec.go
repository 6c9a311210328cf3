package main

import (
	"context"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/codec"
)

// serveCodec logs how history is encoded, and starts the codec server when
// -codec-listen asks for it: with keys it decrypts and decompresses,
// without them it decompresses.
func serveCodec(cfg codec.Config, cd codec.Codec, log *logrus.Logger) error {
	if cd.Keys == nil {
		log.WithField("compressed", cd.Compressed()).Warn("payload encryption off: workflow history holds the provisioned objects' names and values in clear (set -codec-keys-file or -codec-keys-env)")
	} else {
		log.WithFields(logrus.Fields{"keys": cd.Keys.IDs(), "current": cd.Keys.Current(), "compressed": cd.Compressed()}).Info("payload encryption on: workflow history is encrypted")
	}
	addr, err := cfg.Serve(context.Background(), cd.Keys, func(err error) { log.WithError(err).Error("codec server stopped") })
	if err != nil || addr == nil {
		return err
	}
	log.WithFields(logrus.Fields{"address": addr.String(), "tls": cfg.TLSCert != "", "origins": cfg.Origins, "decrypts": cd.Keys != nil}).Info("codec server listening")
	return nil
}
