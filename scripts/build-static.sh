#!/usr/bin/env bash
# Builds previewd as one static x86_64 musl binary (release profile) and prints its path on
# stdout; cargo's progress goes to stderr. The Dockerfile's builder stage runs exactly this
# script, and scripts/test.sh runs it before the tests (tests/e2e/container_image.rs checks the
# binary it prints), so what is tested is what the image packages.
#
#   scripts/build-static.sh            build; print the binary's path
#
# It adds the musl target with rustup and installs Debian's musl-tools (a C compiler for ring's
# C and assembly) when they are missing; both steps are skipped when already there. The output
# lands in $CARGO_TARGET_DIR (default target/) under x86_64-unknown-linux-musl/release/.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

target=x86_64-unknown-linux-musl
say() { echo "build-static: $*" >&2; }

if ! rustc --print target-libdir --target "$target" 2>/dev/null | xargs -r test -d; then
	command -v rustup >/dev/null || {
		say "the Rust standard library for $target is missing and rustup is not installed"
		exit 1
	}
	say "adding the $target target with rustup"
	rustup target add "$target" >&2
fi

if ! command -v musl-gcc >/dev/null; then
	if ! command -v apt-get >/dev/null; then
		say "musl-gcc is missing: install your distribution's musl tools (Debian: musl-tools)"
		exit 1
	fi
	as_root=()
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null || {
			say "musl-gcc is missing; as root: apt-get install musl-tools"
			exit 1
		}
		as_root=(sudo)
	fi
	say "installing musl-tools (musl-gcc) with apt-get"
	"${as_root[@]}" apt-get update -qq >&2
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends musl-tools >&2
fi

# ring's C and assembly are compiled against musl's headers (Rust's musl target links
# statically by default).
export CC_x86_64_unknown_linux_musl=musl-gcc
cargo build --locked --release --target "$target" --bin previewd >&2

out="${CARGO_TARGET_DIR:-$repo/target}"
[[ "$out" == /* ]] || out="$repo/$out"
echo "$out/$target/release/previewd"
