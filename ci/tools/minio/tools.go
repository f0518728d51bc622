//go:build tools

// Package tools pins github.com/minio/minio into this module's graph.
package tools

import _ "github.com/minio/minio"
