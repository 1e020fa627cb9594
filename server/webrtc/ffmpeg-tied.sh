#!/bin/sh
# Runs ffmpeg with PR_SET_PDEATHSIG=SIGKILL (util-linux setpriv): if the server process dies,
# the kernel kills its decoders too, so none is left holding an RTP port.
exec setpriv --pdeathsig KILL -- "$OMNILIVE_FFMPEG" "$@"
