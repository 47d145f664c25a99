#!/usr/bin/env bash
# Puts `invhooks` on PATH for the GitHub Action in action.yml.
#
#   install.sh resolve   writes version, target, dir and cache-key to $GITHUB_OUTPUT
#   install.sh install   makes "$dir/invhooks" exist (cache hit whose sha256
#                        matches the one recorded at install, a prebuilt
#                        release binary verified by its sha256, or
#                        `cargo install --locked` from the action's own
#                        checkout) and adds "$dir" to $GITHUB_PATH
#
# The version of the action's own source (no version input) may be built
# from that source, so its cache key and directory also hold a digest of
# the source: two commits of one version never share a binary.
#   install.sh target    prints the release target of this runner
#
# Inputs (environment): INPUT_VERSION (a release tag, default: `v` + the
# version in the action's Cargo.toml), INPUT_BINARY (use this binary, install
# nothing), INVHOOKS_REPOSITORY (owner/name whose releases to download from),
# GH_TOKEN (for `gh release download`), INVHOOKS_ACTION_PATH (the action's
# checkout; default: this script's repository).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
action_path="${INVHOOKS_ACTION_PATH:-$(dirname "$here")}"

log() { echo "invhooks: $*" >&2; }
fail() { echo "::error title=invhooks install::$*" >&2; exit 1; }

# The release target (asset name part) of this runner; see
# .github/workflows/release.yml for the matrix that builds each one.
target() {
  local os="${RUNNER_OS:-$(uname -s)}" arch="${RUNNER_ARCH:-$(uname -m)}"
  case "$os/$arch" in
    Linux/X64 | Linux/x86_64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64 | Linux/aarch64 | Linux/arm64) echo aarch64-unknown-linux-musl ;;
    macOS/X64 | Darwin/x86_64) echo x86_64-apple-darwin ;;
    macOS/ARM64 | Darwin/arm64) echo aarch64-apple-darwin ;;
    Windows/X64 | MINGW*/x86_64 | MSYS*/x86_64) echo x86_64-pc-windows-msvc ;;
    *) echo "unknown-$os-$arch" ;;
  esac
}

own_version() {
  sed -n 's/^version = "\(.*\)"$/v\1/p' "$action_path/Cargo.toml" | head -n 1
}

# `sha256sum` (GNU) or `shasum -a 256` (macOS), given files: `DIGEST  FILE` lines.
sha256_cmd=(sha256sum)
command -v sha256sum >/dev/null || sha256_cmd=(shasum -a 256)

sha256() { "${sha256_cmd[@]}" "$1" | cut -d ' ' -f 1; }

# A digest of what `cargo install` builds from the action's checkout: of
# a `FILE DIGEST` line per file, every file hashed by one process.
source_digest() {
  (
    cd "$action_path"
    { find Cargo.toml Cargo.lock build.rs src -type f 2>/dev/null || true; } | LC_ALL=C sort |
      tr '\n' '\0' | xargs -0 "${sha256_cmd[@]}" | sed -E 's/^([0-9a-f]{64})  (.*)$/\2 \1/'
  ) | sha256 /dev/stdin | cut -c 1-16
}

version="${INPUT_VERSION:-}"
version="${version:-$(own_version)}"
case "$version" in v*) ;; *) version="v$version" ;; esac
target="$(target)"
exe=invhooks
case "$target" in *windows*) exe=invhooks.exe ;; esac
install_id="$version-$target"
[ "$version" = "$(own_version)" ] && install_id="$install_id-src$(source_digest)"
dir="${RUNNER_TOOL_CACHE:-${HOME:-/tmp}/.cache}/invhooks/$install_id/bin"

# Downloads and verifies the release archive into "$dir"; fails (status 1)
# when there is no such release or asset.
download() {
  local repo="${INVHOOKS_REPOSITORY:-}" tmp asset
  [ -n "$repo" ] && command -v gh >/dev/null && [ -n "${GH_TOKEN:-}" ] || return 1
  asset="invhooks-$target.tar.gz"
  case "$target" in *windows*) asset="invhooks-$target.zip" ;; esac
  tmp="$(mktemp -d)"
  log "downloading $asset from the $version release of $repo"
  gh release download "$version" --repo "$repo" --dir "$tmp" \
    --pattern "$asset" --pattern "$asset.sha256" >&2 || return 1
  local want got
  want="$(cut -d ' ' -f 1 < "$tmp/$asset.sha256")"
  got="$(sha256 "$tmp/$asset")"
  [ -n "$want" ] && [ "$want" = "$got" ] ||
    fail "sha256 of $asset is $got, the release says $want; not installing it"
  mkdir -p "$dir"
  case "$asset" in
    *.zip) unzip -o -q "$tmp/$asset" -d "$tmp/x" ;;
    *) mkdir -p "$tmp/x" && tar -xzf "$tmp/$asset" -C "$tmp/x" ;;
  esac
  cp "$(find "$tmp/x" -name "$exe" -type f | head -n 1)" "$dir/$exe"
  chmod +x "$dir/$exe"
  rm -rf "$tmp"
}

# Builds the action's own checkout (the source of exactly this version).
build() {
  local own
  own="$(own_version)"
  [ "$version" = "$own" ] ||
    fail "no release binary of invhooks $version for $target, and this action's source is $own; use the action at the ref $version, or leave the version input empty"
  command -v cargo >/dev/null || fail "no release binary of invhooks $version for $target and no cargo to build one; install a Rust toolchain first"
  log "no release binary of $version for $target; building from source (cargo install --locked)"
  cargo install --locked --path "$action_path" --root "$(dirname "$dir")" >&2
}

case "${1:-install}" in
  target)
    echo "$target"
    ;;
  resolve)
    dest="${GITHUB_OUTPUT:-/dev/stdout}"
    image="${ImageOS:-${RUNNER_OS:-local}}-${ImageVersion:-0}"
    {
      echo "version=$version"
      echo "target=$target"
      echo "dir=$dir"
      echo "cache-key=invhooks-$install_id-$image"
    } >> "$dest"
    ;;
  install)
    if [ -n "${INPUT_BINARY:-}" ]; then
      [ -x "$INPUT_BINARY" ] || fail "binary input \`$INPUT_BINARY\` is not an executable file"
      dir="$(cd "$(dirname "$INPUT_BINARY")" && pwd)"
      [ "$(basename "$INPUT_BINARY")" = "$exe" ] ||
        fail "binary input \`$INPUT_BINARY\` must be named $exe (it is run by that name)"
    elif [ -x "$dir/$exe" ] && [ "$(cat "$dir/$exe.sha256" 2>/dev/null)" = "$(sha256 "$dir/$exe")" ]; then
      log "using the cached $dir/$exe (sha256 as recorded at install)"
    else
      if [ -e "$dir/$exe" ]; then
        log "the cached $dir/$exe does not match the sha256 recorded at install; installing again"
        rm -f "$dir/$exe" "$dir/$exe.sha256"
      fi
      download || build
      sha256 "$dir/$exe" > "$dir/$exe.sha256"
    fi
    "$dir/$exe" --version >&2 || fail "$dir/$exe does not run on this runner"
    echo "$dir" >> "${GITHUB_PATH:-/dev/null}"
    ;;
  *)
    fail "usage: install.sh resolve|install|target"
    ;;
esac
