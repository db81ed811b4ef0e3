#!/bin/sh
# Installs neuvc's build and test dependencies from Debian 12's packages.
# Runs apt-get only when something is missing (so repeated runs are fast).
set -eu
PKGS="build-essential pkg-config check python3 python3-numpy python3-matplotlib ffmpeg x264 time nasm libx264-dev dpkg-dev"
# OpenCL: the ICD loader (loaded at run time, never linked), the Khronos
# headers (tests compare netlib/opencl/cl_api.h with them), PoCL (the CPU
# OpenCL platform the check-opencl suite runs on) and clinfo.
PKGS="$PKGS ocl-icd-libopencl1 opencl-c-headers pocl-opencl-icd clinfo"
# Robustness suites (tests/robust.mk): libFuzzer with clang, valgrind.
PKGS="$PKGS clang-14 libclang-rt-14-dev libfuzzer-14-dev valgrind"
# make check-aarch64: the cross compiler, qemu-user, and Check for arm64
# (Debian multiarch: the arm64 architecture is added to dpkg when missing).
PKGS="$PKGS gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user check:arm64"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
    echo "installing:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
