"""Iterators over list endpoints that follow ``next_token`` page by page, lazily."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Generic, TypeVar

from twinstudio.client._models import Page

__all__ = ["AsyncPaginator", "Paginator"]

T = TypeVar("T")


class Paginator(Generic[T]):
    """``for item in paginator`` walks every page; ``pages()`` yields the pages themselves.

    Nothing is fetched until iteration starts, and each page only when the previous is used up.
    """

    def __init__(self, fetch: Callable[[str | None], Page[T]], token: str | None = None) -> None:
        self._fetch = fetch
        self._token = token

    def pages(self) -> Iterator[Page[T]]:
        """Every page in order, starting from the token given (or the first)."""
        token = self._token
        while True:
            page = self._fetch(token)
            yield page
            if not page.has_more or not page.next_token:
                return
            token = page.next_token

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.data

    def first_page(self) -> Page[T]:
        """Only the first page."""
        return self._fetch(self._token)


class AsyncPaginator(Generic[T]):
    """``async for item in paginator`` walks every page; ``pages()`` yields the pages."""

    def __init__(
        self, fetch: Callable[[str | None], Awaitable[Page[T]]], token: str | None = None
    ) -> None:
        self._fetch = fetch
        self._token = token

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Every page in order, starting from the token given (or the first)."""
        token = self._token
        while True:
            page = await self._fetch(token)
            yield page
            if not page.has_more or not page.next_token:
                return
            token = page.next_token

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.data:
                yield item

    async def first_page(self) -> Page[T]:
        """Only the first page."""
        return await self._fetch(self._token)
