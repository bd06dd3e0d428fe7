"""Riding out a database restart: a store call that fails because the connection dropped (PostgreSQL restarted,
failed over, or is briefly refusing connections) is run again, as a whole new transaction, until a deadline.

Why it is safe: every public store call is one short transaction, so a dropped one was rolled back by the server
and running it again is the same as running it once. The one window it cannot see is a commit that reached the
server while its acknowledgement was lost; the rerun then finds the work done and answers as for a second caller
(a claim taken by nobody expires and is re-queued; a second ``complete`` raises LeaseLost; a second
``add_design`` raises DuplicateDesign). Pooled connections that died while idle never get this far:
``pool_pre_ping`` (engine.py) replaces them at checkout.
"""
from __future__ import annotations

import functools
import inspect
import logging
import threading
import time

from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

RECONNECT_S = 60.0        # how long a call keeps trying while the database is away
FIRST_WAIT_S, MAX_WAIT_S = 0.1, 2.0
# PostgreSQL states of a connection the server ended or refused: admin_shutdown, crash_shutdown,
# cannot_connect_now (starting up or shutting down).
DISCONNECT_STATES = {"57P01", "57P02", "57P03"}
_inside = threading.local()


def is_disconnect(exc: BaseException) -> bool:
    """A dropped or refused connection (retry), as opposed to an error of the statement itself (raise)."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", "no-state")
    # psycopg: a connection that could not be made at all has no SQLSTATE (the server never answered)
    return type(exc.orig).__name__ == "OperationalError" and state is None or state in DISCONNECT_STATES


def retry_on_disconnect(method, reconnect_s: float = RECONNECT_S):
    """Wrap a store method: rerun it on a dropped connection until ``reconnect_s`` has passed. A call made from
    inside another wrapped call is not retried on its own (the outer call retries the whole)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if getattr(_inside, "active", False):
            return method(self, *args, **kwargs)
        deadline, wait = time.monotonic() + reconnect_s, FIRST_WAIT_S
        _inside.active = True
        try:
            while True:
                try:
                    return method(self, *args, **kwargs)
                except DBAPIError as exc:
                    if not is_disconnect(exc) or time.monotonic() + wait > deadline:
                        raise
                    log.warning("store %s: connection lost (%s); retrying in %.1f s", method.__name__,
                                str(exc.orig).splitlines()[0] if exc.orig else exc, wait)
                    time.sleep(wait)
                    wait = min(2 * wait, MAX_WAIT_S)
        finally:
            _inside.active = False

    return wrapper


def retry_public_methods(cls):
    """Class decorator: every public plain method the class defines or inherits retries on a dropped connection
    (not ``close``, class methods or properties)."""
    for name in dir(cls):
        if name.startswith("_") or name == "close":
            continue
        raw = next(k.__dict__[name] for k in cls.__mro__ if name in k.__dict__)
        if inspect.isfunction(raw):
            setattr(cls, name, retry_on_disconnect(raw))
    return cls
