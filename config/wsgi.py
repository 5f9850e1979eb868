import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from api.rest.wsgi import ChunkedBodyMiddleware

application = ChunkedBodyMiddleware(get_wsgi_application())
