//go:build tools

// The metrics-server command, built from its published module at the version go.mod requires
// (cluster/build-images.sh runs `go build sigs.k8s.io/metrics-server/cmd/metrics-server`).
package tools

import _ "sigs.k8s.io/metrics-server/cmd/metrics-server"
