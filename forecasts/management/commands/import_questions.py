from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from forecasts.importer import questions_import


class Command(BaseCommand):
    help = (
        "Import a TOML question file (a [source] table and [[questions]]) for any source "
        "document. Idempotent by the stable keys: a second run creates nothing and updates "
        "edited text. A file with any invalid value (each is checked against its column and "
        "the rules) is refused whole, listing every problem, and nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="question files (.toml)")

    def handle(self, *args: Any, **options: Any) -> None:
        for path in options["paths"]:
            if not path.is_file():
                raise CommandError(f"No such question file: {path}")
            try:
                result = questions_import(path=path)
            except ValidationError as error:
                # Nothing was written; every problem in the file is listed, one a line.
                problems = "".join(f"\n  {message}" for message in error.messages)
                raise CommandError(f"{path}: nothing imported:{problems}") from None
            self.stdout.write(
                f"{path}: source {result.source.key!r}: {result.created} created, "
                f"{result.updated} updated, {result.unchanged} unchanged, "
                f"{result.markets_opened} markets opened"
            )
