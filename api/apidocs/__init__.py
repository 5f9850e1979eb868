"""What each operation says in spec/openapi.yaml, declared once per resource.

In the manner of Sentry's ``sentry/apidocs``: the views carry one-line decorators named
after their operation, and the prose, the error statuses and the conflict examples live
here, built from the exception classes (``responses.errors``) so they cannot drift from
what the server answers. ``nox -s spec`` regenerates the document from both.
"""
