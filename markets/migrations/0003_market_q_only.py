"""The share vector replaces q_yes and q_no (filled by 0002); a trade's outcome is an index."""

from __future__ import annotations

from django.db import migrations, models

import markets.models


class Migration(migrations.Migration):
    dependencies = [("markets", "0002_market_q")]

    operations = [
        migrations.AlterField(
            model_name="market",
            name="q",
            field=markets.models.SharesField(
                help_text="Outstanding shares of each outcome, by index."
            ),
        ),
        migrations.RemoveField(model_name="market", name="q_yes"),
        migrations.RemoveField(model_name="market", name="q_no"),
        migrations.AlterField(
            model_name="trade",
            name="outcome",
            field=models.PositiveSmallIntegerField(
                help_text="The outcome's index in its market (binary: 0 YES, 1 NO)."
            ),
        ),
    ]
