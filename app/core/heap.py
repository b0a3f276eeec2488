"""The process's start-up heap, kept out of the garbage collector's full passes.

The service imports a scientific stack (pandas, statsmodels, prophet, SQLAlchemy, pydantic):
some 240 000 container objects that live as long as the process. CPython's full collections
walk every tracked object, so a request that allocates many (the portfolio overview builds
tens of thousands of rows and decimals) paid for several passes over that whole stack, about
a third of its time. Freezing the heap once start-up is over moves those objects to a
permanent generation that collections skip; objects made afterwards are collected as usual.
"""

import gc

_frozen = False


def freeze_startup_heap() -> None:
    """Collect what start-up left behind, then freeze the rest, once per process (test
    processes start many apps: only the first one's heap is frozen)."""
    global _frozen
    if _frozen:
        return
    gc.collect()
    gc.freeze()
    _frozen = True
