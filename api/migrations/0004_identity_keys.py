"""Usernames and emails get identity keys (api.identities), held unique by the database
in place of the lower() constraints, which folded ASCII only on SQLite.

Existing rows are keyed here. Accounts that were distinct under lower() but are one
identity under the new keys ("straße" and "STRASSE") cannot both keep their name: the
migration lists them and stops, changing nothing, so an operator can rename one first.
"""

from collections import defaultdict

from django.db import migrations, models

import api.models

from api.identities import identity_key, skeleton


def key_existing_accounts(apps, schema_editor):
    User = apps.get_model("api", "User")
    by_username, by_email = defaultdict(list), defaultdict(list)
    for user in User.objects.only("pk", "username", "email").iterator():
        by_username[identity_key(user.username)].append(user)
        if user.email:
            by_email[identity_key(user.email)].append(user)
    conflicts = [
        f"{what} {key!r}: " + ", ".join(f"id {u.pk} ({getattr(u, what)!r})" for u in users)
        for what, groups in (("username", by_username), ("email", by_email))
        for key, users in groups.items()
        if len(users) > 1
    ]
    if conflicts:
        raise RuntimeError(
            "These accounts are one identity under the new keys; rename or merge them, "
            "then migrate again:\n  " + "\n  ".join(conflicts)
        )
    for key, (user,) in by_username.items():
        email_key = identity_key(user.email) if user.email else None
        User.objects.filter(pk=user.pk).update(
            username_key=key, username_skeleton=skeleton(user.username), email_key=email_key
        )


class Migration(migrations.Migration):
    dependencies = [("api", "0003_sessions_and_cache")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_key",
            field=models.CharField(editable=False, max_length=1000, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="email_key",
            field=models.CharField(editable=False, max_length=1000, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="username_skeleton",
            field=models.CharField(editable=False, max_length=1000, default=""),
            preserve_default=False,
        ),
        migrations.RunPython(key_existing_accounts, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="username_key",
            field=models.CharField(editable=False, max_length=1000, unique=True),
        ),
        migrations.AlterField(
            model_name="user",
            name="email_key",
            field=models.CharField(editable=False, max_length=1000, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="user",
            name="username_skeleton",
            field=models.CharField(db_index=True, editable=False, max_length=1000),
        ),
        migrations.RemoveConstraint(model_name="user", name="user_username_ci_unique"),
        migrations.RemoveConstraint(model_name="user", name="user_email_ci_unique"),
        migrations.AlterModelManagers(
            name="user",
            managers=[("objects", api.models.UserManager())],
        ),
    ]
