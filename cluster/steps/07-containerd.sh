# shellcheck shell=bash
# The project's own containerd (its own state dir and socket), with the CNI bridge plugin.
step_containerd() {
  start_containerd
  expect_healthy containerd 30
}

start_containerd() {
  start_component containerd containerd --config "$CONF/containerd.toml"
}

health_containerd() { ctr --address "$CONTAINERD_SOCK" version; }
