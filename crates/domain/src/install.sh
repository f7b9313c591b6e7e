#!/bin/sh
# Installs the da command-line client from the da server at @SERVER_URL@.
#
#   curl -fsSL @SERVER_URL@/cli/install.sh | sh
#
# DA_INSTALL_DIR  where the binary goes (default: $HOME/.local/bin)
# DA_CONFIG_DIR   where `server` is written into config.toml
#                 (default: ${XDG_CONFIG_HOME:-$HOME/.config}/da, as the CLI reads it)
set -eu

server=@SERVER_URL_QUOTED@
server_os='@OS@'
server_arch='@ARCH@'
install_dir="${DA_INSTALL_DIR:-$HOME/.local/bin}"
config_dir="${DA_CONFIG_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/da}"

fail() {
  printf 'da install: %s\n' "$*" >&2
  exit 1
}

os="$(uname -s | tr '[:upper:]' '[:lower:]')"
arch="$(uname -m)"
case "$arch" in
  amd64) arch=x86_64 ;;
  arm64) arch=aarch64 ;;
esac
if [ "$os" != "$server_os" ] || [ "$arch" != "$server_arch" ]; then
  fail "this server ships da for $server_os/$server_arch, but this machine is $os/$arch"
fi

if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL "$1" -o "$2"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  fail "curl or wget is needed to download da"
fi

if command -v sha256sum >/dev/null 2>&1; then
  sha256_of() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256_of() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
elif command -v openssl >/dev/null 2>&1; then
  sha256_of() { openssl dgst -sha256 "$1" | sed 's/^.*= *//'; }
else
  fail "sha256sum, shasum or openssl is needed to verify the download"
fi

mkdir -p "$install_dir"
binary_tmp="$(mktemp "$install_dir/.da-download.XXXXXX")"
latest_tmp="$(mktemp "$install_dir/.da-latest.XXXXXX")"
config_tmp=""
cleanup() { rm -f "$binary_tmp" "$latest_tmp" ${config_tmp:+"$config_tmp"}; }
trap cleanup EXIT
trap 'exit 130' INT TERM

fetch "$server/cli/latest" "$latest_tmp" || fail "cannot reach $server/cli/latest"
expected="$(sed -n 's/.*"sha256" *: *"\([0-9a-f]\{64\}\)".*/\1/p' "$latest_tmp")"
version="$(sed -n 's/.*"version" *: *"\([^"]*\)".*/\1/p' "$latest_tmp")"
if [ -z "$expected" ]; then
  fail "$server does not ship the da CLI (its admin can set DA_CLI_DIST_DIR)"
fi

fetch "$server/cli/download" "$binary_tmp" || fail "cannot download $server/cli/download"
actual="$(sha256_of "$binary_tmp")"
if [ "$actual" != "$expected" ]; then
  fail "checksum mismatch: $server/cli/latest says $expected, the download is $actual"
fi
chmod 755 "$binary_tmp"
mv -f "$binary_tmp" "$install_dir/da"

# Set `server` in config.toml, keeping every other key: replace a top-level `server = …` line,
# else add one before the first [table] (top-level keys must come first in TOML).
mkdir -p "$config_dir"
config="$config_dir/config.toml"
config_tmp="$(mktemp "$config_dir/.config.XXXXXX")"
server_line="server = \"$server\""
if [ -f "$config" ]; then
  awk -v line="$server_line" '
    !done && /^[ \t]*\[/ { print line; done = 1 }
    !done && /^[ \t]*server[ \t]*=/ { print line; done = 1; next }
    { print }
    END { if (!done) print line }
  ' "$config" >"$config_tmp"
else
  printf '%s\n' "$server_line" >"$config_tmp"
fi
chmod 600 "$config_tmp"
mv -f "$config_tmp" "$config"

printf 'Installed da %s to %s\n' "$version" "$install_dir/da"
printf 'Server set to %s in %s\n' "$server" "$config"
case ":$PATH:" in
  *":$install_dir:"*) ;;
  *) printf '\nNote: %s is not on your PATH; add it with:\n  export PATH="%s:$PATH"\n' "$install_dir" "$install_dir" ;;
esac
cat <<NEXT

Next steps:
  da login              sign in with your email and password
  da auth whoami        check who you are signed in as
For scripts and CI, create a token at $server/install (or with: da auth token create)
and set DA_TOKEN in the job's environment.
NEXT
