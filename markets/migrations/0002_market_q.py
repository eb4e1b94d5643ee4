"""Markets get n outcomes: the outstanding shares become one vector, ``Market.q``.

This migration adds the vector and copies every market's (q_yes, q_no) into it; the next drops
the two columns. Two migrations, so that on PostgreSQL no table is altered in the transaction
that rewrote its rows. Backwards, a binary market's vector goes back into q_yes and q_no; a
market with more outcomes has no such columns to go to, and stops the migration.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

import markets.models


def vectors_from_columns(apps: Any, schema_editor: Any) -> None:
    Market = apps.get_model("markets", "Market")
    for pk, q_yes, q_no in Market.objects.values_list("pk", "q_yes", "q_no").iterator():
        Market.objects.filter(pk=pk).update(q=[q_yes, q_no])


def columns_from_vectors(apps: Any, schema_editor: Any) -> None:
    Market = apps.get_model("markets", "Market")
    wider = [pk for pk, q in Market.objects.values_list("pk", "q") if q is not None and len(q) != 2]
    if wider:
        raise RuntimeError(
            f"Markets {wider} have more than two outcomes: q_yes and q_no cannot hold them."
        )
    for pk, q in Market.objects.values_list("pk", "q").iterator():
        if q is not None:
            Market.objects.filter(pk=pk).update(q_yes=q[0], q_no=q[1])


class Migration(migrations.Migration):
    dependencies = [("markets", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="market",
            name="q",
            field=markets.models.SharesField(
                null=True, help_text="Outstanding shares of each outcome, by index."
            ),
        ),
        migrations.RunPython(vectors_from_columns, columns_from_vectors),
    ]
