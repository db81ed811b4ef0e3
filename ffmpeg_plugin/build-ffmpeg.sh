#!/bin/sh
# Builds FFmpeg 5.1 with neuvc (the libneuvc encoder and decoder, the .nvc
# demuxer and muxer) from Debian's ffmpeg source package, into build/ffmpeg/:
#
#   build/ffmpeg/ffmpeg, build/ffmpeg/ffprobe   the programs (static: they
#                                                need no FFmpeg libraries)
#   build/ffmpeg/prefix/{include,lib}           libavcodec & co. (static) with
#                                                pkg-config files, for programs
#                                                that link libavcodec
#
# Steps: build libneuvc (make lib) and stage it as a static library with its
# own neuvc.pc; fetch the source with `apt-get source` (adding deb-src
# entries for the Debian sources already configured, when there are none);
# unpack it, apply ffmpeg_plugin/ffmpeg-5.1-neuvc.patch and copy the
# wrappers in; configure a lean build (libneuvc, libx264, the formats and
# filters the tests and the evaluation use); make; install.
#
# Run again, it redoes only what changed: the source is unpacked and
# patched again when the patch changes, configure runs again when its
# options change, the wrappers are copied when they change, and the
# programs are linked again when libneuvc.a changes.
#
# Needs (Debian 12): build-essential pkg-config nasm libx264-dev dpkg-dev.
# Environment: JOBS (parallel jobs, default 2), FFMPEG_EXTRA_CONFIG (more
# configure options, e.g. "--enable-demuxer=mov"), NEUVC_FFMPEG_DIR (output
# directory, default build/ffmpeg).
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
PLUGIN=$REPO/ffmpeg_plugin
PATCH=$PLUGIN/ffmpeg-5.1-neuvc.patch
OUT=${NEUVC_FFMPEG_DIR:-$REPO/build/ffmpeg}
JOBS=${JOBS:-2}
MAKE=${MAKE:-make}
START=$(date +%s)

# Started from make (make ffmpeg), the variables of that make must not reach
# the makes run here: FFmpeg's (a `make ffmpeg CFLAGS=...` would override
# FFmpeg's own CFLAGS) nor libneuvc's (FFmpeg links the plain library in
# build/, also under `make SANITIZE=1`).
unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL

say() { echo "build-ffmpeg: $*"; }
die() { echo "build-ffmpeg: error: $*" >&2; exit 1; }

# Copies $1 to $2 only when the contents differ (keeps mtimes, so make
# rebuilds nothing for an unchanged file); returns 0 when it copied.
copy_if_changed() {
    if [ -f "$2" ] && cmp -s "$1" "$2"; then
        return 1
    fi
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2.tmp" && mv "$2.tmp" "$2"
    return 0
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "'$*' needs root (no sudo found)"
    fi
}

# ------------------------------------------------------------ prerequisites
for tool in cc pkg-config nasm apt-get dpkg-source patch; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' not found: install build-essential pkg-config nasm dpkg-dev (sh tools/install-deps.sh)"
done
pkg-config --exists x264 || die "x264 not found by pkg-config: install libx264-dev"

# ------------------------------------------------------------ libneuvc
say "libneuvc (make lib, in build/)"
"$MAKE" -C "$REPO" -j"$JOBS" lib >/dev/null || die "building libneuvc failed (make lib)"
[ -f "$REPO/build/libneuvc.a" ] || die "build/libneuvc.a missing after make lib"

STAGE=$OUT/neuvc
copy_if_changed "$REPO/build/libneuvc.a" "$STAGE/lib/libneuvc.a" || true
copy_if_changed "$REPO/include/neuvc/neuvc.h" "$STAGE/include/neuvc/neuvc.h" || true
VERSION=$(sed -n 's/^VERSION *:= *//p' "$REPO/Makefile")
[ -n "$VERSION" ] || VERSION=0.1.0
# Only the static library is staged, so FFmpeg links libneuvc in and the
# programs do not depend on libneuvc.so at run time.
mkdir -p "$STAGE/lib/pkgconfig"
cat > "$STAGE/lib/pkgconfig/neuvc.pc.new" <<EOF
prefix=$STAGE
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: neuvc
Description: learned low-delay video codec (static, staged for FFmpeg)
Version: $VERSION
Libs: -L\${libdir} -lneuvc -lm -pthread
Cflags: -I\${includedir}
EOF
copy_if_changed "$STAGE/lib/pkgconfig/neuvc.pc.new" "$STAGE/lib/pkgconfig/neuvc.pc" || true
rm -f "$STAGE/lib/pkgconfig/neuvc.pc.new"

