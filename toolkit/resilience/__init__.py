"""Resilience patterns for service-to-service calls: idempotency keys and circuit breakers.

``toolkit.resilience.idempotency`` holds the Idempotency-Key middleware (ASGI and WSGI)
and its stores; ``toolkit.resilience.breaker`` the circuit breaker. Importing this package
imports neither.
"""

from __future__ import annotations
