"""Files prepared in the background (issue 16): an export too large to write within a request is
queued here, written by the `prepare_exports` job and downloaded by the user who asked for it.

Which files exist is not this package's business: each domain registers its kinds (kinds.py) beside
the code that writes them, so the job writes exactly the bytes the domain's inline download sends."""
