"""A tiny generic registry: engines register by name with a decorator and load lazily."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Name → factory. Factories are called on first ``get`` and the instance is cached."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[[], T]] = {}
        self._instances: dict[str, T] = {}

    def register(self, name: str) -> Callable[[Callable[[], T]], Callable[[], T]]:
        """Decorator: ``@engines.register("piper")`` on a class or a zero-argument factory."""

        def decorate(factory: Callable[[], T]) -> Callable[[], T]:
            self._factories[name] = factory
            return factory

        return decorate

    def get(self, name: str) -> T:
        """The instance registered as ``name``; ``KeyError`` naming the known ones otherwise."""
        if name not in self._instances:
            if name not in self._factories:
                known = ", ".join(sorted(self._factories)) or "none"
                raise KeyError(f"unknown {self.kind} {name!r} (known: {known})")
            self._instances[name] = self._factories[name]()
        return self._instances[name]

    def names(self) -> list[str]:
        return sorted(self._factories)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._factories