# ------------------------------------------------------------ the source
DL=$OUT/dl
mkdir -p "$DL"
DSC=$(ls "$DL"/ffmpeg_*.dsc 2>/dev/null | tail -n 1 || true)
if [ -z "$DSC" ]; then
    if ! apt-cache showsrc ffmpeg 2>/dev/null | grep -q '^Package: ffmpeg'; then
        # No deb-src entries: add them for the Debian sources of this machine.
        list=/etc/apt/sources.list.d/neuvc-deb-src.sources
        say "no deb-src entries: writing $list and running apt-get update"
        tmp=$(mktemp)
        if [ -f /etc/apt/sources.list.d/debian.sources ]; then
            sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$tmp"
        elif [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list; then
            list=/etc/apt/sources.list.d/neuvc-deb-src.list
            grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > "$tmp"
        else
            codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
            printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb-src\nURIs: http://deb.debian.org/debian-security\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
                "$codename" "$codename" "$codename" > "$tmp"
        fi
        as_root install -m 644 "$tmp" "$list"
        rm -f "$tmp"
        as_root apt-get update -qq || die "apt-get update failed"
        apt-cache showsrc ffmpeg 2>/dev/null | grep -q '^Package: ffmpeg' ||
            die "apt-get still knows no ffmpeg source package (see $list)"
    fi
    say "apt-get source ffmpeg"
    (cd "$DL" && apt-get source --download-only ffmpeg) >"$DL/apt-get.log" 2>&1 ||
        { cat "$DL/apt-get.log" >&2; die "apt-get source ffmpeg failed"; }
    DSC=$(ls "$DL"/ffmpeg_*.dsc 2>/dev/null | tail -n 1 || true)
    [ -n "$DSC" ] || die "apt-get source gave no .dsc file in $DL"
fi
UPSTREAM=$(sed -n 's/^Version: *\([0-9]*:\)\{0,1\}\([^-]*\).*/\2/p' "$DSC" | head -n 1)
case "$UPSTREAM" in
    5.1|5.1.*) ;;
    *) die "$DSC is FFmpeg $UPSTREAM; the patch is for FFmpeg 5.1 (Debian 12)";;
esac

SRC=$OUT/src
STAMP=$( (basename "$DSC"; cat "$PATCH") | cksum | cut -d' ' -f1)
if [ "$(cat "$SRC/.neuvc-stamp" 2>/dev/null || true)" != "$STAMP" ]; then
    say "unpacking $(basename "$DSC") and applying $(basename "$PATCH")"
    rm -rf "$SRC" "$OUT/obj" "$DL/src.new"
    # Unpacked next to the .dsc (dpkg-source puts the orig tarball beside
    # the tree it creates), then moved into place.  (apt-get verified the
    # files against the signed archive index.)
    (cd "$DL" && dpkg-source -x "$(basename "$DSC")" src.new) >"$DL/dpkg-source.log" 2>&1 ||
        { cat "$DL/dpkg-source.log" >&2; die "dpkg-source -x failed"; }
    mv "$DL/src.new" "$SRC"
    patch -p1 -d "$SRC" --forward --no-backup-if-mismatch < "$PATCH" >"$DL/patch.log" 2>&1 ||
        { cat "$DL/patch.log" >&2; die "the patch does not apply to FFmpeg $UPSTREAM"; }
    echo "$STAMP" > "$SRC/.neuvc-stamp"
