package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFaults(t *testing.T) {
	f, err := parseFaults("503=10%, 429=5%,lost=2.5%")
	require.NoError(t, err)
	assert.Equal(t, faultSpec{unavailable: 0.10, tooMany: 0.05, lost: 0.025, retryAfter: -1}, f)
	assert.Equal(t, "503=10%,429=5%,lost=2.5%", f.String())

	f, err = parseFaults("429=200/s,retry-after=2")
	require.NoError(t, err)
	assert.Equal(t, faultSpec{limit: 200, retryAfter: 2}, f)
	assert.True(t, f.on())

	f, err = parseFaults("")
	require.NoError(t, err)
	assert.False(t, f.on())

	for in, want := range map[string]string{
		"503":              "not kind=value",
		"503=ten":          "a share is a percentage",
		"503=10":           "a share is a percentage",
		"500=10%":          "the kinds are",
		"429=0/s":          "positive number",
		"retry-after=1.5":  "whole number of seconds",
		"503=60%,lost=40%": "add up to 100%",
	} {
		_, err := parseFaults(in)
		assert.ErrorContains(t, err, want, in)
	}
}
