#!/usr/bin/env bash
# Download real PHP code from Debian's archive without installing it: `apt-get download`
# the .deb files, then unpack each with `dpkg-deb -x` into bench/work/debian-php/<package>/.
# Packages the archive does not have are skipped. Prints the PHP file count and size.
#
# Usage: bench/fetch_debian_php.sh [--force] [OUT_DIR]   (default OUT_DIR: bench/work/debian-php)
set -euo pipefail
cd "$(dirname "$0")"

force=0
if [ "${1:-}" = "--force" ]; then
  force=1
  shift
fi
OUT="${1:-work/debian-php}"
DEBS=work/debs

# Large real PHP applications and libraries (bookworm names). php-symfony-* and
# php-doctrine-* are split packages; the list names the larger ones explicitly.
PACKAGES=(
  phpmyadmin roundcube-core roundcube-plugins mediawiki wordpress dokuwiki tt-rss
  icingaweb2 php-icinga cacti zabbix-frontend-php
  php-guzzlehttp-guzzle php-guzzlehttp-psr7 php-guzzlehttp-promises php-monolog
  php-symfony-console php-symfony-http-foundation php-symfony-http-kernel
  php-symfony-dependency-injection php-symfony-validator php-symfony-form
  php-symfony-security-core php-symfony-security-http php-symfony-serializer
  php-symfony-routing php-symfony-cache php-symfony-yaml php-symfony-process
  php-symfony-finder php-symfony-framework-bundle php-symfony-intl php-symfony-mime
  php-symfony-mailer php-symfony-http-client php-symfony-translation php-symfony-var-dumper
  php-symfony-messenger php-symfony-config php-symfony-string php-symfony-event-dispatcher
  php-zend-code php-zend-eventmanager php-zend-stdlib
  php-doctrine-dbal php-doctrine-orm php-doctrine-annotations php-doctrine-collections
  php-doctrine-common php-doctrine-persistence php-doctrine-inflector php-doctrine-lexer
  php-tcpdf php-phpseclib php-twig phpunit php-codecoverage php-sabre-dav php-sabre-vobject
  php-league-commonmark composer php-composer-semver php-codesniffer php-sql-formatter
  php-horde-imap-client php-horde-mime php-horde-core php-horde-form php-horde-db
)

if [ -d "$OUT" ] && [ "$force" = 0 ]; then
  echo "bench/$OUT exists (use --force to fetch again)" >&2
else
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || {
    echo "needs apt-get and dpkg-deb (a Debian/Ubuntu machine)" >&2
    exit 2
  }
  # apt-cache knows nothing before the first `apt-get update` on a fresh machine.
  if [ -z "$(apt-cache policy phpmyadmin 2>/dev/null | sed -n 's/ *Candidate: *//p' | grep -v none)" ]; then
    echo "apt-get update ..." >&2
    apt-get update -qq
  fi
  available=()
  for pkg in "${PACKAGES[@]}"; do
    candidate="$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/ *Candidate: *//p')"
    if [ -n "$candidate" ] && [ "$candidate" != "(none)" ]; then
      available+=("$pkg")
    else
      echo "skip $pkg: not in the archive" >&2
    fi
  done
  rm -rf "$DEBS" "$OUT"
  mkdir -p "$DEBS" "$OUT"
  echo "apt-get download ${#available[@]} packages ..." >&2
  # apt-get download writes into the current directory; run it unprivileged-safe (_apt
  # cannot write to a root-owned folder, which only warns).
  (cd "$DEBS" && apt-get download -q "${available[@]}" 2>&1 | grep -v "^W: Download is performed unsandboxed" || true)
  for deb in "$DEBS"/*.deb; do
    [ -e "$deb" ] || continue
    pkg="$(dpkg-deb -f "$deb" Package)"
    dpkg-deb -x "$deb" "$OUT/$pkg"
  done
  rm -rf "$DEBS"
  # Packages link into each other and out of the tree (/etc/ssl, ../skins): drop every
  # symlink so that each tool sees the same regular files, each once.
  find "$OUT" -type l -delete
fi

php_files="$(find "$OUT" -type f -name '*.php' | wc -l)"
php_bytes="$(find "$OUT" -type f -name '*.php' -printf '%s\n' | awk '{s+=$1} END {print s+0}')"
all_files="$(find "$OUT" -type f | wc -l)"
all_bytes="$(du -sb "$OUT" | cut -f1)"
awk -v f="$php_files" -v b="$php_bytes" -v af="$all_files" -v ab="$all_bytes" -v out="$OUT" \
  'BEGIN { printf "bench/%s: %d PHP files, %.1f MB of PHP (%d files, %.1f MB in all)\n", out, f, b / 1e6, af, ab / 1e6 }'
