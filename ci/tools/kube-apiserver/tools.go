//go:build tools

// Package tools pins the Kubernetes programs wiharness drives into this module's
// graph: kube-apiserver, and for the local backend's real node the kubelet,
// kube-controller-manager and kube-scheduler (one module, four binaries).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
