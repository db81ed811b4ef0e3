#!/bin/sh
# Converts the clips listed in clips/manifest (from $NEUVC_CLIPS/eval, default
# ../shared/clips/eval) to 8-bit 4:2:0 Y4M, first N frames, under
# build/eval/clips/.  All arguments go to tools/clips.py, e.g.
#   clips/prepare.sh --frames 96
#   clips/prepare.sh --out /tmp/clips some_video.mp4
here=$(dirname "$0")
PYTHON=${PYTHON:-$(test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)}
exec "$PYTHON" "$here/../tools/clips.py" "$@"
