//go:build tools

// Package tools pins k8s.io/kubernetes/cmd/kube-apiserver into this module's graph.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
