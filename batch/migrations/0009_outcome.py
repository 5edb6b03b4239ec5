from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("batch", "0008_pinned_plan"),
    ]

    operations = [
        migrations.AddField(
            model_name="batch",
            name="warned",
            field=models.PositiveIntegerField(default=0),
        ),
        # Batches that already ran: count their items that ended with a warning.
        migrations.RunSQL(
            """
            UPDATE batch_batch b SET warned = t.n
            FROM (
                SELECT batch_id, count(*) AS n FROM batch_batchitem
                WHERE jsonb_typeof(warnings) = 'array' AND jsonb_array_length(warnings) > 0
                GROUP BY batch_id
            ) t
            WHERE t.batch_id = b.id
            """,
            migrations.RunSQL.noop,
        ),
    ]
