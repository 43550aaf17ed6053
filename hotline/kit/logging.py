"""A logging filter that masks CPR numbers in every record, installed at start-up."""

import logging
import traceback
from collections.abc import Mapping

from hotline.kit.cpr import mask_cpr

# uvicorn's loggers have handlers of their own (the access log does not propagate to the root).
LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


class CprMaskingFilter(logging.Filter):
    """Masks anything CPR-shaped in a record's message, arguments, traceback and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what there is, masked
            message = f"{record.msg} {record.args}"
            record.msg, record.args = mask_cpr(message), None
        if mask_cpr(message) != message:
            _mask_message(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = mask_cpr(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_cpr(record.stack_info)
        return True


def _mask_message(record: logging.LogRecord) -> None:
    # Keep the arguments' shape where possible: formatters such as uvicorn's access log unpack them.
    def masked(value):
        return mask_cpr(value) if isinstance(value, str) else value

    record.msg = masked(record.msg)
    if isinstance(record.args, Mapping):
        record.args = {key: masked(value) for key, value in record.args.items()}
    elif isinstance(record.args, tuple):
        record.args = tuple(masked(value) for value in record.args)
    try:
        message = record.getMessage()
    except Exception:
        message = mask_cpr(f"{record.msg} {record.args}")
    if mask_cpr(message) != message:  # the number sits in a non-string argument
        record.msg, record.args = mask_cpr(message), None


def install_cpr_log_filter() -> None:
    """Add the filter to every handler of the root and uvicorn loggers (once per handler)."""
    handlers = [h for name in LOGGERS for h in logging.getLogger(name).handlers]
    if logging.lastResort is not None:  # what prints when no handler is configured
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(f, CprMaskingFilter) for f in handler.filters):
            handler.addFilter(CprMaskingFilter())
