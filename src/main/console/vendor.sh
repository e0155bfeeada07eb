#!/usr/bin/env bash
# Re-creates src/main/resources/static/vendor/fetch-event-source/ from the npm registry. Not part of the build (the
# files are committed, so building and running need neither Node.js nor the npm registry); run it only to update.
#
# @microsoft/fetch-event-source (MIT) is the one browser library of the console that has no WebJar on Maven Central:
# server-sent events over fetch(), so that the watch streams can carry the Authorization header (EventSource
# cannot), with the reconnect loop of the library. Its ES module files import './fetch' without the '.js' that a
# browser needs; this script adds it and drops the source-map comments (the maps are not shipped).
set -euo pipefail
VERSION=2.0.1
INTEGRITY='sha512-W6CLUJ2eBMw3Rec70qrsEW0jOm/3twwJv21mrmj2yORiaVmVYGS4sSS5yUwvQc1ZlDLYGPnClVWmUUMagKNsfA=='
cd "$(dirname "$0")/../../.."
target=src/main/resources/static/vendor/fetch-event-source
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@microsoft/fetch-event-source@$VERSION" >/dev/null)
tarball=$(ls "$work"/*.tgz)
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
[ "$actual" = "$INTEGRITY" ] || { echo "integrity mismatch: $actual" >&2; exit 1; }
tar -xzf "$tarball" -C "$work"
rm -rf "$target" && mkdir -p "$target"
for f in index fetch parse; do
  sed -e "s#from '\./\(fetch\|parse\)'#from './\1.js'#" -e '/^\/\/# sourceMappingURL=/d' \
      -e 's#//\# sourceMappingURL=.*$##' "$work/package/lib/esm/$f.js" >"$target/$f.js"
done
cp "$work/package/LICENSE" "$target/LICENSE"
echo "@microsoft/fetch-event-source $VERSION ($INTEGRITY), ES module build with '.js' import paths" >"$target/VERSION"
echo "vendored @microsoft/fetch-event-source $VERSION into $target"
