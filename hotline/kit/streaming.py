"""Streaming a download that a generator produces in a worker thread, chunk by chunk."""

from collections.abc import AsyncIterator, Generator
from itertools import chain

import anyio
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse


def streaming_download(
    chunks: Generator[bytes, None, None], filename: str, media_type: str
) -> StreamingResponse:
    """An attachment streamed from the generator; its first chunk is made before the response.

    Making the first chunk (typically the header, with the query started) here means a failure
    at the start is still an ordinary error response rather than a cut-off download.
    """
    try:
        first = [next(chunks)]
    except BaseException:
        chunks.close()
        raise
    return StreamingResponse(
        _off_the_event_loop(chain(first, chunks), chunks.close),
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


async def _off_the_event_loop(chunks, close) -> AsyncIterator[bytes]:
    """The chunks, each read in the thread pool; closed even when the client leaves."""
    try:
        while (chunk := await run_in_threadpool(next, chunks, None)) is not None:
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(close)
