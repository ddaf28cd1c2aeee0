//go:build tools

// Package seaweedfstools pins SeaweedFS (the `weed` binary: an S3-compatible object server) for
// the S3 backend's integration tests; scripts/s3/install.ts builds it into .fabric/bin/weed.
package seaweedfstools

import (
	_ "github.com/seaweedfs/seaweedfs/weed"
)
