#!/usr/bin/env bash
# Usage: runner-tools.sh <tool>...   (aws, kubectl, gh)
# Makes sure the tools a cluster stack's job needs are on PATH of the in-VPC runner: aws (the kubeconfig runs
# `aws eks get-token`), kubectl (destroy's ordered teardown), gh (the preview's failure comment). CodeBuild's
# curated images carry the AWS CLI; kubectl and gh are installed when missing, into $RUNNER_TEMP/bin, each checked
# against the SHA-256 its publisher lists. aws is never installed here: without it the job fails before any change.
set -euo pipefail

# kubectl: the newest patch of this minor (within one minor of every cluster version the platform supports).
KUBECTL_MINOR="${KUBECTL_MINOR:-1.36}"
# gh: a release of github.com/cli/cli.
GH_VERSION="${GH_VERSION:-2.60.0}"

bin_dir="${RUNNER_TEMP:-/tmp}/bin"
mkdir -p "$bin_dir"
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *)
    echo "::error::unsupported runner architecture $(uname -m)"
    exit 1
    ;;
esac

install_kubectl() {
  local version url
  version="$(curl -fsSL "https://dl.k8s.io/release/stable-${KUBECTL_MINOR}.txt")"
  url="https://dl.k8s.io/release/${version}/bin/linux/${arch}/kubectl"
  curl -fsSL -o "$bin_dir/kubectl" "$url"
  echo "$(curl -fsSL "$url.sha256")  $bin_dir/kubectl" | sha256sum --check --status
  chmod +x "$bin_dir/kubectl"
}

install_gh() {
  local name="gh_${GH_VERSION}_linux_${arch}.tar.gz"
  local base="https://github.com/cli/cli/releases/download/v${GH_VERSION}"
  local work
  work="$(mktemp -d)"
  curl -fsSL -o "$work/$name" "$base/$name"
  curl -fsSL -o "$work/checksums.txt" "$base/gh_${GH_VERSION}_checksums.txt"
  (cd "$work" && grep " ${name}\$" checksums.txt | sha256sum --check --status)
  tar -xzf "$work/$name" -C "$work"
  install -m 0755 "$work/gh_${GH_VERSION}_linux_${arch}/bin/gh" "$bin_dir/gh"
}

missing=0
for tool in "$@"; do
  if command -v "$tool" > /dev/null; then
    continue
  fi
  case "$tool" in
    kubectl) install_kubectl ;;
    gh) install_gh ;;
    *)
      echo "::error::$tool is not installed on this runner and is not installed by this script; use a runner image with it"
      missing=1
      continue
      ;;
  esac
  echo "installed $tool into $bin_dir"
done
[ "$missing" -eq 0 ] || exit 1
if [ -n "${GITHUB_PATH:-}" ]; then echo "$bin_dir" >> "$GITHUB_PATH"; fi
