#!/usr/bin/env bash
# Provides everything `pulumi preview/up` needs, building only what is missing:
#   - the project's virtualenv (venv/) with the pinned packages of the program
#     (requirements.txt), the policy pack (policy/requirements.txt), the commands and the tests
#     (requirements-dev.txt), and the project itself, editable: the `demo-orq` command;
#   - the Pulumi CLI at the pinned version: an installed one is used as it is, else it is
#     built from the Go module proxy into the cache, with a Python language host beside it;
#   - the pulumi-resource-kubernetes plugin at the version the SDK asks for;
#   - actionlint, which checks .github/workflows/, and shellcheck (Debian's), the scripts;
#   - with `--with helm` only, Helm for the benchmark (CI does not need it).
# Running it twice is a no-op. Then `source toolchain/env.sh` puts them on PATH.
#   usage: toolchain/ensure.sh [--with helm]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=toolchain/lib.sh
source "$here/lib.sh"

check_pins_match_requirements() {
  local req="$project_root/requirements.txt"
  grep -qx "pulumi==$PULUMI_VERSION" "$req" ||
    die "requirements.txt must pin pulumi==$PULUMI_VERSION (toolchain/versions.env); change both together"
  grep -qx "pulumi-kubernetes==$PULUMI_KUBERNETES_VERSION" "$req" ||
    die "requirements.txt must pin pulumi-kubernetes==$PULUMI_KUBERNETES_VERSION (toolchain/versions.env); change both together"
}

# The program's, the policy pack's, then the commands' and tests' (one venv runs all three).
REQUIREMENTS=(requirements.txt policy/requirements.txt requirements-dev.txt)

ensure_virtualenv() {
  local venv="$project_root/venv" stamp="$project_root/venv/.requirements.sha256" file
  local args=()
  for file in "${REQUIREMENTS[@]}"; do args+=(-r "$project_root/$file"); done
  local want; want="$(cd "$project_root" && cat "${REQUIREMENTS[@]}" | sha256sum | cut -d' ' -f1)"
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && { log "virtualenv up to date"; return; }
  log "installing the Python packages of ${REQUIREMENTS[*]} into venv/"
  [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${args[@]}"
  echo "$want" > "$stamp"
}

# The project in venv/, editable (its code is this folder's): pyproject.toml's `demo-orq`
# command. Installed again only when pyproject.toml or the mode changed or the command is gone.
# The compat mode puts this folder on sys.path with a plain .pth line; the default mode's
# import hook, loaded by every Python of the venv at start-up (the language host twice per
# Pulumi command, the program, demo-orq), cost 0.01-0.04 s each.
editable_mode=compat
ensure_project_installed() {
  local venv="$project_root/venv" stamp="$project_root/venv/.project.sha256"
  if [[ -L "$venv" ]]; then
    # A copy of the project sharing another folder's venv (the tests' copies) leaves that
    # folder's install alone: pointing it here would break it once the copy is deleted.
    log "venv/ is $(readlink "$venv"): the project installed there is used"
    return
  fi
  local want; want="$(sha256sum "$project_root/pyproject.toml" | cut -d' ' -f1) $editable_mode"
  if [[ -x "$venv/bin/demo-orq" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "demo-orq installed in venv/"
    return
  fi
  log "installing the project (the demo-orq command) into venv/"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
    --config-settings editable_mode="$editable_mode" --editable "$project_root"
  echo "$want" > "$stamp"
}

installed_pulumi_is_suitable() {
  local pulumi version
  pulumi="$(command -v pulumi || true)"
  [[ -n "$pulumi" && "$pulumi" != "$(cli_dir)/bin/pulumi" ]] || return 1
  version="$(pulumi version 2>/dev/null)" || return 1
  # Any 3.x CLI at least as new as the SDK runs this program.
  python3 - "$version" "$PULUMI_VERSION" <<'PY'
import sys
have, want = (tuple(int(p) for p in v.lstrip("v").split("-")[0].split(".")[:3]) for v in sys.argv[1:])
sys.exit(0 if have[0] == want[0] and have >= want else 1)
PY
}

install_language_host() {
  local bin; bin="$(cli_dir)/bin"
  local sdk; sdk="$(module_dir "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION")"
  "$toolchain_root/build-go.sh" language-host
  # Pulumi's own runner of Python programs (module-cache files lose their exec bit: copy, not
  # link), and ours around it, which forks programs from a warm Python process.
  install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$bin/pulumi-language-python-exec"
  install -m 0644 "$toolchain_root/python_program_server.py" "$bin/python_program_server.py"
  # The provider of Python dynamic resources (the program's analysis gate), bundled next to the
  # CLI as Pulumi's own releases do; it runs `python -m pulumi.dynamic` in the project's venv.
  install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$bin/pulumi-resource-pulumi-python"
  rm -f "$bin/pulumi_language_python.py"  # the Python host of earlier versions
}

ensure_pulumi_cli() {
  if installed_pulumi_is_suitable; then
    log "using the installed pulumi $(pulumi version) at $(command -v pulumi)"
    return
  fi
  "$toolchain_root/build-go.sh" cli
  install_language_host
  log "pulumi $("$(cli_dir)/bin/pulumi" version) ready in $(cli_dir)/bin"
}

ensure_kubernetes_provider() {
  # shellcheck source=toolchain/env.sh
  source "$toolchain_root/env.sh"
  local built; built="$(provider_dir)/bin/pulumi-resource-kubernetes"
  local installed="${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-kubernetes-v$PULUMI_KUBERNETES_VERSION/pulumi-resource-kubernetes"
  if [[ -x "$built" ]] && cmp -s "$built" "$installed"; then
    log "plugin kubernetes $PULUMI_KUBERNETES_VERSION already installed"
    return
  fi
  "$toolchain_root/build-go.sh" provider
  pulumi plugin install resource kubernetes "$PULUMI_KUBERNETES_VERSION" --reinstall --file "$built"
  log "plugin kubernetes $PULUMI_KUBERNETES_VERSION installed"
}

ensure_shellcheck() {
  command -v shellcheck >/dev/null && return
  log "installing shellcheck (Debian's package), which checks the project's bash scripts"
  apt-get install -y -qq --no-install-recommends shellcheck >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends shellcheck >/dev/null; }
}

# `--with helm` asks for Helm too: the only optional tool.
with_helm=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --with)
      [[ "${2:-}" == helm ]] || die "unknown tool for --with: '${2:-}' (accepted: helm)"
      with_helm=true
      shift 2 ;;
    *) die "unknown argument '$1' (accepted: --with helm)" ;;
  esac
done

check_pins_match_requirements
# The provider's build shares almost nothing with the CLI's (it pins other versions of Pulumi's
# modules): on a cold machine both build at once, beside the virtualenv, instead of the provider
# building alone on one core for its last 8 minutes.
provider_build=""
if [[ ! -x "$(provider_dir)/bin/pulumi-resource-kubernetes" ]]; then
  "$toolchain_root/build-go.sh" provider &
  provider_build=$!
fi
ensure_virtualenv
ensure_project_installed
ensure_pulumi_cli
if [[ -n "$provider_build" ]]; then
  wait "$provider_build" || die "the provider's build failed (its log is above)"
fi
ensure_kubernetes_provider
"$toolchain_root/build-go.sh" actionlint
ensure_shellcheck
if [[ "$with_helm" == true ]]; then
  "$toolchain_root/build-go.sh" helm
fi
log "toolchain ready; run: source toolchain/env.sh"
