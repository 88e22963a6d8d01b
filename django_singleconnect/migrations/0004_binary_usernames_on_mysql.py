"""
On MariaDB and MySQL, compare the usernames of the counters byte for byte.

Their default collations ignore case, accents and trailing spaces, so "gökhan" would find
the row of "gokhan" (and "vic " that of "vic"): two Single Connect users would share a
lockout and a code budget, and a right code for one would clear the other's wrong codes.
The names are already normalised (``identity.counter_key``); the database must not fold
them further. PostgreSQL and SQLite compare exactly already: nothing to do there. The
model state does not change, so this migration only runs SQL on MySQL-family databases.
"""

from typing import Any

from django.db import migrations

TABLES = ("AttemptCounter", "CodeBudget")


# Only MySQL-family databases run the SQL below: the suite on MariaDB (.ci/run, without
# coverage) tests it, through tests/test_identity.py; the coverage run on PostgreSQL cannot.
def _binary_collation(schema_editor: Any, charset: str) -> str:  # pragma: no cover
    connection = schema_editor.connection
    if connection.mysql_is_mariadb:
        wanted = [f"{charset}_nopad_bin", f"{charset}_bin"]
    else:
        wanted = [f"{charset}_0900_bin", f"{charset}_bin"]
    with connection.cursor() as cursor:
        for name in wanted:
            cursor.execute(
                "SELECT 1 FROM information_schema.COLLATIONS WHERE COLLATION_NAME = %s", [name]
            )
            if cursor.fetchone():
                return name
    return f"{charset}_bin"


def binary_usernames(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor != "mysql":
        return
    _alter_usernames(apps, schema_editor)


def _alter_usernames(apps: Any, schema_editor: Any) -> None:  # pragma: no cover
    connection = schema_editor.connection
    quote = schema_editor.quote_name
    for model_name in TABLES:
        model = apps.get_model("django_singleconnect", model_name)
        field = model._meta.get_field("username")
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT CHARACTER_SET_NAME FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s",
                [table, field.column],
            )
            (charset,) = cursor.fetchone()
        collation = _binary_collation(schema_editor, charset)
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} MODIFY {quote(field.column)} "
            f"{field.db_type(connection)} CHARACTER SET {charset} COLLATE {collation} NOT NULL"
        )


class Migration(migrations.Migration):
    # MySQL cannot roll DDL back, and Django refuses DDL inside a transaction there.
    atomic = False

    dependencies = [
        ("django_singleconnect", "0003_audit_changes"),
    ]

    operations = [
        migrations.RunPython(binary_usernames, migrations.RunPython.noop, elidable=False),
    ]