fi
for f in libavcodec/libneuvcenc.c libavcodec/libneuvcdec.c \
         libavformat/nvcdec.c libavformat/nvcenc.c; do
    copy_if_changed "$PLUGIN/$f" "$SRC/$f" || true
done

# ------------------------------------------------------------ configure
# Lean: only what neuvc, the tests and the evaluation use.  The ffmpeg
# program itself selects the few filters it always needs (format, null,
# trim, ...).
CONFIG="--prefix=$OUT/prefix
 --extra-version=neuvc
 --disable-everything --disable-autodetect --disable-doc --disable-debug
 --disable-shared --enable-static
 --disable-programs --enable-ffmpeg --enable-ffprobe
 --disable-avdevice --disable-swresample --disable-postproc --disable-network
 --enable-gpl --enable-libx264 --enable-libneuvc
 --enable-encoder=libneuvc,libx264,rawvideo,wrapped_avframe
 --enable-decoder=libneuvc,rawvideo,wrapped_avframe,h264
 --enable-parser=h264
 --enable-demuxer=nvc,matroska,nut,avi,yuv4mpegpipe,rawvideo,h264
 --enable-muxer=nvc,matroska,nut,avi,yuv4mpegpipe,rawvideo,h264,null
 --enable-protocol=file,pipe
 --enable-filter=psnr,ssim,scale,format,null,split,crop,setpts
 ${FFMPEG_EXTRA_CONFIG:-}"
CONFIG=$(echo $CONFIG)           # one line, single spaces

OBJ=$OUT/obj
mkdir -p "$OBJ"
export PKG_CONFIG_PATH="$STAGE/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
if [ "$(cat "$OBJ/.neuvc-config" 2>/dev/null || true)" != "$STAMP $CONFIG" ] ||
   [ ! -f "$OBJ/ffbuild/config.mak" ]; then
    say "configure $CONFIG"
    # shellcheck disable=SC2086
    (cd "$OBJ" && "$SRC/configure" $CONFIG) >"$OBJ/configure.log" 2>&1 ||
        { tail -n 30 "$OBJ/configure.log" >&2
          [ -f "$OBJ/ffbuild/config.log" ] && tail -n 30 "$OBJ/ffbuild/config.log" >&2
          die "FFmpeg's configure failed (log: $OBJ/configure.log, $OBJ/ffbuild/config.log)"; }
    echo "$STAMP $CONFIG" > "$OBJ/.neuvc-config"
fi

# ------------------------------------------------------------ build
LIBSUM=$(cksum < "$STAGE/lib/libneuvc.a")
if [ "$(cat "$OBJ/.neuvc-lib" 2>/dev/null || true)" != "$LIBSUM" ]; then
    # make does not know that the programs depend on the staged libneuvc.a.
    rm -f "$OBJ/ffmpeg" "$OBJ/ffmpeg_g" "$OBJ/ffprobe" "$OBJ/ffprobe_g" "$OBJ/.neuvc-lib"
fi
say "make -j$JOBS (in $OBJ)"
"$MAKE" -C "$OBJ" -j"$JOBS" >"$OBJ/make.log" 2>&1 ||
    { grep -E -B2 -A8 'error|Error' "$OBJ/make.log" | tail -n 60 >&2
      die "building FFmpeg failed (log: $OBJ/make.log)"; }
echo "$LIBSUM" > "$OBJ/.neuvc-lib"
"$MAKE" -C "$OBJ" install-libs install-headers >"$OBJ/install.log" 2>&1 ||
    { tail -n 30 "$OBJ/install.log" >&2; die "make install-libs install-headers failed"; }
for p in ffmpeg ffprobe; do
    copy_if_changed "$OBJ/$p" "$OUT/$p" || true
    chmod 755 "$OUT/$p"
done

"$OUT/ffmpeg" -hide_banner -h encoder=libneuvc >/dev/null 2>&1 ||
    die "$OUT/ffmpeg does not know the libneuvc encoder"
say "$("$OUT/ffmpeg" -version | head -n 1)"
say "done in $(( $(date +%s) - START )) s: $OUT/ffmpeg, $OUT/ffprobe, $OUT/prefix"
