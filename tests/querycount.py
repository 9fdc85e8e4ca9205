"""Count the SQL statements something sends to the database, for query-budget tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

# Statements that only open or close a transaction. SQLite sends BEGIN IMMEDIATE through
# the cursor at the start of every transaction (tracker/db.py); PostgreSQL's driver
# begins implicitly and sends nothing we can see.
_TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


@dataclass
class StatementLog:
    """Every statement sent while counting, in order, with nothing left out."""

    statements: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)

    @property
    def queries(self) -> list[str]:
        """The statements that read or write data (all of them but transaction control)."""
        return [s for s in self.statements if not _TRANSACTION_CONTROL.match(s)]

    def report(self) -> str:
        """The statements, numbered, for an assertion message."""
        return "\n".join(
            f"{number}. {' '.join(statement.split())[:300]}"
            for number, statement in enumerate(self.statements, start=1)
        )


@contextmanager
def count_statements(engine: Engine) -> Iterator[StatementLog]:
    """Record every statement executed on the engine inside the block.

    Uses SQLAlchemy's `before_cursor_execute` event, which sees every statement that
    goes through the engine: ORM queries, lazy loads, flushes, `exec_driver_sql`.
    """
    log = StatementLog()

    def record(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        log.statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", record)
